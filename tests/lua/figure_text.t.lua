-- The figures' text and layout: the built-in font draws known glyphs where
-- expected, wraps and measures text; a labelled board places its tiles at
-- the requested height with headers above them; strata.sys.list_dir lists a
-- folder sorted and names a folder it cannot read.
local strata = require "strata"
local tap = require "strata.tap"
local font = require "strata.font"
local figure = require "strata.figure"

-- measure: 6 px per character less the last gap, 9 px per line less 2.
local w, h = font.measure("AB", 1)
tap.ok(w == 11 and h == 7, string.format("'AB' measures 11x7 (got %dx%d)", w, h))
w, h = font.measure("ABC\nD", 2)
tap.ok(w == 34 and h == 32, string.format("two lines at scale 2 measure 34x32 (got %dx%d)", w, h))

-- 'L' is a vertical bar in column 0 and a full bottom row; 'l' draws the same.
local img = font.render("L", 1)
tap.is(img:size(2) .. "x" .. img:size(3), "7x5", "'L' renders as a 7x5 image")
local function ink(t, y, x) return t:get(1, y, x) < 128 end -- 1-based, channel 1
local col0, bottom, blank = true, true, true
for y = 1, 7 do col0 = col0 and ink(img, y, 1) end
for x = 1, 5 do bottom = bottom and ink(img, 7, x) end
for y = 1, 6 do for x = 2, 5 do blank = blank and not ink(img, y, x) end end
tap.ok(col0 and bottom and blank, "'L': left column and bottom row inked, the rest blank")
local lower = font.render("l", 1):to_list()
local upper = img:to_list()
local same = #lower == #upper
for i = 1, #upper do same = same and lower[i] == upper[i] end
tap.ok(same, "lower case is drawn as capitals")
local q, unknown = font.render("?", 1):to_list(), font.render("\1", 1):to_list()
same = #q == #unknown
for i = 1, #q do same = same and q[i] == unknown[i] end
tap.ok(same, "an unknown character is drawn as '?'")
local red = font.render("I", 3, { 200, 0, 0 }, { 0, 0, 255 })
tap.is(red:size(2) .. "x" .. red:size(3), "21x15", "scale 3 multiplies the size")
tap.ok(red:get(1, 1, 7) == 200 and red:get(3, 1, 7) == 0 and red:get(3, 1, 1) == 255,
  "ink and background colours as asked")

tap.is(font.wrap("the quick brown fox jumps", 10), "the quick\nbrown fox\njumps", "wrap at spaces to 10 characters")

-- A board: two columns, one row of a 3x10x20 and a 3x5x5 tile at height 256.
local a, b = strata.full({ 3, 10, 20 }, 0), strata.full({ 3, 5, 5 }, 100)
local board = figure.board({ title = "T", columns = { "left", "right" }, rows = { { label = "row", tiles = { a, b } } },
  tile = 256 })
tap.ok(board:size(1) == 3 and board:size(3) >= 16 * 2 + 512 + 256 + 10, string.format(
  "board width holds a 512-wide and a 256-wide tile (%d)", board:size(3)))
-- Find the black tile: a 256-high run of black in its column.
local x0 = 16 + 256 -- the middle of the first column
local run, best = 0, 0
for y = 1, board:size(2) do
  if board:get(1, y, x0) == 0 then run = run + 1; best = math.max(best, run) else run = 0 end
end
tap.is(best, 256, "the first tile is drawn 256 pixels high")
tap.raises(function() figure.board({ columns = {}, rows = { { label = "x", tiles = { a } } }, tile = 0 }) end,
  { "tile", "positive" }, "a tile height of 0 is an error naming the tile height")

-- list_dir
local tmp = os.tmpname()
os.remove(tmp)
strata.sys.mkdir_p(tmp .. "/sub")
for _, n in ipairs({ "b.png", "a.jpg", "c.txt" }) do
  local f = io.open(tmp .. "/" .. n, "w"); f:write("x"); f:close()
end
tap.is(table.concat(strata.sys.list_dir(tmp), " "), "a.jpg b.png c.txt sub", "list_dir: names sorted, no . or ..")
tap.raises(function() strata.sys.list_dir(tmp .. "/missing") end, { "cannot list directory", "missing" },
  "list_dir of a missing folder names it")
for _, n in ipairs({ "b.png", "a.jpg", "c.txt" }) do os.remove(tmp .. "/" .. n) end
os.remove(tmp .. "/sub")
os.remove(tmp)
tap.done()
