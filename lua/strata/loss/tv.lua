-- Total variation of the stylized image (0..255), ANCHORS.md's normalisation.
local core = require "strata.core"
local registry = require "strata.loss.registry"

return registry.register({
  name = "tv", network = "image", defaults = { weight = 200 },
  layers = { "image" },
  value = function(f) return core.ops.tv(f.image) end,
  grad = function(f, _, _, scale) return { image = core.ops.tv_backward(f.image, scale) } end,
})
