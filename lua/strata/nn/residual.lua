-- Residual block: y = body(x) + x (no activation after the sum, as Engstrom's).
local core = require "strata.core"
local Module = require "strata.nn.module"
local Sequential = require "strata.nn.sequential"

local Residual = Module.class("Residual")

function Residual.new(name, body_modules)
  local self = Module.init(setmetatable({}, Residual), name)
  self.modules = body_modules
  return self
end

-- In evaluation mode the body's intermediate outputs are freed as soon as
-- read (as in Sequential) and the sum is taken in place in the body's output.
function Residual:forward(x)
  local h = x
  if self.training then
    for _, m in ipairs(self.modules) do h = m:forward(h) end
    return core.ops.add(h, x)
  end
  for _, m in ipairs(self.modules) do
    local y = Sequential.eval_step(m, h, x)
    if not rawequal(h, x) and not rawequal(h, y) then h:free() end
    h = y
  end
  if rawequal(h, x) then return core.ops.add(h, x) end
  return h:add_(x)
end

function Residual:backward(dy)
  local d = dy
  for i = #self.modules, 1, -1 do d = self.modules[i]:backward(d) end
  return core.ops.add(d, dy)
end

return Residual
