-- Max pooling; `pad` = {top, bottom, left, right} counts as -inf; pad =
-- "same" is TensorFlow's padding='SAME' (output ceil(size / stride), the pads
-- following from the input size).
local core = require "strata.core"
local Module = require "strata.nn.module"

local MaxPool2d = Module.class("MaxPool2d")

function MaxPool2d.new(name, opts)
  local self = Module.init(setmetatable({}, MaxPool2d), name)
  self.p = { kernel = opts.k or 2, stride = opts.stride or opts.k or 2, pad = opts.pad or 0 }
  return self
end

function MaxPool2d:forward(x)
  if self.training then self.saved_x = x:ref() end
  return core.ops.maxpool2d(x, self.p)
end

function MaxPool2d:backward(dy)
  local dx = core.ops.maxpool2d_backward(dy, self.saved_x, self.p)
  self.saved_x:free()
  self.saved_x = nil
  return dx
end

return MaxPool2d
