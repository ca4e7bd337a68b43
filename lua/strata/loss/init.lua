-- Loss terms; each has a weight and forward/backward (see each file).
return {
  content = require "strata.loss.content",
  style = require "strata.loss.style",
  tv = require "strata.loss.tv",
}
