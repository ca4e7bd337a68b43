-- Learning-rate schedules: optim.lr as a function of the iteration (1-based).
--   1e-3                                              constant
--   { kind = "constant", base = 1e-3 }
--   { kind = "step", base = 1e-3, every = 1000, gamma = 0.5 }
--                                   base * gamma ^ floor((it - 1) / every)
--   { kind = "cosine", base = 1e-3, min = 0, warmup = 0 }
--                                   linear from base/warmup up to base over the
--                                   first `warmup` iterations, then half a cosine
--                                   from base down to min at the run's last iteration
--   function(it) return ... end     any Lua function of the iteration; it must
--                                   depend on nothing else, so that a resumed run
--                                   gets the same rates (it is recorded in
--                                   experiment.lua by its source text)
-- The rate depends only on the iteration and the run's length, so a resumed
-- run follows the schedule exactly.
local util = require "strata.util"

local M = {}

local KINDS = {
  constant = { base = true },
  step = { base = true, every = true, gamma = true },
  cosine = { base = true, min = false, warmup = false },
}

local function names(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local function check_rate(key, v, it)
  if type(v) ~= "number" or v ~= v or v < 0 or v == math.huge then
    util.fail("%s: the schedule gives %s at iteration %d (expected a finite number >= 0)", key, tostring(v), it)
  end
  return v
end

local function table_schedule(s, total, key)
  local kind = s.kind
  local fields = KINDS[kind]
  if not fields then
    local near = util.closest(tostring(kind), names(KINDS))
    util.fail("%s: unknown schedule kind '%s'%s (kinds: %s)", key, tostring(kind),
      near and (" (did you mean '" .. near .. "'?)") or "", table.concat(names(KINDS), ", "))
  end
  for k, v in pairs(s) do
    if k ~= "kind" then
      if fields[k] == nil then
        local near = util.closest(tostring(k), names(fields))
        util.fail("%s: a %s schedule has no key '%s'%s (keys: kind, %s)", key, kind, tostring(k),
          near and (" (did you mean '" .. near .. "'?)") or "", table.concat(names(fields), ", "))
      end
      if type(v) ~= "number" or v ~= v or v < 0 or v == math.huge then
        util.fail("%s.%s: expected a finite number >= 0, got %s", key, k, tostring(v))
      end
    end
  end
  for k, required in pairs(fields) do
    if required and s[k] == nil then util.fail("%s: a %s schedule needs '%s'", key, kind, k) end
  end
  local base = s.base
  if kind == "constant" then return function() return base end end
  if kind == "step" then
    if math.type(s.every) ~= "integer" or s.every < 1 then
      util.fail("%s.every: expected a whole number of iterations >= 1, got %s", key, tostring(s.every))
    end
    local every, gamma = s.every, s.gamma
    return function(it) return base * gamma ^ ((it - 1) // every) end
  end
  local min, warmup = s.min or 0, s.warmup or 0
  if math.type(warmup) ~= "integer" then util.fail("%s.warmup: expected a whole number of iterations", key) end
  if min > base then util.fail("%s: min (%s) is above base (%s)", key, tostring(min), tostring(base)) end
  return function(it)
    if it <= warmup then return base * it / warmup end
    local p = (it - 1 - warmup) / math.max(1, total - 1 - warmup)
    if p > 1 then p = 1 end
    return min + (base - min) * (1 + math.cos(math.pi * p)) / 2
  end
end

-- The rate function of an optim.lr value for a run of `total` iterations;
-- errors name `key`. The result checks every rate it returns.
function M.resolve(lr, total, key)
  key = key or "optim.lr"
  local f
  if type(lr) == "number" then
    check_rate(key, lr, 1)
    return function() return lr end
  elseif type(lr) == "table" then
    f = table_schedule(lr, total, key)
  elseif type(lr) == "function" then
    f = lr
  else
    util.fail("%s: expected a number, a schedule table or a function(iteration), not a %s", key, type(lr))
  end
  local function rate(it)
    local ok, v = pcall(f, it)
    if not ok then util.fail("%s: the schedule failed at iteration %d: %s", key, it, tostring(v)) end
    return check_rate(key, v, it)
  end
  rate(1) -- bad schedules fail before training
  rate(math.max(1, total))
  return rate
end

return M
