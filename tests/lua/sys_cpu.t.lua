-- strata.sys.cpu(): the ISA level strata's kernels use (capped like oneDNN's)
-- and the measured clock the bench's FMA peak is computed from.
local strata = require "strata"
local tap = require "strata.tap"

local c = strata.sys.cpu()
local lanes = { avx512 = 16, avx2 = 8, base = 4 }
tap.ok(lanes[c.isa] ~= nil, "isa is avx512, avx2 or base (" .. tostring(c.isa) .. ")")
tap.is(c.lanes, lanes[c.isa], "lanes match the level")
local x86 = c.isa ~= "base" or c.ghz > 0
if x86 then
  tap.ok(c.ghz > 0.2 and c.ghz < 10, string.format("measured clock is plausible (%.2f GHz)", c.ghz))
else
  tap.skip("no clock probe on this architecture")
end
tap.done()
