-- Training-step benchmark: one full iteration of the paper's training
-- (transformer forward, VGG-19 content and style features of the batch,
-- content + style + TV losses, backward through VGG-19 and the transformer,
-- Adam on every parameter) at batch 4, 256x256, by default on device cuda.
-- usage: bin/strata run bench/gpu_train.lua [--device cuda] [--batch 4] [--size 256] [--iterations 20]
-- Prints one line "seconds <float>" per iteration; the first includes cuDNN's
-- algorithm search and the allocator's warm-up, so drop it when averaging.
-- Weights and images are random (timing does not depend on their values).
local strata = require "strata"
local transformer = require "strata.models.transformer"
local vgg19 = require "strata.models.vgg19"
local losses = require "strata.loss"

local opts = { device = "cuda", batch = "4", size = "256", iterations = "20" }
local i = 1
while i <= #arg do
  local k = arg[i]:match("^%-%-(.+)$")
  if not k or opts[k] == nil or not arg[i + 1] then
    error("bench/gpu_train.lua: bad argument near '" .. tostring(arg[i])
      .. "' (--device, --batch, --size, --iterations)", 0)
  end
  opts[k] = arg[i + 1]
  i = i + 2
end
local device, batch, size, iters = opts.device, tonumber(opts.batch), tonumber(opts.size), tonumber(opts.iterations)
if device ~= "cpu" then
  local ok, why = strata.sys.cuda_available()
  if not ok then error("bench/gpu_train.lua: device " .. device .. " requested but " .. why, 0) end
end

local rng = strata.rng(1)
local function randomize(params, std)
  for _, p in ipairs(params) do
    local t = p.module.params[p.key]
    if p.key == "weight" and t:dim() == 4 then rng:truncated_normal_(t, 0, std) end
  end
end

local net = transformer.build({ device = device })
local vgg = vgg19.build({ device = device })
randomize(net:named_parameters(), 0.1)
randomize(vgg:named_parameters(), 0.02)

local content = losses.content.new({ weight = 7.5, layer = "relu4_2" })
local style = losses.style.new({ weight = 100 })
local tv = losses.tv.new({ weight = 200 })
local style_img = strata.empty({ 1, 3, size, size }, "cpu")
rng:uniform_(style_img, 0, 255)
vgg:train(false)
style:set_target(vgg:features(style_img:to(device), style:layers()))

local params = net:named_parameters()
local m, v = {}, {}
for _, p in ipairs(params) do
  local t = p.module.params[p.key]
  m[p.name] = strata.zeros(t:shape(), t:device())
  v[p.name] = strata.zeros(t:shape(), t:device())
end
local style_layers = style:layers()
local layers = { "relu4_2" }
for _, l in ipairs(style_layers) do layers[#layers + 1] = l end

local host_batch = strata.empty({ batch, 3, size, size }, "cpu")
for it = 1, iters do
  rng:uniform_(host_batch, 0, 255)
  local t0 = strata.sys.clock()
  local x = device == "cpu" and host_batch or host_batch:to(device)
  net:train(true)
  net:zero_grad()
  local y = net:forward(strata.ops.affine(x, 1 / 255, 0))
  vgg:train(false)
  local target = vgg:features(x, { "relu4_2" })
  vgg:train(true)
  local feats = vgg:features(y, layers)
  local total = content.weight * content:forward(feats, target) + style.weight * style:forward(feats)
    + tv.weight * tv:forward(y)
  local grads = {}
  content:backward(grads)
  style:backward(grads)
  local dy = strata.ops.add(vgg:backward(grads), tv:backward())
  net:backward(dy)
  for _, p in ipairs(params) do
    strata.ops.adam_step(p.module.params[p.key], p.module.grads[p.key], m[p.name], v[p.name], 1e-3, 0.9, 0.999, 1e-8,
      it)
  end
  -- Device work is asynchronous: copying a parameter back waits for it all.
  local _ = params[#params].module.params[params[#params].key]:to("cpu")
  print(string.format("seconds %.6f", strata.sys.clock() - t0))
  if total ~= total then error("bench/gpu_train.lua: the loss is NaN at iteration " .. it, 0) end
  io.stdout:flush()
end
