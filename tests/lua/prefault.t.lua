-- Pages faulted in ahead of a pass (strata.sys.memory_prefault,
-- engine/memory.h): a background thread fills a fresh free range of the
-- allocator's ranges mode, blocks handed out from it meanwhile keep what is
-- written in them, a pass then takes few page faults, and a forked child
-- (the weights loader's) does not make them fault again. Also
-- strata.image.size, which sizes the prefault from the image's header.
local strata = require "strata"
local tap = require "strata.tap"
local sys = strata.sys

local dir = os.tmpname()
os.remove(dir)
sys.mkdir_p(dir)

-- image.size: the header alone.
local w, h = strata.image.size("data/samples/content/chicago.jpg")
tap.is(string.format("%sx%s", w, h), "712x474", "image.size reads a JPEG's size")
strata.image.write(dir .. "/a.png", strata.zeros({ 3, 5, 7 }))
w, h = strata.image.size(dir .. "/a.png")
tap.is(string.format("%sx%s", w, h), "7x5", "and a PNG's")
local none, err = strata.image.size(dir .. "/missing.png")
tap.ok(none == nil and tostring(err):find("missing.png", 1, true), "a missing file: nil and an error naming it")

local function faults()
  local _, f = sys.usage()
  return f
end
local MiB = 1 << 20
local floats = function(mib) return mib * MiB // 4 end
-- The page faults of writing a fresh `mib` MiB tensor (freed after).
local function faults_writing(mib)
  local f0 = faults()
  local t = strata.full({ floats(mib) }, 1)
  local n = faults() - f0
  t:free()
  return n
end

local was = sys.memory_ranges(true)
if not sys.memory_prefault(48 * MiB) then
  tap.skip("this build's allocator hands out exact sizes (sanitizers): no ranges, no prefault", 8)
else
  -- Taken while the thread is still filling.
  local a = strata.full({ floats(4) }, 7)
  sys.memory_prefault_wait()
  tap.is(a:sum(), 7.0 * floats(4), "a block handed out while the pages fill keeps what was written")
  local f0 = faults()
  local b = strata.full({ floats(40) }, 1)
  local taken = faults() - f0
  tap.ok(taken < 1000, string.format("writing 40 MiB from the filled range: %d page faults (of 10240 pages)", taken))

  -- A child forked meanwhile (the weights loader's) does not share the range.
  strata.weights.save(dir .. "/w.h5", { params = { ["x.weight"] = strata.full({ 4, 4 }, 2) } })
  local wl = strata.weights.load(dir .. "/w.h5")
  tap.is(wl.params["x.weight"]:sum(), 32.0, "the weights loader's child works beside the range")
  f0 = faults()
  b:fill(3)
  taken = faults() - f0
  tap.ok(taken < 1000, string.format("after the fork, writing the 40 MiB again: %d page faults", taken))
  tap.is(b:sum(), 3.0 * floats(40), "and it holds what was written")
  a:free()
  b:free()

  -- Limited once started (stylize.prefault_fit: a narrower model): the
  -- thread stops after the first 8 MiB of 200.
  sys.memory_release_ranges(false)
  tap.ok(sys.memory_prefault(200 * MiB), "a second prefault starts")
  sys.memory_prefault_limit(8 * MiB)
  sys.memory_prefault_wait()
  taken = faults_writing(100)
  tap.ok(taken > 12000, string.format("limited to 8 MiB, writing 100 MiB from the range: %d page faults (of 25600)", taken))

  -- Control: the same write on fresh ranges faults in every page.
  sys.memory_release_ranges(false)
  taken = faults_writing(40)
  tap.ok(taken > 8000, string.format("without it, writing 40 MiB takes %d page faults", taken))
  sys.memory_release_ranges(false)
end
sys.memory_ranges(was)
tap.ok(not sys.memory_prefault(4096), "a request under a range's minimum (1 MiB) starts nothing")
-- A request larger than the cap (1 GiB, a quarter of the available memory)
-- touches at most the cap: the process's resident memory stays well under
-- the 64 GiB asked for.
was = sys.memory_ranges(true)
if sys.memory_prefault(64 << 30) then
  sys.memory_prefault_wait()
  local rss = 0
  for line in io.lines("/proc/self/status") do
    local kb = line:match("^VmRSS:%s+(%d+) kB")
    if kb then rss = tonumber(kb) * 1024 end
  end
  tap.ok(rss < (1 << 30) + (512 << 20), string.format("a 64 GiB prefault is capped: resident %d MiB", rss >> 20))
  sys.memory_release_ranges(false)
else
  tap.skip("this build's allocator hands out exact sizes (sanitizers): no prefault", 1)
end
sys.memory_ranges(was)
os.remove(dir .. "/a.png"); os.remove(dir .. "/w.h5"); os.remove(dir)
tap.done()
