-- Sequential container: runs its modules in order; backward in reverse.
local Module = require "strata.nn.module"

local Sequential = Module.class("Sequential")

function Sequential.new(name, modules)
  local self = Module.init(setmetatable({}, Sequential), name)
  self.modules = modules or {}
  return self
end

function Sequential:add(m)
  self.modules[#self.modules + 1] = m
  return self
end

function Sequential:forward(x)
  for _, m in ipairs(self.modules) do x = m:forward(x) end
  return x
end

function Sequential:backward(dy)
  for i = #self.modules, 1, -1 do dy = self.modules[i]:backward(dy) end
  return dy
end

return Sequential
