-- Transposed 2-D convolution, weight [Cin, Cout, k, k] (PyTorch's layout).
-- padding: "same" (TensorFlow: output in*stride, the full output cropped at the
-- end) or {pad = p, output_padding = q} (PyTorch/Torch7: crop p at the start,
-- output (in-1)*stride - 2p + k + q).
local core = require "strata.core"
local Module = require "strata.nn.module"

local ConvTranspose2d = Module.class("ConvTranspose2d")

function ConvTranspose2d.new(name, opts)
  local self = Module.init(setmetatable({}, ConvTranspose2d), name)
  self.cin, self.cout, self.k = opts.cin, opts.cout, opts.k
  self.stride = opts.stride or 2
  self.padding = opts.padding or "same"
  self:init_weight_bias({ self.cin, self.cout, self.k, self.k }, opts.bias, self.cout, opts.device, opts.loaded)
  return self
end

function ConvTranspose2d:op_params(x)
  local s, k, p = self.stride, self.k, self.padding
  local h, w = x:size(3), x:size(4)
  if p == "same" then
    return { stride = s, crop = { 0, 0 }, out = { h * s, w * s } }
  end
  local pad, op = p.pad or 0, p.output_padding or 0
  return { stride = s, crop = { pad, pad }, out = { (h - 1) * s - 2 * pad + k + op, (w - 1) * s - 2 * pad + k + op } }
end

function ConvTranspose2d:forward(x)
  local p = self:op_params(x)
  if self.training then self.saved_x, self.saved_p = x:ref(), p end
  return core.ops.conv_transpose2d(x, self.params.weight, self.params.bias, p)
end

function ConvTranspose2d:backward(dy)
  local dx = core.ops.conv_transpose2d_backward(dy, self.saved_x, self.params.weight, self.saved_p,
    self.grads.weight, self.grads.bias, true)
  self.saved_x:free()
  self.saved_x = nil
  return dx
end

return ConvTranspose2d
