-- FCRN (Laina et al. 2016, "Deeper Depth Prediction with Fully Convolutional
-- Residual Networks"), ResNet-50 + up-projection, as the depth network of the
-- depth loss: frozen, inference statistics, gradients to the input only.
--
-- Layer by layer the authors' TensorFlow code (tensorflow/models/fcrn.py and
-- network.py of irolaina/FCRN-DepthPrediction), whose names the nodes and
-- parameters keep:
--   conv1 7x7/2 (+bias), bn_conv1 (+ReLU), pool1 3x3/2 max;
--   caffe ResNet-50 stages res2 (a-c), res3 (a-d), res4 (a-f), res5 (a-c):
--     res<s><b>_branch2a 1x1 (stride 2 in res3a/4a/5a), branch2b 3x3,
--     branch2c 1x1, each followed by bn<s><b>_branch2a/b/c (ReLU on a and b);
--     block a adds a projection res<s>a_branch1 1x1 (same stride) + bn<s>a_branch1;
--     res<s><b> = sum, res<s><b>_relu = its ReLU. No biases in these convs.
--   layer1 1x1 2048->1024 (+bias), layer1_BN (no ReLU);
--   up-projections layer2x 1024->512, layer4x ->256, layer8x ->128,
--     layer16x ->64 (strata.nn.upproj);
--   ConvPred 3x3 -> 1 (+bias) followed by a ReLU (the code's conv default
--     relu=True); "depth" names this output, "drop" the identity dropout's.
-- Padding: the code's conv 'SAME' is an explicit symmetric (k-1)/2 zero pad
-- then 'VALID' (conv1: 3 on every side, not TensorFlow's 2/3), the max pool is
-- TensorFlow 'SAME' (pads from the input size, -inf, e.g. 0 before and 1
-- after on even sizes); stride-2 1x1 convs have no pad. Batch norm eps 1e-4.
-- Input: RGB 0..255, no mean subtraction; output [N, 1, H', W'] in metres,
-- H' = 16 * ceil(ceil(ceil(ceil((floor((H-1)/2)+1)/2)/2)/2)/2): 228x304 ->
-- 128x160, 256x256 -> 128x128.
-- Parameter names: "<layer>.weight" (OIHW) and "<layer>.bias" for convs;
-- batch norms "<layer>.weight" (scale), ".bias" (offset), ".running_mean",
-- ".running_var" (TensorFlow's /weights, /biases, /scale, /offset, /mean,
-- /variance).
local core = require "strata.core"
local Graph = require "strata.nn.graph"
local BatchNorm = require "strata.nn.batch_norm"
local PaddedConv2d = require "strata.nn.padded_conv2d"
local MaxPool2d = require "strata.nn.maxpool2d"
local upproj = require "strata.nn.upproj"
local util = require "strata.util"

local M = {}

M.eps = 1e-4
-- {stage, block letters, bottleneck width, output width, first stride}
M.stages = {
  { 2, "abc", 64, 256, 1 },
  { 3, "abcd", 128, 512, 2 },
  { 4, "abcdef", 256, 1024, 2 },
  { 5, "abc", 512, 2048, 2 },
}
M.upprojections = { { "2x", 512 }, { "4x", 256 }, { "8x", 128 }, { "16x", 64 } }

-- TensorFlow 'SAME' max pooling: the pads follow the input size.
local SamePool = setmetatable({ type = "SamePool" }, { __index = MaxPool2d })
SamePool.__index = SamePool
function SamePool.new(name, k, stride)
  local self = MaxPool2d.new(name, { k = k, stride = stride })
  return setmetatable(self, SamePool)
end
function SamePool:forward(x)
  local k, s = self.p.kernel, self.p.stride
  local t, b = core.ops.same_pads(x:size(3), k, s)
  local l, r = core.ops.same_pads(x:size(4), k, s)
  self.p = { kernel = k, stride = s, pad = { t, b, l, r } }
  return MaxPool2d.forward(self, x)
end

-- The smallest square input (side in pixels) that reaches any layer: 1. Every
-- strided layer pads (conv1 by 3, the pool 'SAME', the stride-2 1x1 convs need
-- none) and the up-projections only enlarge, so any image runs.
function M.min_size() return 1 end

-- Every layer name features() accepts (from a tiny network, built once).
local names
function M.layer_names()
  names = names or M.build({ width_div = 64 }):layer_names()
  return names
end

-- The depth map's size for an H x W input.
function M.output_size(h, w)
  local function trunk(n)
    n = (n - 1) // 2 + 1 -- conv1 7x7/2, pad 3
    for _ = 1, 4 do n = (n + 1) // 2 end -- pool1 ('SAME'), res3a, res4a, res5a
    return n
  end
  return 16 * trunk(h), 16 * trunk(w)
end

-- opts.width_div divides every channel width but the 3 input and 1 output
-- channels (small networks for tests); opts.device.
function M.build(opts)
  opts = opts or {}
  local div = opts.width_div or 1
  if math.type(div) ~= "integer" or div < 1 or 64 % div ~= 0 then
    util.fail("fcrn: width_div must be a positive integer dividing 64, got %s", tostring(div))
  end
  local dev = opts.device
  local g = Graph.new(nil, { type_name = "fcrn" })
  local function conv(name, cin, cout, k, stride, bias, relu)
    local p = (k - 1) // 2
    return PaddedConv2d.new(name, { cin = cin, cout = cout, k = k, stride = stride, pad = { p, p, p, p },
      bias = bias, relu = relu, device = dev })
  end
  local function bn(name, c, relu)
    return BatchNorm.new(name, { channels = c, eps = M.eps, relu = relu, device = dev })
  end

  g:add(conv("conv1", 3, 64 // div, 7, 2, true), { "input" })
  g:add(bn("bn_conv1", 64 // div, true))
  local x = g:add(SamePool.new("pool1", 3, 2))
  local cin = 64 // div
  for _, st in ipairs(M.stages) do
    local s, mid, out = st[1], st[3] // div, st[4] // div
    for bi = 1, #st[2] do
      local b = st[2]:sub(bi, bi)
      local stride = bi == 1 and st[5] or 1
      local pre = "res" .. s .. b
      local short = x
      if bi == 1 then
        g:add(conv(pre .. "_branch1", cin, out, 1, stride, false), { x })
        short = g:add(bn("bn" .. s .. b .. "_branch1", out, false))
      end
      g:add(conv(pre .. "_branch2a", cin, mid, 1, stride, false), { x })
      g:add(bn("bn" .. s .. b .. "_branch2a", mid, true))
      g:add(conv(pre .. "_branch2b", mid, mid, 3, 1, false))
      g:add(bn("bn" .. s .. b .. "_branch2b", mid, true))
      g:add(conv(pre .. "_branch2c", mid, out, 1, 1, false))
      local main = g:add(bn("bn" .. s .. b .. "_branch2c", out, false))
      g:add(Graph.Add.new(pre), { short, main })
      x = g:add(Graph.ReLU.new(pre .. "_relu"))
      cin = out
    end
  end
  g:add(conv("layer1", cin, 1024 // div, 1, 1, true), { x })
  x = g:add(bn("layer1_BN", 1024 // div, false))
  cin = 1024 // div
  for _, u in ipairs(M.upprojections) do
    x = upproj.add(g, x, u[1], cin, u[2] // div, { eps = M.eps, device = dev })
    cin = u[2] // div
  end
  g:alias("drop", x) -- dropout with keep_prob 1: the identity
  g:add(conv("ConvPred", cin, 1, 3, 1, true, true), { x })
  g:alias("depth", "ConvPred")

  g.type_name, g.width_div, g.device = "fcrn", div, dev
  g.output_size = function(_, h, w) return M.output_size(h, w) end
  return g
end

-- "name shape" lines of every parameter, in order (shape as "O,I,H,W").
function M.param_list(net)
  local lines = {}
  for _, p in ipairs(net:named_parameters()) do
    lines[#lines + 1] = p.name .. " " .. table.concat(p.module.params[p.key]:shape(), ",")
  end
  return lines
end

-- Loads a strata FCRN weights file; the network's widths come from it.
function M.from_file(path, device)
  local w = core.weights.load(path)
  if w.attrs.network and w.attrs.network ~= "fcrn" then
    util.fail("%s: holds a '%s' network, expected fcrn", path, w.attrs.network)
  end
  local first = w.params["conv1.weight"]
  if not first then util.fail("%s: missing parameter 'conv1.weight' (not an FCRN weights file?)", path) end
  local c = first:size(1)
  if c < 1 or 64 % c ~= 0 then
    util.fail("%s: conv1.weight has %d output channels; FCRN widths need a divisor of 64", path, c)
  end
  local net = M.build({ width_div = 64 // c, device = device })
  net:load_weights(w)
  net.synthetic = w.attrs.synthetic == "true"
  net.source = w.attrs.source or path
  return net
end

return M
