-- Parameter-free elementwise modules: ReLU, Tanh, and Affine (y = x*scale + shift).
local core = require "strata.core"
local Module = require "strata.nn.module"

local M = {}

M.ReLU = Module.class("ReLU")
function M.ReLU.new(name) return Module.init(setmetatable({}, M.ReLU), name) end
function M.ReLU:forward(x)
  -- In place: the input (a norm's output) is not needed again, and backward needs only y.
  local y = core.ops.relu(x, true)
  if self.training then self.saved_y = y end
  return y
end
function M.ReLU:backward(dy)
  local dx = core.ops.relu_backward(dy, self.saved_y)
  self.saved_y = nil
  return dx
end

M.Tanh = Module.class("Tanh")
function M.Tanh.new(name) return Module.init(setmetatable({}, M.Tanh), name) end
function M.Tanh:forward(x)
  local y = core.ops.tanh(x)
  if self.training then self.saved_y = y end
  return y
end
function M.Tanh:backward(dy)
  local dx = core.ops.tanh_backward(dy, self.saved_y)
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
