-- strata.image.read_async (engine/io/image_async.c): the image decoded on a
-- background thread is the one read() gives; a bad file's error, the same
-- as read()'s, comes from wait(); a read never waited for is dropped when
-- collected. strata.weights.load_async forks the weights loader's child
-- first, as strata stylize does.
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

-- strata stylize's order: the weights loader's child is forked first
-- (weights.load_async), then the image decodes on a thread while the parent
-- receives the weights. (Forking while the decoder's thread runs could leave
-- a lock it holds held forever in the child, e.g. a sanitizer's allocator's.)
strata.weights.save(dir .. "/w.h5", { params = { ["x.weight"] = strata.full({ 3, 3 }, 1) } })
local model = strata.weights.load_async(dir .. "/w.h5")
pending = strata.image.read_async(jpg)
local w = model:wait()
img = pending:wait()
tap.ok(w.params["x.weight"]:sum() == 9 and maxdiff(img, ref) == 0 and w.path == dir .. "/w.h5",
  "weights.load_async, then the image decoding while the weights arrive: both as expected")
tap.raises(function() model:wait() end, { "already waited for" }, "waiting twice for the weights is an error")
local bad_model = strata.weights.load_async(dir .. "/missing.h5")
local want = err_of(function() return strata.weights.load(dir .. "/missing.h5") end)
tap.ok(want ~= "no error" and err_of(function() return bad_model:wait() end) == want,
  "a missing weights file: wait() raises load()'s error")
-- Our child processes (running or not yet reaped), from /proc.
local function children()
  local f = assert(io.open("/proc/self/stat"))
  local me = f:read("l"):match("^(%d+)")
  f:close()
  local n = 0
  for _, d in ipairs(strata.sys.list_dir("/proc")) do
    local st = d:match("^%d+$") and io.open("/proc/" .. d .. "/stat")
    if st then
      local line = st:read("l") or ""
      st:close()
      if line:match("%) %S+ (%d+)") == me then n = n + 1 end
    end
  end
  return n
end
local before_children = children()
do
  local dropped = strata.weights.load_async(dir .. "/w.h5")
  tap.is(children() - before_children, 1, "load_async has forked its child")
  dropped = nil
end
collectgarbage()
collectgarbage()
tap.is(children() - before_children, 0, "a weights load collected unwaited is received and its child reaped")
os.remove(bad)
os.remove(dir .. "/w.h5")
os.remove(dir)
tap.done()
