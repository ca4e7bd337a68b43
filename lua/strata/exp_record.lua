-- The record of a resolved experiment that each checkpoint carries, and the
-- comparison a resume makes against it: one line "key = value" per leaf
-- setting that changes what is computed (nested tables flattened to dotted
-- keys, lists written inline). Safe settings (below) are left out of the
-- record, so two runs computing the same thing write the same checkpoint
-- bytes whatever their names, folders or cadences.
--
-- Function values (an optimiser schedule given as a Lua function, say) are
-- compared by a digest of their stripped bytecode and of the values of their
-- upvalues (other than _ENV), so the same function text with a different
-- captured constant counts as a change. Globals a function reads are not part
-- of the digest; a C function is recorded by name only.
local core = require "strata.core"
local util = require "strata.util"

local M = {}

-- Settings that may change between sessions of one run: how long, how often
-- to log/sample/checkpoint, where and on what it runs. Every other key (the
-- model, losses, data, optimiser, seed, style, loss networks, and any key
-- added later) changes what is computed and must match.
local SAFE = {
  ["schedule.iterations"] = true, ["schedule.epochs"] = true, ["schedule.log_every"] = true,
  ["schedule.checkpoint_every"] = true, ["schedule.sample_every"] = true, ["schedule.keep_checkpoints"] = true,
  device = true, precision = true, ["output.dir"] = true, name = true, run = true,
}
local SAFE_PREFIX = { "sample." } -- the sample image only makes pictures

function M.is_safe(key)
  if SAFE[key] then return true end
  for _, p in ipairs(SAFE_PREFIX) do
    if key:sub(1, #p) == p then return true end
  end
  return false
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, util.key_order)
  return keys
end

local function is_list(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n == #t
end

local function number_text(x)
  if math.type(x) == "integer" then return string.format("%d", x) end
  if x ~= x then return "0/0" end
  if x == math.huge or x == -math.huge then return x > 0 and "1/0" or "-1/0" end
  for p = 15, 17 do
    local s = string.format("%." .. p .. "g", x)
    if tonumber(s) == x then return s:find("[%.eEn]") and s or s .. ".0" end
  end
end

-- One value as one line of text (depth guards against cycles).
local function value_text(v, depth)
  local tv = type(v)
  if depth > 8 then return "<nested too deep>" end
  if tv == "string" then return (string.format("%q", v):gsub("\\\n", "\\n")) end
  if tv == "number" then return number_text(v) end
  if tv == "boolean" or tv == "nil" then return tostring(v) end
  if tv == "table" then
    local parts = {}
    if is_list(v) then
      for _, x in ipairs(v) do parts[#parts + 1] = value_text(x, depth + 1) end
    else
      for _, k in ipairs(sorted_keys(v)) do
        parts[#parts + 1] = "[" .. value_text(k, depth + 1) .. "] = " .. value_text(v[k], depth + 1)
      end
    end
    return "{ " .. table.concat(parts, ", ") .. " }"
  end
  if tv == "function" then
    local ok, code = pcall(string.dump, v, true)
    if not ok then return "C function" end
    local ups = {}
    for i = 1, 255 do
      local name, uv = debug.getupvalue(v, i)
      if not name then break end
      if name ~= "_ENV" then ups[#ups + 1] = name .. "=" .. (uv == v and "self" or value_text(uv, depth + 1)) end
    end
    return "function " .. core.sys.sha256(code .. "\0" .. table.concat(ups, "\0")):sub(1, 16)
  end
  return "<" .. tv .. ">"
end

local function flatten(t, prefix, out)
  for _, k in ipairs(sorted_keys(t)) do
    local v = t[k]
    local key = prefix and (prefix .. "." .. tostring(k)) or tostring(k)
    if type(v) == "table" and next(v) ~= nil and not is_list(v) then flatten(v, key, out)
    else out[key] = value_text(v, 0) end
  end
  return out
end

-- { key = text } for a resolved experiment table.
function M.flatten(exp) return flatten(exp, nil, {}) end

-- The text stored in a checkpoint: the settings that must match.
function M.encode(exp)
  local flat, lines = M.flatten(exp), {}
  for _, k in ipairs(sorted_keys(flat)) do
    if not M.is_safe(k) then lines[#lines + 1] = k .. " = " .. flat[k] end
  end
  return table.concat(lines, "\n") .. "\n"
end

function M.decode(text)
  local flat = {}
  for line in text:gmatch("[^\n]+") do
    local k, v = line:match("^(.-) = (.*)$")
    if k then flat[k] = v end
  end
  return flat
end

-- Differences between a recorded experiment (text from encode, or a flat
-- table) and the current one: { {key =, old =, new =, safe = bool}, ... }
-- sorted by key. Only the keys of `which` ("all", or "computed": the
-- must-match keys) are compared.
function M.diff(old_text, exp, which)
  local old = type(old_text) == "table" and old_text or M.decode(old_text)
  local new = M.flatten(exp)
  if which == "computed" then
    for k in pairs(new) do if M.is_safe(k) then new[k] = nil end end
    for k in pairs(old) do if M.is_safe(k) then old[k] = nil end end
  end
  local keys, seen = {}, {}
  for k in pairs(old) do keys[#keys + 1], seen[k] = k, true end
  for k in pairs(new) do if not seen[k] then keys[#keys + 1] = k end end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do
    if old[k] ~= new[k] then
      out[#out + 1] = { key = k, old = old[k] or "(not set)", new = new[k] or "(not set)", safe = M.is_safe(k) }
    end
  end
  return out
end

return M
