-- Strata's side of the training-step benchmarks (bench/run.sh on the CPU,
-- bench/gpu_run.sh on a GPU, each beside bench/torch_train.py): the baseline
-- experiment's iteration (Engstrom's transformer, VGG-19 to relu5_1, content
-- relu4_2 7.5 + style 100 + TV 200, Adam lr 1e-3) on random images, the same
-- steps as lua/strata/train.lua without data loading, logging or checkpoints.
-- --depth fcrn adds the paper's depth term: FCRN (weights from --fcrn) on the
-- content batch (target) and the stylized batch, MSE of its "depth" output,
-- weight 200, backward through FCRN into the transformer.
-- usage: bin/strata run bench/train_step.lua --vgg VGG.h5 [--size S] [--batch B] [--steps N]
--          [--depth none|fcrn] [--fcrn FCRN.h5] [--device cpu|cuda] [--probe 1]
-- Prints one line "seconds <float>" per training step (on a GPU the time runs
-- until the step's last Adam update is done). --probe 1 only checks the device:
-- prints "device ok" or "device unavailable: <why>" and exits 0.
local core = require "strata.core"
local transformer = require "strata.models.transformer"
local vgg19 = require "strata.models.vgg19"
local losses = require "strata.loss"

local opts = { size = "256", batch = "4", steps = "3", depth = "none", device = "cpu", probe = "0" }
local i = 1
while i <= #arg do
  local k = arg[i]:match("^%-%-(.+)$")
  if not k or opts[k] == nil and k ~= "vgg" and k ~= "fcrn" or not arg[i + 1] then
    error("bench/train_step.lua: bad arguments near '" .. tostring(arg[i])
      .. "' (--vgg, --fcrn, --size, --batch, --steps, --depth, --device, --probe)", 0)
  end
  opts[k] = arg[i + 1]
  i = i + 2
end
local device = opts.device
if device ~= "cpu" then
  local ok, why = core.sys.cuda_available()
  if opts.probe ~= "0" then
    print(ok and "device ok" or "device unavailable: " .. tostring(why))
    return
  end
  if not ok then error("bench/train_step.lua: device " .. device .. " requested but " .. tostring(why), 0) end
elseif opts.probe ~= "0" then
  print("device ok")
  return
end
if not opts.vgg then error("bench/train_step.lua: --vgg is required (bin/strata weights random vgg19 OUT.h5)", 0) end
if opts.depth ~= "none" and opts.depth ~= "fcrn" then
  error("bench/train_step.lua: --depth must be none or fcrn, got '" .. opts.depth .. "'", 0)
end
if opts.depth == "fcrn" and not opts.fcrn then
  error("bench/train_step.lua: --depth fcrn needs --fcrn FCRN.h5 (bin/strata weights random fcrn OUT.h5)", 0)
end
local size, batch = tonumber(opts.size), tonumber(opts.batch)

local rng = core.rng(1)
local net = transformer.build({ device = device })
for _, p in ipairs(net:named_parameters()) do
  if p.name:match("conv%d*%.weight$") then rng:truncated_normal_(p.module.params[p.key], 0, 0.1) end
end
-- The loss networks in train.lua's order (vgg, then depth), with the layers
-- each reads from the stylized batch and from the content batch (targets).
local nets = { { net = vgg19.from_file(opts.vgg, device), layers = { "relu1_1", "relu2_1", "relu3_1", "relu4_1",
  "relu4_2", "relu5_1" }, targets = { "relu4_2" } } }
local content = losses.content.new({ weight = 7.5, layer = "relu4_2" })
local style = losses.style.new({ weight = 100 })
local tv = losses.tv.new({ weight = 200 })
local depth
if opts.depth == "fcrn" then
  nets[2] = { net = require("strata.models.fcrn").from_file(opts.fcrn, device), layers = { "depth" },
    targets = { "depth" } }
  depth = losses.depth.new({ weight = 200 })
end

-- Random "images" in 0..255 on the device: the style target once (not timed), then one batch.
local function random_image(n)
  local t = core.empty({ n, 3, size, size }, "cpu")
  rng:uniform_(t)
  t = t * 255
  return device == "cpu" and t or t:to(device)
end
local vgg = nets[1].net
vgg:train(false)
style:set_target(vgg:features(random_image(1), style:layers()))
local x = random_image(batch)

local params = net:named_parameters()
local m, v = {}, {}
for _, p in ipairs(params) do
  local t = p.module.params[p.key]
  m[p.name], v[p.name] = core.zeros(t:shape(), t:device()), core.zeros(t:shape(), t:device())
end

for it = 1, tonumber(opts.steps) do
  local t0 = core.sys.clock()
  net:train(true)
  net:zero_grad()
  local y = net:forward(core.ops.affine(x, 1 / 255, 0))
  local feats, targets = {}, {}
  for k, n in ipairs(nets) do
    n.net:train(false)
    targets[k] = n.net:features(x, n.targets)
    n.net:train(true)
    feats[k] = n.net:features(y, n.layers)
  end
  local total = 7.5 * content:forward(feats[1], targets[1]) + 100 * style:forward(feats[1]) + 200 * tv:forward(y)
  if depth then total = total + 200 * depth:forward(feats[2], targets[2]) end
  if total ~= total then error("bench/train_step.lua: loss is NaN at step " .. it, 0) end
  local grads = { {}, {} }
  content:backward(grads[1])
  style:backward(grads[1])
  if depth then depth:backward(grads[2]) end
  local dy = vgg:backward(grads[1])
  if depth then dy = core.ops.add(dy, nets[2].net:backward(grads[2])) end
  dy = core.ops.add(dy, tv:backward())
  net:backward(dy)
  for _, p in ipairs(params) do
    core.ops.adam_step(p.module.params[p.key], p.module.grads[p.key], m[p.name], v[p.name], 1e-3, 0.9, 0.999, 1e-8, it)
  end
  -- Device work is asynchronous: copying the last updated parameter back waits for it all.
  if device ~= "cpu" then local _ = params[#params].module.params[params[#params].key]:to("cpu") end
  y, feats, targets, grads, dy = nil, nil, nil, nil, nil
  collectgarbage() -- free the step's tensors into the caching allocator (see bench/stylize.lua)
  print(string.format("seconds %.6f", core.sys.clock() - t0))
  io.stdout:flush()
end
