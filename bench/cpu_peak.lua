-- The bench header's FMA peak: `bin/strata run bench/cpu_peak.lua CORES [FMA_UNITS]`
-- prints "isa I lanes L ghz G cores C fma_units U peak P" where
--   P (GFLOP/s) = C cores x G GHz x U FMA units x L float lanes x 2 (an FMA is 2 FLOP),
-- I and L are strata's ISA level under ONEDNN_MAX_CPU_ISA (16 lanes for
-- AVX-512, 8 for AVX2), G the clock measured by strata.sys.cpu(), U 2 by
-- default (Zen 4/5, Intel server cores: two FMA pipes per core).
local strata = require "strata"
local cores = tonumber(arg[1] or "1")
local units = tonumber(arg[2] or "2")
local c = strata.sys.cpu()
print(string.format("isa %s lanes %d ghz %.3f cores %d fma_units %d peak %.1f", c.isa, c.lanes, c.ghz, cores, units,
  cores * c.ghz * units * c.lanes * 2))
