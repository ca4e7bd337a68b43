-- Small helpers shared by the Lua library.
local util = {}

-- Raises a user-facing error: one line, no Lua position prefix.
function util.fail(fmt, ...)
  error(string.format(fmt, ...), 0)
end

-- A total order on table keys of mixed types (numbers and strings by value,
-- then by type name), so a table's keys can be listed the same way every time.
function util.key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

-- A readable one-line text of any Lua value (error objects that are tables).
function util.describe(v, depth)
  depth = depth or 0
  local tv = type(v)
  if tv == "string" then return string.format("%q", v) end
  if tv ~= "table" then return tostring(v) end
  local mt = getmetatable(v)
  if type(mt) == "table" and mt.__tostring then return tostring(v) end
  if depth >= 3 then return "{...}" end
  local keys, parts = {}, {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, util.key_order)
  for i, k in ipairs(keys) do
    if i > 20 then parts[#parts + 1] = "..." break end
    local name = (type(k) == "string" and k:match("^[%a_][%w_]*$")) and k or ("[" .. util.describe(k, 3) .. "]")
    parts[#parts + 1] = (k == i and "" or (name .. " = ")) .. util.describe(v[k], depth + 1)
  end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

-- The user-facing text of an error value (bin/strata's message handler and
-- code that reports caught errors). A table (or other non-string) value is
-- described, after `where` (the raiser's "file:line: ", when known). Unless
-- `debug`, a message that starts at a position inside the library
-- (".../lua/strata/x.lua:N: "), an internal check or a bug, gets that
-- position at its end instead, so what the user reads starts with what went
-- wrong; STRATA_DEBUG=1 keeps it, with the traceback.
function util.error_text(err, where, debug)
  if type(err) ~= "string" then
    if type(err) == "number" then return tostring(err) end
    return (where or "") .. "error with a " .. type(err) .. " value: " .. util.describe(err)
  end
  if debug then return err end
  local file, line, rest = err:match("^[^:\n]-lua/strata/([%w_/]+%.lua):(%d+): (.*)$")
  if file then
    return string.format("%s (in strata/%s:%s; STRATA_DEBUG=1 shows the traceback)", rest, file, line)
  end
  return err
end

function util.shape_str(shape)
  return "[" .. table.concat(shape, ", ") .. "]"
end

function util.same_shape(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

-- Levenshtein distance, for "did you mean" suggestions.
function util.edit_distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

-- The candidate closest to `word`, or nil when none is reasonably close.
function util.closest(word, candidates)
  local best, best_d
  for _, c in ipairs(candidates) do
    local d = util.edit_distance(word, c)
    if not best_d or d < best_d then best, best_d = c, d end
  end
  if best and best_d <= math.max(2, #word // 3) then return best end
  return nil
end

return util
