-- Figures of images and maps drawn into tensors: a perceptual colormap for
-- depth maps, tiling of images into a grid, and labelled boards (a title,
-- notes, column headers and labelled rows of tiles) that a person can read.
local core = require "strata.core"
local font = require "strata.font"

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

-- A labelled board of image tiles, as one [3,H,W] image:
--   spec.title      one line at the top
--   spec.notes      lines under it (wrapped to the board's width), drawn in `spec.note_color`
--   spec.columns    a header per column ("\n" breaks lines)
--   spec.rows       { { label = "...", tiles = { [3,h,w], ... }, aspect = w/h }, ... }
--   spec.tile       tile height in pixels (default 256); a tile is resized to
--                   tile x round(tile * aspect) (aspect: the row's, else the tile's own)
--   spec.footer     lines at the bottom
-- Text is the built-in font at scale 2 (3 for the title).
function M.board(spec)
  local tile_h = spec.tile or 256
  if type(tile_h) ~= "number" or tile_h < 1 or tile_h ~= math.floor(tile_h) then
    error(string.format("figure: tile height must be a positive whole number of pixels, got %s", tostring(tile_h)), 2)
  end
  local margin, gap, scale = 16, 10, 2
  local ncol = #spec.columns
  for _, r in ipairs(spec.rows) do ncol = math.max(ncol, #r.tiles) end
  local colw = {}
  for j = 1, ncol do colw[j] = 0 end
  local sized = {}
  for i, r in ipairs(spec.rows) do
    sized[i] = {}
    for j, t in ipairs(r.tiles) do
      local aspect = r.aspect or t:size(3) / t:size(2)
      local w = math.max(1, math.floor(tile_h * aspect + 0.5))
      sized[i][j] = core.ops.resize(t, tile_h, w)
      colw[j] = math.max(colw[j], w)
    end
  end
  -- Headers wrap to their column's width (explicit "\n" breaks are kept).
  local headers = {}
  for j = 1, ncol do
    local chars = math.max(8, math.floor((colw[j] + 1) / (font.advance * scale)))
    local parts = {}
    for line in ((spec.columns[j] or "") .. "\n"):gmatch("([^\n]*)\n") do parts[#parts + 1] = font.wrap(line, chars) end
    headers[j] = table.concat(parts, "\n")
    colw[j] = math.max(colw[j], (font.measure(headers[j], scale)))
  end
  local W = 2 * margin + (ncol - 1) * gap
  for j = 1, ncol do W = W + colw[j] end
  local chars = math.floor((W - 2 * margin + 1) / (font.advance * scale))

  -- Everything to draw, top to bottom: text images and tiles with positions.
  local items, y = {}, margin
  local function text(str, sc, color, x)
    if str == nil or str == "" then return end
    local img = font.render(str, sc, color)
    items[#items + 1] = { img = img, x = x or margin, y = y }
    y = y + img:size(2)
  end
  text(font.wrap(spec.title or "", math.floor((W - 2 * margin + 1) / (font.advance * 3))), 3)
  y = y + 8
  for _, note in ipairs(spec.notes or {}) do
    text(font.wrap(note, chars), scale, spec.note_color or { 170, 0, 0 })
    y = y + 6
  end
  y = y + 6
  local head_h, x = 0, margin
  for j = 1, ncol do
    local label = headers[j]
    if label ~= "" then
      local img = font.render(label, scale)
      items[#items + 1] = { img = img, x = x + (colw[j] - img:size(3)) // 2, y = y }
      head_h = math.max(head_h, img:size(2))
    end
    x = x + colw[j] + gap
  end
  y = y + head_h + 10
  for i, r in ipairs(spec.rows) do
    text(r.label, scale, { 0, 0, 120 })
    y = y + 4
    x = margin
    for j = 1, ncol do
      local t = sized[i][j]
      if t then items[#items + 1] = { img = t, x = x + (colw[j] - t:size(3)) // 2, y = y } end
      x = x + colw[j] + gap
    end
    y = y + tile_h + 14
  end
  for _, line in ipairs(spec.footer or {}) do
    text(font.wrap(line, chars), scale, { 60, 60, 60 })
    y = y + 6
  end
  local H = y + margin
  local img = core.full({ 3, H, W }, 255)
  for _, it in ipairs(items) do img:paste(it.img, it.y + 1, it.x + 1) end
  return img
end

return M
