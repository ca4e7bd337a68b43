-- Small helpers shared by the Lua library.
local util = {}

-- Raises a user-facing error: one line, no Lua position prefix.
function util.fail(fmt, ...)
  error(string.format(fmt, ...), 0)
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
