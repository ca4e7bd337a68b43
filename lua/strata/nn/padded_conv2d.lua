-- 2-D convolution with a kh x kw kernel (OIHW weight, optional bias) and
-- fixed explicit zero pads {top, bottom, left, right}: the form of
-- caffe-converted TensorFlow code, which pads with tf.pad and convolves
-- 'VALID' (FCRN's 2x3, 3x2 and 2x2 up-projection convs, its symmetric
-- (k-1)/2 'SAME'). opts.relu applies a ReLU to the result (a conv layer with
-- relu=True). Forward and backward are nn.Conv2d's.
local core = require "strata.core"
local Module = require "strata.nn.module"
local Conv2d = require "strata.nn.conv2d"

local PaddedConv2d = setmetatable({ type = "PaddedConv2d" }, { __index = Conv2d })
PaddedConv2d.__index = PaddedConv2d

-- opts: cin, cout, kh, kw (or k for both), stride (number or {sh, sw}),
-- pad ({top, bottom, left, right}, default none), bias, relu, device.
function PaddedConv2d.new(name, opts)
  local self = Module.init(setmetatable({}, PaddedConv2d), name)
  self.cin, self.cout = opts.cin, opts.cout
  self.kh, self.kw = opts.kh or opts.k, opts.kw or opts.k
  self.stride = opts.stride or 1
  self.pad = opts.pad or { 0, 0, 0, 0 }
  self.relu = opts.relu or false
  self:init_weight_bias({ self.cout, self.cin, self.kh, self.kw }, opts.bias, self.cout, opts.device, opts.loaded)
  self.p = { stride = self.stride, pad = self.pad }
  return self
end

function PaddedConv2d:op_params() return self.p end

function PaddedConv2d:forward(x)
  local y = Conv2d.forward(self, x)
  if self.relu then
    core.ops.relu(y, true) -- y is ours: in place is safe
    if self.training then self.saved_y = y:ref() end
  end
  return y
end

function PaddedConv2d:backward(dy)
  if self.relu then
    dy = core.ops.relu_backward(dy, self.saved_y)
    self.saved_y:free()
    self.saved_y = nil
    local dx = Conv2d.backward(self, dy)
    dy:free() -- ours, made just above
    return dx
  end
  return Conv2d.backward(self, dy)
end

return PaddedConv2d
