-- Style loss: for each layer, the squared Frobenius distance between the
-- Gram matrices of the stylized image and of the style image, divided by the
-- Gram's element count and averaged over the batch; summed over layers.
-- The style Grams come from the style image at its own size, once.
local core = require "strata.core"

local Style = { kind = "style", network = "vgg" }
Style.__index = Style

Style.default_layers = { "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1" }

function Style.new(opts)
  return setmetatable({ weight = opts.weight, layer_list = opts.layers or Style.default_layers, saved = {} }, Style)
end

function Style:layers() return self.layer_list end

-- style_feats: activations of the style image ([1, C, H, W] per layer).
function Style:set_target(style_feats)
  self.targets = {}
  for _, name in ipairs(self.layer_list) do self.targets[name] = core.ops.gram(style_feats[name]) end
end

function Style:forward(feats)
  local total = 0
  for _, name in ipairs(self.layer_list) do
    local g = core.ops.gram(feats[name])
    self.saved[name] = { x = feats[name], g = g }
    total = total + core.ops.gram_distance(g, self.targets[name])
  end
  return total
end

function Style:backward(grads)
  for _, name in ipairs(self.layer_list) do
    local s = self.saved[name]
    local dg = core.ops.gram_distance_backward(s.g, self.targets[name], self.weight)
    local dx = core.ops.gram_backward(dg, s.x)
    grads[name] = grads[name] and core.ops.add(grads[name], dx) or dx
    self.saved[name] = nil
  end
end

return Style
