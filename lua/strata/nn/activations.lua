-- Parameter-free elementwise modules: ReLU, Tanh, and Affine (y = x*scale + shift).
local core = require "strata.core"
local Module = require "strata.nn.module"

local M = {}

M.ReLU = Module.class("ReLU")
function M.ReLU.new(name) return Module.init(setmetatable({}, M.ReLU), name) end
-- In place by default: the input (a norm's or conv's output) is usually not
-- needed again, and backward needs only y. keep_input: x is still wanted (a
-- requested conv feature), so y goes to a new tensor.
function M.ReLU:forward(x, keep_input)
  local y = core.ops.relu(x, not keep_input)
  if self.training then self.saved_y = y:ref() end
  return y
end
function M.ReLU:backward(dy)
  local dx = core.ops.relu_backward(dy, self.saved_y)
  self.saved_y:free()
  self.saved_y = nil
  return dx
end

M.Tanh = Module.class("Tanh")
function M.Tanh.new(name) return Module.init(setmetatable({}, M.Tanh), name) end
function M.Tanh:forward(x)
  local y = core.ops.tanh(x)
  if self.training then self.saved_y = y:ref() end
  return y
end
function M.Tanh:backward(dy)
  local dx = core.ops.tanh_backward(dy, self.saved_y)
  self.saved_y:free()
  self.saved_y = nil
  return dx
end

M.Affine = Module.class("Affine")
function M.Affine.new(name, scale, shift)
  local self = Module.init(setmetatable({}, M.Affine), name)
  self.scale, self.shift = scale, shift
  return self
end
function M.Affine:forward(x) return core.ops.affine(x, self.scale, self.shift) end
function M.Affine:backward(dy) return core.ops.affine(dy, self.scale, 0) end

return M
