-- Network definitions assembled from strata.nn modules.
return {
  transformer = require "strata.models.transformer",
}
