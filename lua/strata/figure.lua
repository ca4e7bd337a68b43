-- Figures of images and maps drawn into tensors: a perceptual colormap for
-- depth maps and tiling of images into a grid.
local core = require "strata.core"

local M = {}

-- Viridis, by the 6th-degree polynomial fit of its RGB curves (an
-- approximation within ~1% of matplotlib's table).
local V = {
  { 0.2777273272234177, 0.005407344544966578, 0.3340998053353061 },
  { 0.1050930431085774, 1.404613529898575, 1.384590162594685 },
  { -0.3308618287255563, 0.214847559468213, 0.09509516302823659 },
  { -4.634230498983486, -5.799100973351585, -19.33244095627987 },
  { 6.228269936347081, 14.17993336680509, 56.69055260068105 },
  { 4.776384997670288, -13.74514537774601, -65.35303263337234 },
  { -5.435455855934631, 4.645852612178535, 26.3124352495832 },
}

-- RGB (0..255) of viridis at t in [0, 1].
function M.viridis(t)
  t = math.max(0, math.min(1, t))
  local rgb = {}
  for c = 1, 3 do
    local v = V[7][c]
    for k = 6, 1, -1 do v = V[k][c] + t * v end
    rgb[c] = math.max(0, math.min(1, v)) * 255
  end
  return rgb
end

-- A map (any tensor whose last two dims are h, w) as a [3,h,w] viridis image,
-- scaled between lo and hi (default: its own min and max).
function M.colormap(map, lo, hi)
  local h, w = map:size(map:dim() - 1), map:size(map:dim())
  local vals = map:to_list()
  lo = lo or map:min()
  hi = hi or map:max()
  local span = hi > lo and hi - lo or 1
  local lut = {}
  for i = 0, 255 do lut[i] = M.viridis(i / 255) end
  local out = {}
  local n = h * w
  for i = 1, n do
    local k = math.max(0, math.min(255, math.floor((vals[i] - lo) / span * 255 + 0.5)))
    local rgb = lut[k]
    out[i], out[n + i], out[2 * n + i] = rgb[1], rgb[2], rgb[3]
  end
  return core.from_list(out, { 3, h, w })
end

-- Tiles rows of [3,h,w] images (all the same size) into one image with white gaps.
function M.grid(rows, gap)
  gap = gap or 4
  local h, w = rows[1][1]:size(2), rows[1][1]:size(3)
  local ncol = 0
  for _, r in ipairs(rows) do ncol = math.max(ncol, #r) end
  local img = core.full({ 3, #rows * h + (#rows + 1) * gap, ncol * w + (ncol + 1) * gap }, 255)
  for i, r in ipairs(rows) do
    for j, tile in ipairs(r) do
      img:paste(tile, gap + (i - 1) * (h + gap) + 1, gap + (j - 1) * (w + gap) + 1)
    end
  end
  return img
end

return M
