-- Instance normalisation with affine scale (weight, gamma) and shift (bias, beta).
local core = require "strata.core"
local Module = require "strata.nn.module"

local InstanceNorm = Module.class("InstanceNorm")

function InstanceNorm.new(name, opts)
  local self = Module.init(setmetatable({}, InstanceNorm), name)
  self.eps = opts.eps or 1e-3
  self.params.weight = core.full({ opts.channels }, 1.0, opts.device)
  self.params.bias = core.zeros({ opts.channels }, opts.device)
  self.param_order = { "weight", "bias" }
  return self
end

function InstanceNorm:forward(x)
  if not self.training then
    return core.ops.instance_norm(x, self.params.weight, self.params.bias, self.eps, false)
  end
  local y, mean, rstd = core.ops.instance_norm(x, self.params.weight, self.params.bias, self.eps, true)
  self.saved = { x = x:ref(), mean = mean, rstd = rstd }
  return y
end

-- Evaluation mode with an input nobody reads again (Sequential / Residual
-- call this for their intermediates): normalise in place (on the CPU).
function InstanceNorm:forward_overwrite(x)
  if self.training then return self:forward(x) end
  return core.ops.instance_norm(x, self.params.weight, self.params.bias, self.eps, false, true)
end

function InstanceNorm:backward(dy)
  local s = self.saved
  local dx = core.ops.instance_norm_backward(dy, s.x, s.mean, s.rstd, self.params.weight, self.grads.weight,
    self.grads.bias)
  s.x:free()
  s.mean:free()
  s.rstd:free()
  self.saved = nil
  return dx
end

return InstanceNorm
