-- Network definitions assembled from strata.nn modules.
return {
  transformer = require "strata.models.transformer",
  vgg19 = require "strata.models.vgg19",
  fcrn = require "strata.models.fcrn",
}
