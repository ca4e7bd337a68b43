-- Residual block: y = body(x) + x (no activation after the sum, as Engstrom's).
local core = require "strata.core"
local Module = require "strata.nn.module"

local Residual = Module.class("Residual")

function Residual.new(name, body_modules)
  local self = Module.init(setmetatable({}, Residual), name)
  self.modules = body_modules
  return self
end

function Residual:forward(x)
  local h = x
  for _, m in ipairs(self.modules) do h = m:forward(h) end
  return core.ops.add(h, x)
end

function Residual:backward(dy)
  local d = dy
  for i = #self.modules, 1, -1 do d = self.modules[i]:backward(d) end
  return core.ops.add(d, dy)
end

return Residual
