-- Loss terms; each has a weight, the network it reads (`vgg`, `depth` or
-- `image`) and forward/backward (see each file).
local feature = require "strata.loss.content"

return {
  content = feature.content,
  depth = feature.depth,
  style = require "strata.loss.style",
  tv = require "strata.loss.tv",
}
