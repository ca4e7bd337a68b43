-- TAP output for Lua tests (prove reads it); the Lua twin of tests/tap.h.
local tap = { n = 0, failed = 0 }

function tap.ok(cond, name)
  tap.n = tap.n + 1
  print(string.format("%sok %d - %s", cond and "" or "not ", tap.n, name or ""))
  if not cond then tap.failed = tap.failed + 1 end
  io.stdout:flush()
  return cond
end

function tap.diag(fmt, ...)
  print("# " .. string.format(fmt, ...))
end

function tap.is(got, want, name)
  local good = tap.ok(got == want, name)
  if not good then tap.diag("got %s, expected %s", tostring(got), tostring(want)) end
  return good
end

-- |got - want| <= atol + rtol * |want|
function tap.close(got, want, atol, rtol, name)
  local good = got == got and math.abs(got - want) <= atol + (rtol or 0) * math.abs(want)
  if not tap.ok(good, name) then tap.diag("got %.9g, expected %.9g", got, want) end
  return good
end

-- Passes when f raises an error whose message contains every given fragment.
function tap.raises(f, fragments, name)
  local ok, err = pcall(f)
  local good = not ok
  for _, frag in ipairs(fragments) do
    good = good and tostring(err):find(frag, 1, true) ~= nil
  end
  if not tap.ok(good, name) then tap.diag("error was: %s", ok and "(none)" or tostring(err)) end
  return good
end

-- "1,2.5,3": a list of numbers in %g form, for comparing small tensors.
function tap.str(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = string.format("%g", v) end
  return table.concat(out, ",")
end

function tap.skip_all(reason)
  print("1..0 # SKIP " .. reason)
  os.exit(0)
end

function tap.skip(reason)
  tap.n = tap.n + 1
  print(string.format("ok %d # SKIP %s", tap.n, reason))
end

function tap.done()
  print("1.." .. tap.n)
  os.exit(tap.failed == 0 and 0 or 1)
end

-- A file or folder of the repository's sample set (data/samples/, see
-- data/NOTICE). It is part of the repository: a missing file ends the test as
-- a failure, never a skip.
function tap.sample(rel)
  local path = (STRATA_HOME or ".") .. "/data/samples/" .. rel
  local core = require "strata.core"
  if not core.sys.exists(path) then
    print(string.format("Bail out! sample data '%s' is missing (it is tracked in the repository)", path))
    os.exit(1)
  end
  return path
end

return tap
