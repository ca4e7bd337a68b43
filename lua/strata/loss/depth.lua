-- The paper's depth term: the depth network's map (layer "depth") of the
-- stylized batch against the content batch's (strata.loss.feature_mse).
-- Off by default; the paper uses weight 200.
local registry = require "strata.loss.registry"
return registry.register(require("strata.loss.feature_mse")("depth", "depth", { weight = 0, layer = "depth" }))
