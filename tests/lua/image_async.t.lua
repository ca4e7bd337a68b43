-- strata.image.read_async (engine/io/image_async.c): the image decoded on a
-- background thread is the one read() gives; a bad file's error, the same
-- as read()'s, comes from wait(); a read never waited for is dropped when
-- collected; a fork meanwhile (the weights loader's child) is harmless.
local strata = require "strata"
local tap = require "strata.tap"

local dir = os.tmpname()
os.remove(dir)
strata.sys.mkdir_p(dir)
local jpg = "data/samples/content/chicago.jpg"
local function maxdiff(a, b) return strata.ops.add(a, strata.ops.affine(b, -1, 0)):abs():max() end

local pending = strata.image.read_async(jpg)
local img = pending:wait()
local ref = strata.image.read(jpg)
tap.is(tap.str(img:shape(), ","), tap.str(ref:shape(), ","), "read_async gives the image's shape")
tap.is(maxdiff(img, ref), 0.0, "and the same pixels as read()")
tap.raises(function() pending:wait() end, { "already waited for" }, "waiting twice is an error")

local function err_of(f)
  local ok, e = pcall(f)
  return not ok and tostring(e) or "no error"
end
local bad = dir .. "/bad.png"
local f = assert(io.open(bad, "wb"))
f:write("\137PNG\r\n\26\n" .. string.rep("x", 64))
f:close()
for _, path in ipairs({ bad, dir .. "/missing.jpg" }) do
  local want = err_of(function() return strata.image.read(path) end)
  local got = err_of(function() return strata.image.read_async(path):wait() end)
  tap.ok(want ~= "no error" and got == want, "a bad file's error from wait() is read()'s: " .. got)
end

-- Dropped unread: collected while (or after) decoding, nothing stays allocated.
collectgarbage()
collectgarbage()
local base = strata.sys.memory_stats("cpu").in_use
do
  local p = strata.image.read_async(jpg)
  p = nil
end
collectgarbage()
collectgarbage()
tap.is(strata.sys.memory_stats("cpu").in_use - base, 0, "a read collected unwaited leaves nothing allocated")

-- A weights file loaded (in a forked child) while the image decodes.
strata.weights.save(dir .. "/w.h5", { params = { ["x.weight"] = strata.full({ 3, 3 }, 1) } })
pending = strata.image.read_async(jpg)
local w = strata.weights.load(dir .. "/w.h5")
img = pending:wait()
tap.ok(w.params["x.weight"]:sum() == 9 and maxdiff(img, ref) == 0,
  "a weights load (forked child) while the image decodes: both as expected")
os.remove(bad)
os.remove(dir .. "/w.h5")
os.remove(dir)
tap.done()
