-- The FCRN depth network (ResNet-50 + up-projection) against an independent
-- implementation: PyTorch (float64) of the authors' TensorFlow layer sequence
-- on a width/16 network with random, calibrated weights
-- (tests/fixtures/gen_fcrn_fixture.py made both files). Checks the names and
-- shapes of every parameter, the paddings (conv1's symmetric 3, the 'SAME'
-- max pool's asymmetric -inf pad, the up-projection's padded 2x3/3x2/2x2
-- convs), the interleaving, the output ReLU, intermediate layers, the input
-- gradient through the whole network, and the output-size rules.
local strata = require "strata"
local tap = require "strata.tap"
local fcrn = require "strata.models.fcrn"

if not strata.ops.batch_norm then
  tap.ok(false, "strata.ops.batch_norm is missing: lst_open_fcrn_ops (engine/lua/l_fcrn_ops.c) is not registered in l_strata.c")
  tap.done()
end

local ref = strata.weights.load("tests/fixtures/fcrn_tiny_ref.h5").params
local net = fcrn.from_file("tests/fixtures/fcrn_tiny.h5")
tap.ok(net.width_div == 16 and net.synthetic, "fixture weights load into a width/16 FCRN (every name and shape)")

local function rel_err(a, b)
  return (a - b):abs():max() / math.max(b:abs():max(), 1e-30)
end
local function shape(t) return table.concat(t:shape(), "x") end

-- ---- forward (evaluation mode) ----
local layers = { "depth", "bn_conv1", "pool1", "res3a_relu", "res5c_relu", "layer1_BN", "layer2x_br1_interleave",
  "layer2x_ReLU", "layer16x_ReLU" }
net:train(false)
local f = net:features(ref.input, layers)
local e = rel_err(f.depth, ref.depth)
tap.ok(shape(f.depth) == "1x1x32x48" and e < 1e-4, string.format("depth map [1,1,32,48] matches (rel err %.2g)", e))
for i = 2, #layers do
  local l = layers[i]
  e = rel_err(f[l], ref["feat_" .. l])
  tap.ok(e < 1e-4 and shape(f[l]) == shape(ref["feat_" .. l]),
    string.format("%s %s matches (rel err %.2g)", l, shape(f[l]), e))
end
tap.ok(rel_err(net:forward(ref.input), ref.depth) < 1e-4, "forward(x) is the depth map")
tap.ok(f.depth:min() == 0 and f.depth:max() > 1, "the output passes through ConvPred's ReLU (zeros, no negatives)")

local d2 = net:forward(ref.input2)
e = rel_err(d2, ref.depth2)
tap.ok(shape(d2) == "1x1x32x32" and e < 1e-4,
  string.format("50x42 input (odd sizes: pool pads 1/1, stride 2 on odd maps): depth matches (rel err %.2g)", e))

-- Features are never modified afterwards: the pre-ReLU sum keeps its negatives.
local g = net:features(ref.input, { "res2a", "res2a_relu", "drop", "ConvPred", "depth" })
tap.ok(g.res2a:min() < 0 and g.res2a_relu:min() == 0, "res2a (the sum) keeps negative values next to res2a_relu")
tap.ok(rel_err(g.drop, f.layer16x_ReLU) == 0 and g.ConvPred == g.depth, "aliases: drop = layer16x_ReLU, depth = ConvPred")

-- ---- backward: d sum(depth * R) / d input ----
tap.raises(function() net:backward({ depth = ref.R }) end, { "training mode" },
  "backward after an evaluation-mode forward is an error")
net:train(true)
local t = net:features(ref.input, { "depth" })
tap.ok(rel_err(t.depth, ref.depth) < 1e-4, "training mode computes the same depth map")
local dx = net:backward({ depth = ref.R })
e = rel_err(dx, ref.grad_input)
tap.ok(shape(dx) == "1x3x64x80" and e < 1e-3, string.format("input gradient matches (rel err %.2g)", e))
tap.raises(function() net:backward({ depth = ref.R }) end, { "training mode" }, "a second backward is an error")
t = net:features(ref.input, { "ConvPred" })
tap.ok(rel_err(net:backward({ ConvPred = ref.R }), ref.grad_input) < 1e-3, "gradients may name ConvPred too")

-- Losses on three layers at once: gradients enter at intermediate nodes and
-- add up with the one flowing back from the output.
t = net:features(ref.input, { "depth", "res3a_relu", "layer1_BN" })
dx = net:backward({ depth = ref.R, res3a_relu = ref.S_res3a_relu, layer1_BN = ref.S_layer1_BN })
e = rel_err(dx, ref.grad_input_multi)
tap.ok(e < 1e-3, string.format("input gradient of losses at depth, layer1_BN and res3a_relu together (rel err %.2g)", e))
tap.raises(function()
  net:features(ref.input, { "layer1_BN" })
  net:backward({ depth = ref.R })
end, { "deeper than the last forward" }, "a gradient below the deepest computed layer is an error")

-- ---- layer names ----
tap.raises(function() net:features(ref.input, { "res5c_rleu" }) end, { "fcrn has no layer 'res5c_rleu'", "res5c_relu" },
  "a misspelt layer is an error naming the closest layer")
tap.raises(function() net:features(ref.input, { "dpeth" }) end, { "'depth'" }, "so is a misspelt 'depth'")
tap.raises(function() net:check_layer("layer3x_ReLU") end, { "layer3x_ReLU", "did you mean" }, "check_layer too")

-- ---- output sizes ----
local tiny = fcrn.build({ width_div = 16 })
tiny:train(false)
tap.is(shape(tiny:forward(strata.full({ 1, 3, 228, 304 }, 128))), "1x1x128x160", "304x228 input -> 160x128 depth map")
tap.is(shape(tiny:forward(strata.full({ 2, 3, 256, 256 }, 128))), "2x1x128x128", "256x256 -> 128x128 (batch 2)")
local oh, ow = fcrn.output_size(228, 304)
tap.ok(oh == 128 and ow == 160, "output_size(228, 304) = 128, 160")
oh, ow = fcrn.output_size(50, 42)
tap.ok(oh == 32 and ow == 32, "output_size(50, 42) = 32, 32 (as the fixture)")
tap.raises(function() fcrn.build({ width_div = 3 }) end, { "width_div" }, "a width_div not dividing 64 is an error")

-- ---- the full-size network's parameters ----
do
  local full = fcrn.build({})
  local learned, stats, n = 0, 0, 0
  for _, p in ipairs(full:named_parameters()) do
    local k = p.module.params[p.key]:numel()
    n = n + 1
    if p.key == "running_mean" or p.key == "running_var" then stats = stats + k else learned = learned + k end
  end
  tap.is(n, 394, "394 parameter tensors (conv weights/biases, batch-norm scale/offset/mean/variance)")
  tap.is(learned, 63572737, "63,572,737 learned parameters (the paper's ResNet-UpProj: 63.6M)")
  tap.is(stats, 60928, "plus 60,928 batch-norm statistics")
  local fh = io.open("weights/fcrn_params.txt", "r")
  if fh then
    local listed = {}
    for line in fh:lines() do listed[#listed + 1] = line end
    fh:close()
    local want = fcrn.param_list(full)
    tap.ok(#listed == #want and table.concat(listed, "\n") == table.concat(want, "\n"),
      "weights/fcrn_params.txt lists exactly these names and shapes")
  else
    tap.ok(false, "weights/fcrn_params.txt is missing (it is tracked in the repository)")
  end
  local names = {}
  for _, p in ipairs(full:named_parameters()) do names[p.name] = p.module.params[p.key]:shape() end
  local function is(name, s) return names[name] and table.concat(names[name], ",") == s end
  tap.ok(is("conv1.weight", "64,3,7,7") and is("conv1.bias", "64") and is("bn_conv1.running_var", "64")
    and is("res5c_branch2c.weight", "2048,512,1,1") and names["res2a_branch1.bias"] == nil
    and is("layer1.weight", "1024,2048,1,1") and is("layer1.bias", "1024")
    and is("layer2x_br1_ConvB.weight", "512,1024,2,3") and is("layer2x_br1_ConvC.weight", "512,1024,3,2")
    and is("layer2x_br2_ConvD.weight", "512,1024,2,2") and is("layer16x_Conv.weight", "64,64,3,3")
    and is("layer16x_BN.running_mean", "64") and is("ConvPred.weight", "1,64,3,3") and is("ConvPred.bias", "1"),
    "TensorFlow layer names and OIHW shapes (ConvB 2x3, ConvC 3x2; no biases in the ResNet convs)")
end

-- ---- batch-norm statistics are vetted when loaded ----
do
  local w = strata.weights.load("tests/fixtures/fcrn_tiny.h5")
  w.params["bn_conv1.running_var"]:fill(-1)
  local bad = os.tmpname() .. ".h5"
  strata.weights.save(bad, w)
  tap.raises(function() fcrn.from_file(bad) end, { bad, "bn_conv1.running_var", "var[0] + eps", "must be > 0" },
    "a negative running variance in a weights file is an error naming the file and parameter")
  os.remove(bad)
end

tap.done()
