-- Strata's side of the training-step benchmarks (bench/run.sh on the CPU,
-- bench/gpu_run.sh on a GPU, each beside bench/torch_train.py): the baseline
-- experiment's iteration (Engstrom's transformer, VGG-19 to relu5_1, content
-- relu4_2 7.5 + style 100 + TV 200, Adam lr 1e-3) on random images: the
-- trainer's own setup and step (lua/strata/train.lua, as `strata run` uses
-- them) without data loading, logging or checkpoints.
-- --depth fcrn adds the paper's depth term: FCRN (weights from --fcrn) on the
-- content batch (target) and the stylized batch, MSE of its "depth" output,
-- weight 200, backward through FCRN into the transformer.
-- usage: bin/strata run bench/train_step.lua --vgg VGG.h5 [--size S] [--batch B] [--steps N]
--          [--depth none|fcrn] [--fcrn FCRN.h5] [--device cpu|cuda] [--probe 1]
-- Prints one line "seconds <float>" per training step (on a GPU the time runs
-- until the step's last Adam update is done). --probe 1 only checks the device:
-- prints "device ok" or "device unavailable: <why>" and exits 0.
local core = require "strata.core"
local experiment = require "strata.experiment"
local train = require "strata.train"

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
local size, batch, steps = tonumber(opts.size), tonumber(opts.batch), tonumber(opts.steps)

-- The baseline experiment's losses and optimiser (the defaults), plus the
-- paper's depth term with --depth fcrn.
local exp = experiment.resolve({
  name = "bench", device = device, data = { size = size, batch = batch },
  vgg = { weights = opts.vgg }, depth = { weights = opts.fcrn or "weights/fcrn.h5" },
  loss = { depth = { weight = opts.depth == "fcrn" and 200 or 0 } },
}, "bench/train_step.lua")

-- Random "images" in 0..255 on the device: the style target once (not timed), then one batch.
local rng = core.rng(1)
local function random_image(n)
  local t = core.empty({ n, 3, size, size }, "cpu")
  rng:uniform_(t)
  t = t * 255
  return device == "cpu" and t or t:to(device)
end
local trainer = train.setup(exp, { device = device, iterations = steps, style_image = random_image(1) })
local x = random_image(batch)

local params = trainer.params
for it = 1, steps do
  local t0 = core.sys.clock()
  local _, total = train.step(trainer, x, it)
  if total ~= total then error("bench/train_step.lua: loss is NaN at step " .. it, 0) end
  -- Device work is asynchronous: copying the last updated parameter back waits for it all.
  if device ~= "cpu" then local _ = params[#params].module.params[params[#params].key]:to("cpu") end
  collectgarbage() -- free the step's tensors into the caching allocator (see bench/stylize.lua)
  print(string.format("seconds %.6f", core.sys.clock() - t0))
  io.stdout:flush()
end
