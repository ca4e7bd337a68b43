-- Learning-rate schedules (strata.schedule): the rates of each kind at chosen
-- iterations, and one-line errors for bad schedules.
local tap = require "strata.tap"
local schedule = require "strata.schedule"

local function fails(pattern, ...)
  local ok, err = pcall(schedule.resolve, ...)
  return not ok and tostring(err):find(pattern, 1, true) ~= nil
end

local c = schedule.resolve(1e-3, 100)
tap.ok(c(1) == 1e-3 and c(100) == 1e-3, "a number is a constant rate")
tap.is(schedule.resolve({ kind = "constant", base = 2e-3 }, 10)(7), 2e-3, "constant table")

local s = schedule.resolve({ kind = "step", base = 1e-2, every = 10, gamma = 0.5 }, 100)
tap.ok(s(1) == 1e-2 and s(10) == 1e-2 and s(11) == 5e-3 and s(21) == 2.5e-3 and s(100) == 1e-2 * 0.5 ^ 9,
  "step: halves after every 10 iterations")

local cos = schedule.resolve({ kind = "cosine", base = 1e-2, min = 1e-4 }, 101)
tap.close(cos(1), 1e-2, 1e-15, 0, "cosine starts at base")
tap.close(cos(51), (1e-2 + 1e-4) / 2, 1e-15, 0, "cosine is halfway at the middle")
tap.close(cos(101), 1e-4, 1e-15, 0, "cosine ends at min on the run's last iteration")
local w = schedule.resolve({ kind = "cosine", base = 1e-2, warmup = 4 }, 20)
tap.ok(w(1) == 2.5e-3 and w(4) == 1e-2 and w(5) == 1e-2 and w(20) == 0, "cosine with a linear warm-up")

local f = schedule.resolve(function(it) return 1 / it end, 10)
tap.is(f(4), 0.25, "a function of the iteration")

tap.ok(fails("optim.lr: a step schedule needs 'gamma'", { kind = "step", base = 1, every = 2 }, 10), "missing key")
tap.ok(fails("a step schedule has no key 'gama' (did you mean 'gamma'?)",
  { kind = "step", base = 1, every = 2, gama = 0.5 }, 10), "misspelt key names the closest")
tap.ok(fails("optim.lr.base: expected a finite number >= 0, got -1", { kind = "constant", base = -1 }, 10),
  "negative rate")
tap.ok(fails("optim.lr.every: expected a whole number of iterations >= 1",
  { kind = "step", base = 1, every = 0.5, gamma = 0.5 }, 10), "fractional step length")
tap.ok(fails("optim.lr: min (2) is above base (1)", { kind = "cosine", base = 1, min = 2 }, 10), "min above base")
tap.ok(fails("optim.lr: the schedule gives nil at iteration 1", function() end, 10),
  "a function returning nothing fails before training, naming the iteration")
tap.ok(fails("optim.lr: the schedule gives -1 at iteration 10", function(it) return it < 10 and 1 or -1 end, 10),
  "a negative rate at the run's last iteration fails before training")
tap.ok(fails("optim.lr: the schedule failed at iteration 1: ", function(it) return it.x end, 10),
  "an error inside the function names the key and the iteration")
local late = schedule.resolve(function(it) return it == 5 and 0 / 0 or 1 end, 10)
local ok, err = pcall(late, 5)
tap.ok(not ok and err:find("^optim.lr: the schedule gives %-?nan at iteration 5") ~= nil,
  "a NaN rate mid-run names the iteration")

tap.done()
