-- strata.experiment_check: a rule for every key; the networks' minimum image
-- sizes it uses are the real ones (the size runs, one pixel less does not);
-- integral floats become integers; the experiment files shipped pass; --set
-- table literals run under a budget; error texts (tables, internal positions).
local strata = require "strata"
local tap = require "strata.tap"
local experiment = require "strata.experiment"
local check = require "strata.experiment_check"
local eval = require "strata.eval"
local util = require "strata.util"
local vgg19 = require "strata.models.vgg19"
local transformer = require "strata.models.transformer"
local fcrn = require "strata.models.fcrn"

-- 1. Every key of the defaults has a rule, and every rule a key.
local function leaf_keys(t, prefix, out)
  out = out or {}
  for k, v in pairs(t) do
    local key = prefix and (prefix .. "." .. k) or k
    if type(v) == "table" and #v == 0 and next(v) ~= nil then leaf_keys(v, key, out) else out[key] = true end
  end
  return out
end
for name, pair in pairs({ experiment = { experiment.defaults(), check.experiment },
  eval = { eval.defaults(), check.eval } }) do
  local keys, missing, extra = leaf_keys(pair[1]), {}, {}
  for k in pairs(keys) do
    -- loss.<term>.* are checked per term (check.loss_terms, below)
    if not pair[2][k] and not (name == "experiment" and k:match("^loss%.")) then missing[#missing + 1] = k end
  end
  for k in pairs(pair[2]) do if not keys[k] then extra[#extra + 1] = k end end
  tap.ok(#missing == 0, name .. ": every default key has a rule")
  if #missing > 0 then tap.diag("no rule: %s", table.concat(missing, ", ")) end
  tap.ok(#extra == 0, name .. ": every rule names a default key")
  if #extra > 0 then tap.diag("no such key: %s", table.concat(extra, ", ")) end
end

-- 2. The minimum sizes are the networks' real ones.
local function runs(f) return (pcall(f)) end
for _, pool in ipairs({ "floor", "same" }) do
  local vgg = vgg19.build({ width_div = 64, pool = pool })
  vgg:train(false)
  local vgg_ok = true
  for _, layer in ipairs(vgg19.layer_names()) do
    local m = vgg19.min_size(layer, pool)
    local at = runs(function() vgg:features(strata.zeros({ 1, 3, m, m }), { layer }) end)
    local below = m > 1 and runs(function() vgg:features(strata.zeros({ 1, 3, m - 1, m - 1 }), { layer }) end)
    if not at or below then
      vgg_ok = false
      tap.diag("%s: min_size %d, runs at it: %s, runs one below: %s", layer, m, tostring(at), tostring(below))
    end
  end
  tap.ok(vgg_ok, "VGG-19, " .. pool .. " pooling: every layer runs at its min_size and not one pixel below")
end
tap.is(vgg19.min_size("relu5_1", "floor"), 16, "relu5_1 needs 16x16 with floor pooling")
tap.is(vgg19.min_size("pool5", "same"), 1, "with SAME pooling every layer runs from 1x1")
tap.is(vgg19.min_size("relu9_1"), nil, "an unknown layer has no minimum")

for _, pad in ipairs(transformer.paddings) do
  local net = transformer.build({ channels = { 2, 2, 2 }, blocks = 1, padding = pad })
  net:evaluate()
  local m = transformer.min_side(pad)
  tap.ok(runs(function() net:forward(strata.zeros({ 1, 3, m, m })) end), pad .. ": the transformer runs at " .. m)
  if m > 1 then
    tap.ok(not runs(function() net:forward(strata.zeros({ 1, 3, m - 1, m - 1 })) end), pad .. ": and not at " .. (m - 1))
  end
  local y = net:forward(strata.zeros({ 1, 3, 12, 12 }))
  tap.is(y:size(3), 12, pad .. ": a multiple of " .. transformer.size_multiple .. " keeps its size")
end
local depth = fcrn.build({ width_div = 64 })
depth:train(false)
tap.ok(runs(function() depth:features(strata.zeros({ 1, 3, 1, 1 }), { "depth" }) end), "FCRN runs on a 1x1 image")

local function exp_with(sets) return (experiment.resolve({}, "t", sets)) end
tap.is(check.min_train_size(exp_with({})), 4,
  "default training images (SAME pooling reaches relu5_1 from 1x1): the transformer's 4")
tap.is(check.min_train_size(exp_with({ "vgg.pool=floor" })), 16, "floor pooling: at least 16 (relu5_1)")
tap.is(check.min_train_size(exp_with({ 'loss.style.layers={"relu1_1","relu3_1"}', "loss.content.layer=relu2_2",
  "data.size=32", "vgg.pool=floor" })), 4, "relu3_1 deepest: 4")
tap.is(check.min_train_size(exp_with({ 'loss.style.layers={"relu1_1"}', "loss.content.layer=relu1_1",
  "model.padding=reflect" })), 8, "reflect padding: 8 (a multiple of 4 of at least 5)")
tap.is(check.min_train_size(exp_with({ "loss.style.weight=0", "loss.content.layer=relu1_1" })), 4,
  "no style loss: the content layer alone sets it")

-- 3. Values are normalised; the shipped experiment files pass.
local e = experiment.resolve({ schedule = { iterations = 1e4, log_every = 2.0 } }, "t", { "data.batch=8.0" })
tap.ok(math.type(e.schedule.iterations) == "integer" and e.schedule.iterations == 10000
  and math.type(e.schedule.log_every) == "integer" and math.type(e.data.batch) == "integer",
  "integral floats (1e4, 2.0, --set 8.0) become integers")
for _, f in ipairs({ "experiments/baseline.lua", "experiments/paper.lua", "experiments/demo.lua",
  "experiments/depth_edges.lua", "tests/e2e/tiny.lua" }) do
  tap.ok(pcall(experiment.resolve, dofile(f), f, {}), f .. " passes the checks")
end
tap.ok(pcall(check.eval_values, experiment.merge_checked(eval.defaults(), dofile("experiments/depth_l2.lua"), "d")),
  "experiments/depth_l2.lua passes the checks")
tap.ok(pcall(check.eval_values, experiment.merge_checked(eval.defaults(), { images = { "a.png", "b.jpg" } }, "d")),
  "eval: images may be a list of files")
tap.raises(function() check.eval_values(experiment.merge_checked(eval.defaults(), { images = { "a.png", 3 } }, "d")) end,
  { "images: expected a folder of images, or a non-empty list of image paths" }, "eval: a list entry that is no path")
tap.raises(function() experiment.resolve({ schedule = { log_every = 0 } }, "exp.lua", {}) end,
  { "schedule.log_every: expected an integer >= 1, got 0 (set in exp.lua)" }, "a file's value: key, rule, value, file")
tap.raises(function() experiment.resolve({}, "exp.lua", { "optim.lr=-1" }) end,
  { "optim.lr: expected a number > 0", "got -1 (set by --set optim.lr=-1)" }, "a --set value names the --set")
tap.raises(function() experiment.resolve({ loss = { content = { weight = 0 }, style = { weight = 0 }, tv = { weight = 0 } } }, "e", {}) end,
  { "is 0: nothing to train" }, "every loss weight 0 is an error")
for name in pairs(experiment.defaults().loss) do
  tap.raises(function() experiment.resolve({}, "e", { "loss." .. name .. ".weight=-1" }) end,
    { "loss." .. name .. ".weight: expected a number >= 0, got -1" }, "loss." .. name .. ".weight -1 is refused")
end
tap.raises(function() experiment.resolve({}, "e", { "loss.depth.layer=dpth" }) end,
  { "loss.depth.layer: expected a layer of depth (depth.model = \"fcrn\") (did you mean 'depth'?), got \"dpth\"" },
  "a depth layer is one of FCRN's")
tap.raises(function() experiment.resolve({}, "e", { "vgg.model=vgg91" }) end, { "vgg.model: expected a model of strata.models" },
  "an unknown loss-network model")
tap.raises(function() experiment.resolve({}, "e", { 'optim.lr={kind="stpe"}' }) end, { "optim.lr: unknown schedule kind 'stpe'" },
  "a schedule table is checked up front")
tap.ok(pcall(experiment.resolve, { optim = { lr = { kind = "step", base = 1e-3, every = 10, gamma = 0.5 } } }, "e", {}),
  "a step schedule passes")
tap.raises(function() experiment.resolve({ schedule = { iterations = 0, epochs = 0 } }, "e", {}) end,
  { "schedule.epochs: expected an integer >= 1 when schedule.iterations is 0" }, "no iterations and no epochs")
tap.raises(function() experiment.resolve({}, "e", { "seed=1.5" }) end, { "seed: expected an integer, got 1.5" }, "a fractional seed")
tap.raises(function() experiment.resolve({ optim = { eps = 0 / 0 } }, "e", {}) end, { "optim.eps: expected a number > 0, got nan" },
  "NaN is refused")
tap.ok(pcall(experiment.resolve, { optim = { lr = 1e-3 }, device = "cuda:3" }, "e", {}), "lr 1e-3 and cuda:3 pass")
for _, d in ipairs({ "cuda:64", "cuda:-1", "cuda:", "cuda:+1", "gpu", "CPU" }) do
  tap.raises(function() experiment.resolve({ device = d }, "e", {}) end, { "device: expected" }, "device " .. d .. " is refused")
end

-- 4. --set table literals: data under a budget, not a program.
local function set_fails(text, frag, name)
  local t0 = strata.sys.clock()
  tap.raises(function() experiment.resolve({}, "e", { "loss.style.layers=" .. text }) end, { "--set loss.style.layers", frag }, name)
  tap.ok(strata.sys.clock() - t0 < 20, name .. ": fails quickly")
end
set_fails("{(function() while true do end end)()}", "more than 1000000 Lua instructions", "an endless loop")
set_fails('{(function() local s = "x" for _ = 1, 40 do s = s .. s end return s end)()}', "more than 64 MiB",
  "a string-doubling loop")
set_fails('{("x"):rep(1e10)}', "attempt to index a string value", "string methods are not reachable")
set_fails("{print}", "expected a non-empty list, got 0 entries", "no globals (print is nil there)")
tap.is(("x"):rep(3), "xxx", "string methods work again afterwards")
local ok_set, e2 = pcall(experiment.resolve, {}, "e", { 'loss.style.layers={"relu1_1", "relu2_1"}' })
tap.ok(ok_set and e2.loss.style.layers[2] == "relu2_1", "a plain table literal is read")

-- 5. Error texts.
tap.is(util.error_text("/x/bin/../lua/strata/train.lua:281: attempt to perform 'n%%0'"),
  "attempt to perform 'n%%0' (in strata/train.lua:281; STRATA_DEBUG=1 shows the traceback)",
  "an internal position moves to the end")
tap.is(util.error_text("/x/lua/strata/train.lua:281: boom", nil, true), "/x/lua/strata/train.lua:281: boom",
  "with STRATA_DEBUG it stays")
tap.is(util.error_text("exp.lua:3: boom"), "exp.lua:3: boom", "a user file's position stays")
tap.is(util.error_text({ reason = "bad", code = 3, { 1 } }, "exp.lua:2: "),
  'exp.lua:2: error with a table value: { { 1 }, code = 3, reason = "bad" }', "a table error is described")
tap.done()
