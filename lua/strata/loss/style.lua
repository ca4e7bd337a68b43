-- Style loss: for each layer, the squared Frobenius distance between the
-- Gram matrices of the stylized image and of the style image, divided by the
-- Gram's element count and averaged over the batch; summed over layers.
-- The style Grams come from the style image at its own size, once.
local core = require "strata.core"
local registry = require "strata.loss.registry"

-- The style image's Grams, made on first use (its features do not change).
local function target_grams(t, term)
  if term.target_features ~= t then
    term.target_grams, term.target_features = {}, t
    for _, l in ipairs(term.layers) do term.target_grams[l] = core.ops.gram(t[l]) end
  end
  return term.target_grams
end

return registry.register({
  name = "style", network = "vgg", target = "style",
  defaults = { weight = 100, layers = { "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1" } },
  layers = function(opts) return opts.layers end,
  value = function(f, t, term)
    local targets, total = target_grams(t, term), 0
    for _, l in ipairs(term.layers) do
      local g = core.ops.gram(f[l])
      term.saved[l] = g
      total = total + core.ops.gram_distance(g, targets[l])
    end
    return total
  end,
  grad = function(f, t, term, scale)
    local targets, out = target_grams(t, term), {}
    for _, l in ipairs(term.layers) do
      local g = term.saved[l] or core.ops.gram(f[l])
      term.saved[l] = nil
      out[l] = core.ops.gram_backward(core.ops.gram_distance_backward(g, targets[l], scale), f[l])
    end
    return out
  end,
})
