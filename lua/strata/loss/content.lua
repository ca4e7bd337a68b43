-- Feature-matching losses: the mean squared error between the stylized and
-- the content image's activations at one layer of a loss network.
-- content: VGG-19 relu4_2 (Engstrom's 2*l2_loss/size, i.e. the mean over all
-- elements of the batch). depth (the paper's term): the depth network's layer
-- j (default its output map), 1/(C*H*W) ||Psi_j(stylized) - Psi_j(content)||^2
-- averaged over the batch.
local core = require "strata.core"

local FeatureMSE = {}
FeatureMSE.__index = FeatureMSE

local function new(kind, network, default_layer, opts)
  return setmetatable({ kind = kind, network = network, weight = opts.weight, layer = opts.layer or default_layer,
    needs_target = true }, FeatureMSE)
end

function FeatureMSE:layers() return { self.layer } end

-- feats / target_feats: layer name -> activation. Returns the unweighted loss.
function FeatureMSE:forward(feats, target_feats)
  self.a, self.b = feats[self.layer], target_feats[self.layer]
  return core.ops.mse(self.a, self.b)
end

-- Adds weight * d loss / d activation into grads (layer name -> tensor).
function FeatureMSE:backward(grads)
  local g = core.ops.mse_backward(self.a, self.b, self.weight)
  grads[self.layer] = grads[self.layer] and core.ops.add(grads[self.layer], g) or g
  self.a, self.b = nil, nil
end

return {
  content = { new = function(opts) return new("content", "vgg", "relu4_2", opts) end },
  depth = { new = function(opts) return new("depth", "depth", "depth", opts) end },
}
