-- Writes a tiny training set and style image for end-to-end tests:
-- bin/strata run tests/e2e/tiny_data.lua DIR
-- DIR/images/*.png: 8 smooth 48x40 "photos" (gradients and discs);
-- DIR/style.png: a striped 64x64 "painting".
local strata = require "strata"
local dir = arg[1]
strata.sys.mkdir_p(dir .. "/images/sub")
for i = 1, 8 do
  local h, w = 40, 48
  local img = strata.zeros({ 3, h, w })
  local cx, cy, r = 10 + 3 * i, 8 + 2 * i, 6 + i
  for y = 1, h do
    for x = 1, w do
      local inside = (x - cx) ^ 2 + (y - cy) ^ 2 < r * r
      img:set(inside and 230 or (x * 5 + i * 10) % 256, 1, y, x)
      img:set(inside and 40 or (y * 6) % 256, 2, y, x)
      img:set(inside and 90 or ((x + y) * 3 + i * 20) % 256, 3, y, x)
    end
  end
  strata.image.write(string.format("%s/images/%s%d.png", dir, i % 2 == 0 and "sub/" or "", i), img)
end
local style = strata.zeros({ 3, 64, 64 })
for y = 1, 64 do
  for x = 1, 64 do
    local stripe = ((x + 2 * y) // 6) % 2
    style:set(stripe * 200 + 30, 1, y, x)
    style:set(stripe * 60 + 100, 2, y, x)
    style:set((1 - stripe) * 220, 3, y, x)
  end
end
strata.image.write(dir .. "/style.png", style)
