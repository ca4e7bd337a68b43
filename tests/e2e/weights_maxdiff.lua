-- bin/strata run tests/e2e/weights_maxdiff.lua A.h5 B.h5: prints the largest
-- absolute difference between the two files' parameters (0 when identical).
-- Shared by the kill/resume tests, which compare a resumed run's weights with
-- an uninterrupted run's.
local strata = require "strata"
local a, b = strata.weights.load(arg[1]), strata.weights.load(arg[2])
local worst = 0
for _, name in ipairs(a.order) do
  local d = (a.params[name] - b.params[name]):abs():max()
  if d > worst then worst = d end
end
print(worst)
