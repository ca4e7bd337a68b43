-- Content loss: mean squared error between the stylized and the content
-- image's activations at one loss-network layer (Engstrom's 2*l2_loss/size).
local core = require "strata.core"

local Content = { kind = "content", network = "vgg" }
Content.__index = Content

function Content.new(opts)
  return setmetatable({ weight = opts.weight, layer = opts.layer or "relu4_2" }, Content)
end

function Content:layers() return { self.layer } end

-- feats / target_feats: layer name -> activation. Returns the unweighted loss.
function Content:forward(feats, target_feats)
  self.a, self.b = feats[self.layer], target_feats[self.layer]
  return core.ops.mse(self.a, self.b)
end

-- Adds weight * d loss / d activation into grads (layer name -> tensor).
function Content:backward(grads)
  local g = core.ops.mse_backward(self.a, self.b, self.weight)
  grads[self.layer] = grads[self.layer] and core.ops.add(grads[self.layer], g) or g
  self.a, self.b = nil, nil
end

return Content
