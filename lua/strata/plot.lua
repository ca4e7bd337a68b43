-- Line and scatter plots (sweep summaries, training curves), drawn pixel by pixel into an RGB image and written
-- with strata.image.write: no plotting program needed. Text uses a built-in
-- 3x5 bitmap font (lowercase letters, digits and a little punctuation).
local core = require "strata.core"

local M = {}

-- 3x5 glyphs, rows top to bottom, '#' = ink.
local FONT = {
  ["0"] = "###,#.#,#.#,#.#,###", ["1"] = ".#.,##.,.#.,.#.,###", ["2"] = "###,..#,###,#..,###",
  ["3"] = "###,..#,.##,..#,###", ["4"] = "#.#,#.#,###,..#,..#", ["5"] = "###,#..,###,..#,###",
  ["6"] = "###,#..,###,#.#,###", ["7"] = "###,..#,.#.,.#.,.#.", ["8"] = "###,#.#,###,#.#,###",
  ["9"] = "###,#.#,###,..#,###", a = ".#.,#.#,###,#.#,#.#", b = "##.,#.#,##.,#.#,##.",
  c = ".##,#..,#..,#..,.##", d = "##.,#.#,#.#,#.#,##.", e = "###,#..,##.,#..,###",
  f = "###,#..,##.,#..,#..", g = ".##,#..,#.#,#.#,.##", h = "#.#,#.#,###,#.#,#.#",
  i = "###,.#.,.#.,.#.,###", j = "..#,..#,..#,#.#,.#.", k = "#.#,#.#,##.,#.#,#.#",
  l = "#..,#..,#..,#..,###", m = "#.#,###,###,#.#,#.#", n = "##.,#.#,#.#,#.#,#.#",
  o = ".#.,#.#,#.#,#.#,.#.", p = "##.,#.#,##.,#..,#..", q = ".#.,#.#,#.#,###,.##",
  r = "##.,#.#,##.,#.#,#.#", s = ".##,#..,.#.,..#,##.", t = "###,.#.,.#.,.#.,.#.",
  u = "#.#,#.#,#.#,#.#,###", v = "#.#,#.#,#.#,#.#,.#.", w = "#.#,#.#,###,###,#.#",
  x = "#.#,#.#,.#.,#.#,#.#", y = "#.#,#.#,.#.,.#.,.#.", z = "###,..#,.#.,#..,###",
  ["."] = "...,...,...,...,.#.", ["-"] = "...,...,###,...,...", ["+"] = "...,.#.,###,.#.,...",
  ["="] = "...,###,...,###,...", ["_"] = "...,...,...,...,###", [":"] = "...,.#.,...,.#.,...",
  [","] = "...,...,...,.#.,#..", ["("] = "..#,.#.,.#.,.#.,..#", [")"] = "#..,.#.,.#.,.#.,#..",
  ["/"] = "..#,..#,.#.,#..,#..", [" "] = "...,...,...,...,...",
}

local SERIES_COLORS = { { 31, 119, 180 }, { 214, 39, 40 }, { 44, 160, 44 }, { 148, 103, 189 },
  { 255, 127, 14 }, { 140, 86, 75 }, { 227, 119, 194 }, { 127, 127, 127 } }

-- A canvas: planar RGB values in a flat Lua list, white to start.
local Canvas = {}
Canvas.__index = Canvas

function M.canvas(w, h)
  local px = {}
  for i = 1, 3 * w * h do px[i] = 255 end
  return setmetatable({ w = w, h = h, px = px }, Canvas)
end

-- Pixel (x, y), 0-based from the top left; off-canvas pixels are ignored.
function Canvas:set(x, y, rgb)
  x, y = math.floor(x + 0.5), math.floor(y + 0.5)
  if x < 0 or y < 0 or x >= self.w or y >= self.h then return end
  local plane, i = self.w * self.h, y * self.w + x + 1
  self.px[i], self.px[plane + i], self.px[2 * plane + i] = rgb[1], rgb[2], rgb[3]
end

function Canvas:rect(x0, y0, x1, y1, rgb)
  for y = math.floor(y0), math.floor(y1) do
    for x = math.floor(x0), math.floor(x1) do self:set(x, y, rgb) end
  end
end

-- A line of the given thickness (Bresenham on the rounded end points).
function Canvas:line(x0, y0, x1, y1, rgb, thick)
  thick = thick or 1
  x0, y0, x1, y1 = math.floor(x0 + 0.5), math.floor(y0 + 0.5), math.floor(x1 + 0.5), math.floor(y1 + 0.5)
  local dx, dy = math.abs(x1 - x0), -math.abs(y1 - y0)
  local sx, sy = x0 < x1 and 1 or -1, y0 < y1 and 1 or -1
  local err = dx + dy
  local lo = -((thick - 1) // 2)
  while true do
    for oy = lo, lo + thick - 1 do
      for ox = lo, lo + thick - 1 do self:set(x0 + ox, y0 + oy, rgb) end
    end
    if x0 == x1 and y0 == y1 then break end
    local e2 = 2 * err
    if e2 >= dy then err, x0 = err + dy, x0 + sx end
    if e2 <= dx then err, y0 = err + dx, y0 + sy end
  end
end

M.CHAR_W, M.CHAR_H = 8, 10 -- advance and height at scale 2

function M.text_width(s) return #s * M.CHAR_W end

-- Text with its top-left corner at (x, y); unknown characters print as '?'-less blanks.
function Canvas:text(x, y, s, rgb)
  s = s:lower()
  for k = 1, #s do
    local g = FONT[s:sub(k, k)] or FONT[" "]
    local row = 0
    for bits in g:gmatch("[^,]+") do
      for col = 1, 3 do
        if bits:sub(col, col) == "#" then self:rect(x + 2 * (col - 1), y + 2 * row, x + 2 * col - 1, y + 2 * row + 1, rgb) end
      end
      row = row + 1
    end
    x = x + M.CHAR_W
  end
end

function Canvas:tensor()
  return core.from_list(self.px, { 3, self.h, self.w })
end

function Canvas:write(path)
  core.image.write(path, self:tensor())
end

-- Short tick labels: 4 significant digits, no trailing noise.
function M.label(v)
  if v == 0 then return "0" end
  local s = string.format("%.4g", v)
  s = s:gsub("e%+0*", "e"):gsub("e%-0*", "e-")
  return s
end

-- About n "nice" tick values covering [lo, hi] (steps of 1, 2 or 5 times 10^k).
function M.ticks(lo, hi, n)
  if hi <= lo then return { lo } end
  local raw = (hi - lo) / math.max(1, n - 1)
  local mag = 10 ^ math.floor(math.log(raw, 10))
  local step = mag
  for _, m in ipairs({ 1, 2, 5, 10 }) do
    if m * mag >= raw then step = m * mag break end
  end
  local out = {}
  local t = math.ceil(lo / step - 1e-9) * step
  while t <= hi + 1e-9 * step do
    out[#out + 1] = math.abs(t) < 1e-12 * step and 0 or t
    t = t + step
  end
  return out
end

local function finite(v) return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge end

--[[ Plots series of points against x and writes a PNG.
spec = {
  path = "out.png", width = 640, height = 400, title = "...", xlabel = "...", ylabel = "...",
  xlog = false,                 -- logarithmic x axis (every x must be > 0)
  lines = true,                 -- join each series' points, sorted by x
  series = { { label = "...", points = { {x, y}, ... } }, ... },
}
Points with a non-finite x or y are left out. Returns the canvas. ]]
function M.xy(spec)
  local W, H = spec.width or 640, spec.height or 400
  local cv = M.canvas(W, H)
  local L, R, T, B = 78, W - 20, 34, H - 48 -- plot area
  local black, grey = { 0, 0, 0 }, { 225, 225, 225 }
  local tx = spec.xlog and function(x) return math.log(x, 10) end or function(x) return x end

  local xs, ys = {}, {}
  for _, s in ipairs(spec.series) do
    for _, p in ipairs(s.points) do
      if finite(p[1]) and finite(p[2]) and (not spec.xlog or p[1] > 0) then
        xs[#xs + 1], ys[#ys + 1] = tx(p[1]), p[2]
      end
    end
  end
  cv:text(L, 10, spec.title or "", black)
  if #xs == 0 then
    cv:text(L, (T + B) // 2, "no finite values to plot", black)
    cv:write(spec.path)
    return cv
  end
  local x0, x1 = math.min(table.unpack(xs)), math.max(table.unpack(xs))
  local y0, y1 = math.min(table.unpack(ys)), math.max(table.unpack(ys))
  if x1 - x0 == 0 then x0, x1 = x0 - 1, x1 + 1 end
  if y1 - y0 == 0 then
    local d = math.abs(y0) > 0 and math.abs(y0) * 0.1 or 1
    y0, y1 = y0 - d, y1 + d
  end
  local padx, pady = 0.05 * (x1 - x0), 0.08 * (y1 - y0)
  x0, x1, y0, y1 = x0 - padx, x1 + padx, y0 - pady, y1 + pady
  local function px(x) return L + (tx(x) - x0) / (x1 - x0) * (R - L) end
  local function py(y) return B - (y - y0) / (y1 - y0) * (B - T) end

  -- Grid and tick labels.
  for _, t in ipairs(M.ticks(y0, y1, 6)) do
    local y = B - (t - y0) / (y1 - y0) * (B - T)
    cv:line(L + 1, y, R, y, grey)
    local s = M.label(t)
    cv:text(L - 6 - M.text_width(s), y - M.CHAR_H // 2, s, black)
  end
  local xt = spec.xticks
  if not xt and spec.xlog then -- decades, with 2 and 5 between them when there are few
    xt = {}
    local few = x1 - x0 < 2
    for k = math.floor(x0), math.ceil(x1) do
      for _, m in ipairs(few and { 1, 2, 5 } or { 1 }) do
        local v = m * 10 ^ k
        if math.log(v, 10) >= x0 and math.log(v, 10) <= x1 then xt[#xt + 1] = tonumber(string.format("%.6g", v)) end
      end
    end
  elseif not xt then
    xt = M.ticks(x0, x1, 6)
  end
  local last_right = -math.huge
  for _, t in ipairs(xt) do
    if not spec.xlog or t > 0 then
      local x = px(t)
      if x >= L - 1 and x <= R + 1 then
        cv:line(x, T, x, B - 1, grey)
        cv:line(x, B, x, B + 4, black)
        local s = M.label(t)
        local left = x - M.text_width(s) / 2
        if left > last_right + 4 then -- skip labels that would overlap
          cv:text(left, B + 8, s, black)
          last_right = left + M.text_width(s)
        end
      end
    end
  end
  cv:line(L, T, L, B, black, 2)
  cv:line(L, B, R, B, black, 2)
  if spec.xlabel then cv:text((L + R - M.text_width(spec.xlabel)) / 2, H - 16, spec.xlabel, black) end
  if spec.ylabel then cv:text(8, 10 + M.CHAR_H + 4, spec.ylabel, black) end

  -- Series: polyline through the points sorted by x, then the points.
  for k, s in ipairs(spec.series) do
    local color = SERIES_COLORS[(k - 1) % #SERIES_COLORS + 1]
    local pts = {}
    for _, p in ipairs(s.points) do
      if finite(p[1]) and finite(p[2]) and (not spec.xlog or p[1] > 0) then pts[#pts + 1] = p end
    end
    table.sort(pts, function(a, b) return a[1] < b[1] end)
    if spec.lines ~= false then
      for i = 2, #pts do cv:line(px(pts[i - 1][1]), py(pts[i - 1][2]), px(pts[i][1]), py(pts[i][2]), color, 2) end
    end
    for _, p in ipairs(pts) do
      local x, y = px(p[1]), py(p[2])
      cv:rect(x - 3, y - 3, x + 3, y + 3, color)
    end
    if #spec.series > 1 and s.label then
      local y = T + 4 + (k - 1) * (M.CHAR_H + 4)
      local x = R - 12 - M.text_width(s.label)
      cv:rect(x - 14, y + 1, x - 6, y + 8, color)
      cv:text(x, y, s.label, black)
    end
  end
  cv:write(spec.path)
  return cv
end

return M
