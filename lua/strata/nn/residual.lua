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

-- The body's intermediate outputs are freed as soon as read (as in
-- Sequential); in evaluation mode the sum is taken in place in the body's
-- output, in training mode into a new tensor (the body's output may be kept
-- for backward by its last module).
function Residual:forward(x)
  local h = x
  for _, m in ipairs(self.modules) do
    local y = self.training and m:forward(h) or Sequential.eval_step(m, h, x)
    if not rawequal(h, x) and not rawequal(h, y) then h:free() end
    h = y
  end
  if rawequal(h, x) then return core.ops.add(h, x) end
  if not self.training then return h:add_(x) end
  local y = core.ops.add(h, x)
  h:free()
  return y
end

function Residual:backward(dy)
  local d = Sequential.backward_through(self.modules, dy)
  local dx = core.ops.add(d, dy)
  if not rawequal(d, dy) then d:free() end
  return dx
end

return Residual
