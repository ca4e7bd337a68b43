-- Total variation of the stylized image (0..255), ANCHORS.md's normalisation.
local core = require "strata.core"

local TV = { kind = "tv", network = "image" }
TV.__index = TV

function TV.new(opts) return setmetatable({ weight = opts.weight }, TV) end

function TV:forward(img)
  self.img = img
  return core.ops.tv(img)
end

-- Returns weight * d tv / d image.
function TV:backward()
  local d = core.ops.tv_backward(self.img, self.weight)
  self.img = nil
  return d
end

return TV
