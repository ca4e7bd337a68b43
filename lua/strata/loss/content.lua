-- The content term: VGG-19 relu4_2 features of the stylized batch against the
-- content batch's (strata.loss.feature_mse).
local registry = require "strata.loss.registry"
return registry.register(require("strata.loss.feature_mse")("content", "vgg", { weight = 7.5, layer = "relu4_2" }))
