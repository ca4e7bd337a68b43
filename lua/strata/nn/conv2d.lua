-- 2-D convolution, OIHW weight, optional bias.
-- padding: "same" (TensorFlow: output ceil(in/stride), asymmetric zero pads
-- computed from the input size), "reflect" ((k-1)/2 reflected on each side, as
-- Johnson's network), "valid", or a number p (zero pad p on every side).
local core = require "strata.core"
local Module = require "strata.nn.module"
local util = require "strata.util"

local Conv2d = Module.class("Conv2d")

function Conv2d.new(name, opts)
  local self = Module.init(setmetatable({}, Conv2d), name)
  self.cin, self.cout, self.k = opts.cin, opts.cout, opts.k
  self.stride = opts.stride or 1
  self.padding = opts.padding or "same"
  self:init_weight_bias({ self.cout, self.cin, self.k, self.k }, opts.bias, self.cout, opts.device, opts.loaded)
  return self
end

function Conv2d:op_params(x)
  local s, k, p = self.stride, self.k, self.padding
  if p == "same" then
    local t, b = core.ops.same_pads(x:size(3), k, s)
    local l, r = core.ops.same_pads(x:size(4), k, s)
    return { stride = s, pad = { t, b, l, r } }
  elseif p == "reflect" then
    local h = (k - 1) // 2
    return { stride = s, pad = { h, k - 1 - h, h, k - 1 - h }, mode = "reflect" }
  elseif p == "valid" then
    return { stride = s, pad = 0 }
  elseif math.type(p) == "integer" then
    return { stride = s, pad = p }
  end
  util.fail("%s: unknown padding '%s' (expected \"same\", \"reflect\", \"valid\" or an integer)", self.name, tostring(p))
end

function Conv2d:forward(x)
  local p = self:op_params(x)
  if self.training then self.saved_x, self.saved_p = x:ref(), p end
  return core.ops.conv2d(x, self.params.weight, self.params.bias, p)
end

function Conv2d:backward(dy)
  local dx = core.ops.conv2d_backward(dy, self.saved_x, self.params.weight, self.saved_p, self.grads.weight,
    self.grads.bias, not self.no_input_grad)
  self.saved_x:free()
  self.saved_x = nil
  return dx
end

return Conv2d
