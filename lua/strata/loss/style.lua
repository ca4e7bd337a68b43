-- Style loss: for each layer, the squared Frobenius distance between the
-- Gram matrices of the stylized image and of the style image, divided by the
-- Gram's element count and averaged over the batch; summed over layers.
-- The style Grams come from the style image at its own size, once.
local core = require "strata.core"
local registry = require "strata.loss.registry"

return registry.register({
  name = "style", network = "vgg", target = "style",
  defaults = { weight = 100, layers = { "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1" } },
  layers = function(opts) return opts.layers end,
  -- t: the style image's Grams per layer (prepare), made once at setup.
  prepare = function(style_feats, term)
    local grams = {}
    for _, l in ipairs(term.layers) do grams[l] = core.ops.gram(style_feats[l]) end
    return grams
  end,
  value = function(f, t, term)
    local total = 0
    for _, l in ipairs(term.layers) do
      local g = core.ops.gram(f[l])
      term.saved[l] = g
      total = total + core.ops.gram_distance(g, t[l])
    end
    return total
  end,
  grad = function(f, t, term, scale)
    local out = {}
    for _, l in ipairs(term.layers) do
      local g = term.saved[l] or core.ops.gram(f[l])
      term.saved[l] = nil
      local dg = core.ops.gram_distance_backward(g, t[l], scale)
      g:free() -- the Grams are ours and read no more
      out[l] = core.ops.gram_backward(dg, f[l])
      dg:free()
    end
    return out
  end,
})
