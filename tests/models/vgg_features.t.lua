-- VGG-19 features against an independent implementation (PyTorch float64,
-- tests/fixtures/gen_vgg_features_fixture.py) on a 21x27 image, odd sides:
--  * every conv* layer asked for together with deeper layers is its value
--    before the ReLU (the in-place ReLU once overwrote it, issue 12 §6);
--  * vgg.pool "same" (TensorFlow padding='SAME', Engstrom's VGG: ceil(n/2))
--    and "floor" (Keras) give the reference's relu*_1 maps and shapes;
--  * the style layers of a 514x928 image (wave.jpg) have 129/65/33 rows with
--    "same", 128/64/32 with "floor";
--  * backward with a conv* and a deeper layer requested matches finite
--    differences.
local strata = require "strata"
local tap = require "strata.tap"
local vgg19 = require "strata.models.vgg19"

local fx = strata.weights.load("tests/fixtures/vgg19_tiny_features.h5").params
local w = strata.weights.import_keras_vgg19("tests/fixtures/vgg19_tiny_keras.h5")

local function rel_err(a, b)
  return (a - b):abs():max() / math.max(b:abs():max(), 1e-30)
end

local function net_for(pool)
  local net = vgg19.build({ width_div = 16, pool = pool })
  net:load_weights(w)
  net:train(false)
  return net
end

local convs = {}
for b, spec in ipairs(vgg19.blocks) do
  for k = 1, spec[2] do convs[#convs + 1] = { b = b, k = k, name = string.format("conv%d_%d", b, k) } end
end

for _, pool in ipairs({ "same", "floor" }) do
  local net = net_for(pool)
  -- §6: each conv with its own ReLU and the deepest style layer; the ReLU
  -- right after the conv is the case the in-place ReLU got wrong.
  for _, c in ipairs(convs) do
    local relu = string.format("relu%d_%d", c.b, c.k)
    local ref = fx[pool .. "_" .. c.name]
    tap.ok(ref:min() < 0, string.format("%s %s: the reference has negative values (so a ReLU'd value differs)",
      pool, c.name))
    local f = net:features(fx.image, { c.name, relu, "relu5_1" })
    local e = rel_err(f[c.name], ref)
    tap.ok(e < 1e-4, string.format("%s: %s asked with %s and relu5_1 is the pre-ReLU value (rel err %.2e)",
      pool, c.name, relu, e))
    local alone = net:features(fx.image, { c.name })[c.name]
    tap.ok(rel_err(alone, ref) < 1e-4, string.format("%s: %s asked alone matches too", pool, c.name))
  end
  -- §3: the style layers under this pooling.
  local f = net:features(fx.image, { "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1" })
  for b = 1, 5 do
    local name = string.format("relu%d_1", b)
    local ref = fx[pool .. "_" .. name]
    tap.is(table.concat(f[name]:shape(), "x"), table.concat(ref:shape(), "x"),
      string.format("%s: %s shape as the reference", pool, name))
    if f[name]:numel() == ref:numel() then
      local e = rel_err(f[name], ref)
      tap.ok(e < 1e-4, string.format("%s: %s matches the reference (rel err %.2e)", pool, name, e))
    else
      tap.ok(false, string.format("%s: %s matches the reference (shapes differ)", pool, name))
    end
  end
end

-- The default is the paper's pooling.
tap.is(vgg19.build({ width_div = 64 }).pool, "same", "vgg19.build pools 'same' by default")
tap.raises(function() vgg19.build({ width_div = 64, pool = "ceil" }) end, { "vgg.pool", "same", "floor", "ceil" },
  "an unknown vgg.pool is an error naming the key and the choices")

-- The experiment key vgg.pool reaches the loss network.
do
  local experiment = require "strata.experiment"
  local networks = require "strata.loss.networks"
  tap.is(experiment.defaults().vgg.pool, "same", "experiment default vgg.pool = \"same\" (the paper's code)")
  local path = os.tmpname()
  strata.weights.save(path, w)
  local spec = experiment.defaults().vgg
  spec.weights = path
  tap.is(networks.load("vgg", spec, "cpu").pool, "same", "the loss network pools as vgg.pool says: same")
  spec.pool = "floor"
  tap.is(networks.load("vgg", spec, "cpu").pool, "floor", "the loss network pools as vgg.pool says: floor")
  os.remove(path)
end

-- wave.jpg is 928 wide, 514 tall: rows 514 -> 257 -> 129 -> 65 -> 33 with SAME.
do
  local x = strata.full({ 1, 3, 514, 928 }, 100)
  local want = {
    same = { relu3_1 = "129x232", relu4_1 = "65x116", relu5_1 = "33x58" },
    floor = { relu3_1 = "128x232", relu4_1 = "64x116", relu5_1 = "32x58" },
  }
  for _, pool in ipairs({ "same", "floor" }) do
    local net = vgg19.build({ width_div = 64, pool = pool })
    net:train(false)
    local f = net:features(x, { "relu3_1", "relu4_1", "relu5_1" })
    for _, name in ipairs({ "relu3_1", "relu4_1", "relu5_1" }) do
      tap.is(f[name]:size(3) .. "x" .. f[name]:size(4), want[pool][name],
        string.format("514x928 image, %s pooling: %s is %s", pool, name, want[pool][name]))
    end
  end
end

-- Backward with conv3_1 (pre-ReLU) and relu3_2 requested, SAME pooling:
-- L = sum(conv3_1 * a) + sum(relu3_2 * b), central differences at single
-- pixels (ReLU and max kinks: the best of three steps must agree).
do
  local net = net_for("same")
  local rng = strata.rng(5)
  local x = fx.image:clone()
  local layers = { "conv3_1", "relu3_2" }
  local f0 = net:features(x, layers)
  local a = rng:normal_(strata.empty(f0.conv3_1:shape()), 0, 1)
  local bw = rng:normal_(strata.empty(f0.relu3_2:shape()), 0, 1)
  local function loss()
    local f = net:features(x, layers)
    return (f.conv3_1 * a):sum() + (f.relu3_2 * bw):sum()
  end
  net:train(true)
  net:features(x, layers)
  local dx = net:backward({ conv3_1 = a, relu3_2 = bw })
  net:train(false)
  local flat, gflat = x:view({ x:numel() }), dx:view({ dx:numel() })
  local worst = 0
  for _, i in ipairs({ 1, 27, 300, 566, 1000, 1701 }) do
    local v, ana, best = flat:get(i), gflat:get(i), math.huge
    for _, eps in ipairs({ 0.3, 0.1, 0.03 }) do
      flat:set(v + eps, i)
      local lp = loss()
      flat:set(v - eps, i)
      local lm = loss()
      flat:set(v, i)
      best = math.min(best, math.abs((lp - lm) / (2 * eps) - ana) / math.max(math.abs(ana), 0.1))
    end
    worst = math.max(worst, best)
  end
  tap.ok(worst < 2e-2, string.format("backward through a requested conv3_1 and relu3_2 matches finite differences "
    .. "(worst rel err %.2e)", worst))
end

tap.done()
