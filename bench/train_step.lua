-- Strata's side of the training-step benchmark (bench/run.sh runs it beside
-- bench/torch_train.py): the baseline experiment's iteration (Engstrom's
-- transformer, VGG-19 to relu5_1, content relu4_2 7.5 + style 100 + TV 200,
-- Adam lr 1e-3) on random images, the same steps as lua/strata/train.lua
-- without data loading, logging or checkpoints.
-- usage: bin/strata run bench/train_step.lua --vgg VGG.h5 [--size S] [--batch B] [--steps N] [--depth none]
-- Prints one line "seconds <float>" per training step.
local core = require "strata.core"
local transformer = require "strata.models.transformer"
local vgg19 = require "strata.models.vgg19"
local losses = require "strata.loss"

local opts = { size = "256", batch = "4", steps = "3", depth = "none" }
local i = 1
while i <= #arg do
  local k = arg[i]:match("^%-%-(.+)$")
  if not k or opts[k] == nil and k ~= "vgg" or not arg[i + 1] then
    error("bench/train_step.lua: bad arguments near '" .. tostring(arg[i]) .. "'", 0)
  end
  opts[k] = arg[i + 1]
  i = i + 2
end
if not opts.vgg then error("bench/train_step.lua: --vgg is required (bin/strata weights random vgg19 OUT.h5)", 0) end
-- Hook for the depth-loss cases (FCRN): the loss network and its term go here.
if opts.depth ~= "none" then error("bench/train_step.lua: --depth " .. opts.depth .. " is not implemented yet", 0) end
local size, batch = tonumber(opts.size), tonumber(opts.batch)

local rng = core.rng(1)
local net = transformer.build({})
for _, p in ipairs(net:named_parameters()) do
  if p.name:match("conv%d*%.weight$") then rng:truncated_normal_(p.module.params[p.key], 0, 0.1) end
end
local vgg = vgg19.from_file(opts.vgg, "cpu")

local content = losses.content.new({ weight = 7.5, layer = "relu4_2" })
local style = losses.style.new({ weight = 100 })
local tv = losses.tv.new({ weight = 200 })
local layers = { "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1" }

-- Random "images" in 0..255: the style target once (not timed), then one batch.
local function random_image(n)
  local t = core.empty({ n, 3, size, size }, "cpu")
  rng:uniform_(t)
  return t * 255
end
vgg:train(false)
style:set_target(vgg:features(random_image(1), style:layers()))
local x = random_image(batch)

local params = net:named_parameters()
local m, v = {}, {}
for _, p in ipairs(params) do
  local t = p.module.params[p.key]
  m[p.name], v[p.name] = core.zeros(t:shape(), "cpu"), core.zeros(t:shape(), "cpu")
end

for it = 1, tonumber(opts.steps) do
  local t0 = core.sys.clock()
  net:train(true)
  net:zero_grad()
  local y = net:forward(core.ops.affine(x, 1 / 255, 0))
  vgg:train(false)
  local target = vgg:features(x, { "relu4_2" })
  vgg:train(true)
  local feats = vgg:features(y, layers)
  local total = 7.5 * content:forward(feats, target) + 100 * style:forward(feats) + 200 * tv:forward(y)
  if total ~= total then error("bench/train_step.lua: loss is NaN at step " .. it, 0) end
  local grads = {}
  content:backward(grads)
  style:backward(grads)
  local dy = core.ops.add(vgg:backward(grads), tv:backward())
  net:backward(dy)
  for _, p in ipairs(params) do
    core.ops.adam_step(p.module.params[p.key], p.module.grads[p.key], m[p.name], v[p.name], 1e-3, 0.9, 0.999, 1e-8, it)
  end
  y, target, feats, grads, dy = nil, nil, nil, nil, nil
  collectgarbage() -- free the step's tensors into the caching allocator (see bench/stylize.lua)
  print(string.format("seconds %.6f", core.sys.clock() - t0))
  io.stdout:flush()
end
