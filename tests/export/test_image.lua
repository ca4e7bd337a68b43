-- bin/strata run tests/export/test_image.lua OUT.png OUT.npy [SOURCE WxH]
-- A test picture as PNG and its exact values [3,H,W] as float32 .npy: SOURCE
-- resized to WxH, or (no SOURCE) a synthetic 67x45 one (odd sizes, so
-- 'same' padding is asymmetric in both directions).
local core = require "strata.core"

local png, npy, source, size = arg[1], arg[2], arg[3], arg[4]
local img
if source then
  local w, h = size:match("^(%d+)x(%d+)$")
  img = core.ops.resize(core.image.read(source), tonumber(h), tonumber(w))
else
  local W, H = 67, 45
  local v = {}
  for c = 0, 2 do
    for y = 0, H - 1 do
      for x = 0, W - 1 do
        v[#v + 1] = 127.5 + 120 * math.sin(0.21 * x * (c + 1) + 0.13 * y) * math.cos(0.07 * y * (3 - c))
      end
    end
  end
  img = core.from_list(v, { 3, H, W })
end
core.image.write(png, img)
-- The PNG holds rounded values: compare on exactly those.
core.npy.save(npy, core.image.read(png))
