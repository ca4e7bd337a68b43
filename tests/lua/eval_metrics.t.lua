-- The evaluation's depth-map metrics on cases with known answers.
local tap = require "strata.tap"
local eval = require "strata.eval"

local o, s, far = {}, {}, {}
local h, w = 12, 10
for i = 1, h * w do
  o[i] = 1 + (i % 7) * 0.3 + (i // w) * 0.1
  s[i] = 2 * o[i]
  far[i] = o[i] + ((i * 37) % 11) * 0.2
end
tap.close(eval.l2({ 0, 0 }, { 3, 4 }), 5, 1e-12, 0, "L2 of (3, 4) is 5")
tap.close(eval.l2(o, o), 0, 1e-12, 0, "L2 of a map to itself is 0")
tap.close(eval.silog(o, s), 0, 1e-12, 0, "scale-invariant log error ignores a global scale")
tap.ok(eval.silog(o, far) > 1e-3, "scale-invariant log error sees a change of shape")
tap.close(eval.ssim(o, o, h, w), 1, 1e-9, 0, "SSIM of a map with itself is 1")
local ssim_far = eval.ssim(o, far, h, w)
tap.ok(ssim_far < 0.9 and ssim_far > -1, string.format("SSIM drops for a different map (%.3f)", ssim_far))
tap.done()
