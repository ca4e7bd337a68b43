-- VGG-19 as a loss network: the 16 conv layers (3x3, zero pad 1, bias) with
-- ReLU and 2x2 max pooling, ImageNet-pretrained and frozen. Pooling is
-- "same" (TensorFlow padding='SAME', as Engstrom's src/vgg.py: ceil(n/2),
-- padded cells never win) or "floor" (Keras, Torch: floor(n/2)); they differ
-- only on sides that are not multiples of 16, such as style images'.
-- features(x, layers) runs only as deep as the deepest requested layer and
-- returns the requested activations by name (relu1_1 ... relu5_4, conv*, pool*);
-- backward(grads) takes gradients at any of those layers and returns the
-- gradient at the input image. Input: RGB 0..255; the ImageNet mean is
-- subtracted here. Parameter names conv1_1.weight (OIHW), conv1_1.bias, as
-- strata's Keras importer writes them.
local core = require "strata.core"
local nn = require "strata.nn"
local util = require "strata.util"

local M = {}

M.blocks = { { 64, 2 }, { 128, 2 }, { 256, 4 }, { 512, 4 }, { 512, 4 } }
M.mean = { 123.68, 116.779, 103.939 } -- RGB

-- Every layer name, in order (conv1_1, relu1_1, conv1_2, ..., pool5).
function M.layer_names()
  local names = {}
  for b, spec in ipairs(M.blocks) do
    for k = 1, spec[2] do
      names[#names + 1] = string.format("conv%d_%d", b, k)
      names[#names + 1] = string.format("relu%d_%d", b, k)
    end
    names[#names + 1] = "pool" .. b
  end
  return names
end

-- The smallest square input (side in pixels) that reaches layer `name` with
-- pooling `pool` ("same", the default, or "floor"), or nil for an unknown
-- name: the 3x3 convs keep the size (pad 1); a "floor" 2x2 stride-2 pool
-- before the layer (and the layer itself, for a pool) halves it, rounding
-- down, and needs at least 2x2 (relu5_1 needs 16, pool5 32); a "same" pool
-- rounds up, so every layer runs from 1x1.
function M.min_size(name, pool)
  local pools = 0
  local per_pool = (pool or "same") == "same" and 0 or 1
  for b, spec in ipairs(M.blocks) do
    for k = 1, spec[2] do
      if name == string.format("conv%d_%d", b, k) or name == string.format("relu%d_%d", b, k) then return 1 << pools end
    end
    pools = pools + per_pool
    if name == "pool" .. b then return 1 << pools end
  end
  return nil
end

M.pools = { same = "same", floor = 0 } -- vgg.pool -> the MaxPool2d pad

-- opts.width_div divides every width (small networks for tests); opts.device;
-- opts.pool = "same" (default) | "floor".
function M.build(opts)
  opts = opts or {}
  local div = opts.width_div or 1
  local pool = opts.pool or "same"
  if M.pools[pool] == nil then
    util.fail("vgg.pool: expected \"same\" or \"floor\", got %q", tostring(pool))
  end
  local net = { layers = {}, index = {}, type_name = "vgg19", width_div = div, device = opts.device, pool = pool }
  local cin = 3
  for b, spec in ipairs(M.blocks) do
    local width = spec[1] // div
    for k = 1, spec[2] do
      local conv = nn.Conv2d.new(string.format("conv%d_%d", b, k),
        { cin = cin, cout = width, k = 3, stride = 1, padding = 1, bias = true, device = opts.device })
      net.layers[#net.layers + 1] = conv
      net.layers[#net.layers + 1] = nn.ReLU.new(string.format("relu%d_%d", b, k))
      cin = width
    end
    net.layers[#net.layers + 1] = nn.MaxPool2d.new("pool" .. b, { k = 2, stride = 2, pad = M.pools[pool] })
  end
  for i, m in ipairs(net.layers) do net.index[m.name] = i end
  return setmetatable(net, { __index = M })
end

-- The module list as a Sequential-like container (for parameters and loading).
function M:named_parameters()
  local out = {}
  for _, m in ipairs(self.layers) do m:named_parameters(nil, out) end
  return out
end

M.load_weights = nn.Module.load_weights
M.state = nn.Module.state

function M:train(on)
  for _, m in ipairs(self.layers) do m:train(on) end
  return self
end

function M:check_layer(name)
  if not self.index[name] then
    local names = {}
    for _, m in ipairs(self.layers) do names[#names + 1] = m.name end
    local near = util.closest(name, names)
    util.fail("vgg19 has no layer '%s'%s", name, near and (" (did you mean '" .. near .. "'?)") or "")
  end
  return self.index[name]
end

-- Mean-subtracted input; the mean image is cached per shape.
function M:preprocess(x)
  local key = table.concat(x:shape(), "x") .. x:device()
  if self.mean_key ~= key then
    local m = core.empty(x:shape(), "cpu")
    local n, _, h, w = x:size(1), x:size(2), x:size(3), x:size(4)
    local plane = h * w
    local flat = m:view({ n * 3 * plane })
    for i = 0, n * 3 - 1 do
      local v = -M.mean[i % 3 + 1]
      flat:narrow(i * plane + 1, plane):fill(v)
    end
    self.mean_img = x:device() == "cpu" and m or m:to(x:device())
    self.mean_key = key
  end
  return core.ops.add(x, self.mean_img)
end

-- Activations at `layers` (a list of names); training mode keeps what backward needs.
function M:features(x, layers)
  local want, deepest = {}, 0
  for _, name in ipairs(layers) do
    local i = self:check_layer(name)
    want[name] = true
    deepest = math.max(deepest, i)
  end
  local out = {}
  local h = self:preprocess(x)
  -- Each map nobody asked for is freed as soon as the next layer has read it
  -- (in training mode the layers that need it for backward keep a handle).
  for i = 1, deepest do
    local m = self.layers[i]
    -- A requested conv output must survive its ReLU, which is otherwise in
    -- place (saves one activation per layer when only relu* are asked for).
    local prev = self.layers[i - 1]
    local kept = prev ~= nil and want[prev.name] == true
    local y = m:forward(h, kept)
    if not kept and not rawequal(y, h) then h:free() end
    h = y
    if want[m.name] then out[m.name] = h end
  end
  self.deepest = deepest
  return out
end

-- grads: layer name -> gradient of the loss at that layer's output.
-- Each intermediate gradient is freed once read; grads stay the caller's.
function M:backward(grads)
  local d
  for i = self.deepest, 1, -1 do
    local m = self.layers[i]
    local g = grads[m.name]
    if g and d then
      local s = core.ops.add(d, g)
      d:free()
      d = s
    elseif g then
      d = g:ref()
    end
    if d then
      local dx = m:backward(d)
      if not rawequal(dx, d) then d:free() end
      d = dx
    end
  end
  return d -- the mean subtraction passes gradients through unchanged
end

-- Loads a strata VGG-19 weights file; the network's widths come from it.
-- opts.pool: as in build (the experiment's vgg table is such an opts).
function M.from_file(path, device, opts)
  local pool = opts and opts.pool
  local w = core.weights.load(path)
  if w.attrs.network and w.attrs.network ~= "vgg19" then
    util.fail("%s: holds a '%s' network, expected vgg19", path, w.attrs.network)
  end
  local first = w.params["conv1_1.weight"]
  if not first then util.fail("%s: missing parameter 'conv1_1.weight' (not a VGG-19 weights file?)", path) end
  -- The widths come from the file: check them before building anything.
  local c = first:dim() == 4 and first:size(1) or 0
  if c < 1 or c > 64 or 64 % c ~= 0 then
    util.fail("%s: parameter 'conv1_1.weight' has shape %s; expected [C, 3, 3, 3] with C = 64 or 64 divided by a "
      .. "power of two", path, util.shape_str(first:shape()))
  end
  local net = M.build({ width_div = 64 // c, device = device, pool = pool })
  net:load_weights(w)
  net.synthetic = w.attrs.synthetic == "true"
  net.source = w.attrs.source or path
  return net
end

return M
