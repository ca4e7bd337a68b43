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

-- In evaluation mode nothing keeps an intermediate output (module.lua), so
-- each is freed as soon as the next module has read it: inference holds one
-- or two activations at a time instead of all of them until the collector
-- runs. A module with forward_overwrite may write over an intermediate
-- (instance norm in place). The caller's input is never freed or overwritten.
function Sequential.eval_step(m, x, input)
  if m.forward_overwrite and not rawequal(x, input) then return m:forward_overwrite(x) end
  return m:forward(x)
end

function Sequential:forward(x)
  if self.training then
    for _, m in ipairs(self.modules) do x = m:forward(x) end
    return x
  end
  local input = x
  for _, m in ipairs(self.modules) do
    local y = Sequential.eval_step(m, x, input)
    if not rawequal(x, input) and not rawequal(x, y) then x:free() end
    x = y
  end
  return x
end

function Sequential:backward(dy)
  for i = #self.modules, 1, -1 do dy = self.modules[i]:backward(dy) end
  return dy
end

return Sequential
