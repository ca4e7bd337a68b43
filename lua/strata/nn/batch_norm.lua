-- Batch normalisation with fixed (running) statistics, as a frozen network
-- uses it: y = (x - running_mean) / sqrt(running_var + eps) * weight + bias,
-- per channel, the same in training and evaluation mode (the statistics are
-- never updated). opts.relu applies a ReLU to the result, as TensorFlow's
-- caffe-style layers fuse it (the output is then the ReLU's).
-- Parameters: weight (gamma, "scale"), bias (beta, "offset"), running_mean,
-- running_var. backward returns dx = dy * weight * rstd and accumulates into
-- grads.weight / grads.bias when zero_grad created them.
-- The variance must have var + eps > 0. It is checked once, when weights are
-- loaded (the error names the file and parameter), not at every call: on a
-- GPU each check would wait for the device. A running_var changed by hand
-- afterwards is not checked again (bad values then show as Inf/NaN outputs).
local core = require "strata.core"
local Module = require "strata.nn.module"

local BatchNorm = Module.class("BatchNorm")

-- opts: channels, eps (default 1e-5, PyTorch's), relu (default false), device.
function BatchNorm.new(name, opts)
  local self = Module.init(setmetatable({}, BatchNorm), name)
  self.eps = opts.eps or 1e-5
  self.relu = opts.relu or false
  local c = opts.channels
  self.params.weight = core.full({ c }, 1.0, opts.device)
  self.params.bias = core.zeros({ c }, opts.device)
  self.params.running_mean = core.zeros({ c }, opts.device)
  self.params.running_var = core.full({ c }, 1.0, opts.device)
  self.param_order = { "weight", "bias", "running_mean", "running_var" }
  return self
end

function BatchNorm:check_loaded(key, t, where)
  if key == "running_var" then core.ops.batch_norm_check_var(t, self.eps, where) end
end

function BatchNorm:forward(x)
  local p = self.params
  local y = core.ops.batch_norm(x, p.running_mean, p.running_var, p.weight, p.bias, self.eps, false, true)
  if self.relu then core.ops.relu(y, true) end -- y is ours: in place is safe
  if self.training then
    self.saved_y = self.relu and y:ref() or nil
    -- x is read only for the scale's gradient; a frozen network never asks.
    self.saved_x = self.grads.weight and x:ref() or nil
  end
  return y
end

function BatchNorm:backward(dy)
  local p = self.params
  local d = self.relu and core.ops.relu_backward(dy, self.saved_y) or dy
  local dx = core.ops.batch_norm_backward(d, self.saved_x, p.running_mean, p.running_var, p.weight, self.eps,
    self.saved_x and self.grads.weight or nil, self.grads.bias, true)
  if not rawequal(d, dy) then d:free() end -- the ReLU's gradient, ours
  if self.saved_x then self.saved_x:free() end
  if self.saved_y then self.saved_y:free() end
  self.saved_x, self.saved_y = nil, nil
  return dx
end

return BatchNorm
