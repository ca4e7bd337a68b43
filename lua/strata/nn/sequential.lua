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

-- Each intermediate output is freed as soon as the next module has read it
-- (a module that needs it for backward keeps its own handle, tensor:ref()),
-- so nothing waits for the collector: inference holds one or two activations
-- at a time, training only what backward needs. In evaluation mode a module
-- with forward_overwrite may write over an intermediate (instance norm in
-- place). The caller's input is never freed or overwritten.
function Sequential.eval_step(m, x, input)
  if m.forward_overwrite and not rawequal(x, input) then return m:forward_overwrite(x) end
  return m:forward(x)
end

function Sequential:forward(x)
  local input = x
  for _, m in ipairs(self.modules) do
    local y = self.training and m:forward(x) or Sequential.eval_step(m, x, input)
    if not rawequal(x, input) and not rawequal(x, y) then x:free() end
    x = y
  end
  return x
end

-- Intermediate gradients are freed once the module before has read them;
-- the caller's dy is the caller's to free.
function Sequential.backward_through(modules, dy)
  local d = dy
  for i = #modules, 1, -1 do
    local dx = modules[i]:backward(d)
    if not rawequal(d, dy) and not rawequal(d, dx) then d:free() end
    d = dx
  end
  return d
end

function Sequential:backward(dy) return Sequential.backward_through(self.modules, dy) end

return Sequential
