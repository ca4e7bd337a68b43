-- Experiment tables: defaults, merging, validation and --set overrides.
-- An experiment file returns a partial table; every key it sets must exist in
-- the defaults below (a misspelt key is an error naming the closest valid one).
local util = require "strata.util"
local losses = require "strata.loss"
local networks = require "strata.loss.networks"
local fn_source = require "strata.fn_source"

local M = {}

-- Every valid key, with its default. Lists (arrays) are replaced whole.
function M.defaults()
  local d = {
    name = "experiment",
    run = "default",                 -- results/<name>/<run>/
    seed = 1,
    device = "cpu",
    precision = "fp32",              -- "tf32": TF32 tensor cores for GPU convolutions and GEMMs (faster, ~1e-3)
    data = {
      train = "data/train2014",      -- folder of training images (searched recursively)
      size = 256,                    -- squash to size x size
      batch = 4,
    },
    style = { image = "data/samples/styles/wave.jpg", scale = 1.0 },
    model = {
      channels = { 32, 64, 128 }, blocks = 5, padding = "same", eps = 1e-3,
      input_scale = 1 / 255,         -- Engstrom's training feeds X/255
      init_std = 0.1,                -- truncated normal, as Engstrom
    },
    -- The loss networks (strata.loss.networks): vgg = { model, weights },
    -- depth = { model, weights }, loaded when a term with a nonzero weight reads them.
    -- The loss terms (strata.loss): loss.<term> = { weight = ..., ... } per
    -- registered term; an experiment may add its own (docs/extending.md).
    loss = losses.defaults(),
    optim = { lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 },
    schedule = {
      iterations = 0,                -- 0: use epochs
      epochs = 2,
      log_every = 10,
      checkpoint_every = 2000,
      sample_every = 1000,
      keep_checkpoints = 3,
    },
    sample = { image = "data/samples/content/chicago.jpg", size = 256 },
    output = { dir = "results" },
  }
  for name, spec in pairs(networks.defaults()) do d[name] = spec end
  return d
end

local function is_list(t)
  return type(t) == "table" and (#t > 0 or next(t) == nil)
end

local function keys_of(t, prefix, out)
  for k, v in pairs(t) do
    local key = prefix and (prefix .. "." .. k) or k
    out[#out + 1] = key
    if type(v) == "table" and not is_list(v) then keys_of(v, key, out) end
  end
  return out
end

-- Keys whose value may take several types (checked further where used).
local ALTERNATIVES = {
  ["optim.lr"] = { number = true, table = true, ["function"] = true,
    text = "number, a schedule table or a function(iteration) -> rate" },
  images = { string = true, table = true, text = "folder or a list of image files" }, -- strata eval's
}

-- Copies `src` over `dst` (defaults), checking every key exists in `dst`.
-- origins (optional): key -> where its value came from, for messages.
local function merge(dst, src, prefix, root, where, origins)
  for k, v in pairs(src) do
    local key = prefix and (prefix .. "." .. k) or tostring(k)
    local d = dst[k]
    if d == nil and prefix == "loss" and losses.is_inline(v) then
      losses.check_inline(key, v, where) -- an experiment's own loss term
      local copy = {}
      for kk, vv in pairs(v) do copy[kk] = vv end
      dst[k] = copy
    elseif d == nil then
      local near = util.closest(key, keys_of(root, nil, {}))
      util.fail("%s: unknown experiment key '%s'%s", where, key, near and (" (did you mean '" .. near .. "'?)") or "")
    elseif type(d) == "table" and not is_list(d) then
      if type(v) ~= "table" then util.fail("%s: '%s' must be a table", where, key) end
      merge(d, v, key, root, where, origins)
    else
      local accepts = ALTERNATIVES[key]
      if accepts and not accepts[type(v)] then
        util.fail("%s: '%s' must be a %s, not a %s", where, key, accepts.text, type(v))
      elseif not accepts and type(d) ~= type(v) then
        util.fail("%s: '%s' must be a %s, not a %s", where, key, type(d), type(v))
      end
      dst[k] = v
      if origins then origins[key] = where:sub(1, 5) == "--set" and ("set by " .. where) or ("set in " .. where) end
    end
  end
end

-- A table literal typed after --set is data, not a program: it is evaluated
-- with no globals and no string methods, in a coroutine whose count hook
-- allows SET_INSTRUCTIONS VM instructions and SET_MEMORY_KIB of new memory,
-- so `{while true do end}` or a string-doubling loop fails at once instead of
-- hanging or exhausting memory. (Experiment files are not budgeted: `strata
-- run` runs any Lua script, and a file is the user's own program.)
local SET_INSTRUCTIONS, SET_MEMORY_KIB = 1000000, 64 * 1024

local function eval_literal(text)
  local f, err = load("return " .. text, "=--set", "t", {})
  if not f then return nil, err end
  local co = coroutine.create(f)
  local count, base = 0, collectgarbage("count")
  debug.sethook(co, function()
    count = count + 1
    if count > SET_INSTRUCTIONS then error(string.format("more than %d Lua instructions", SET_INSTRUCTIONS), 0) end
    if collectgarbage("count") - base > SET_MEMORY_KIB then error("more than 64 MiB of memory", 0) end
  end, "", 1)
  local strings = getmetatable("")
  local methods = strings.__index
  strings.__index = nil
  local ok, v = coroutine.resume(co)
  strings.__index = methods
  if not ok then return nil, tostring(v) end
  if coroutine.status(co) ~= "dead" then return nil, "it did not finish" end
  return v
end

-- Parses the value of a --set: number, boolean, Lua table literal, or string.
local function parse_value(s, key)
  if s == "true" then return true end
  if s == "false" then return false end
  local n = tonumber(s)
  if n then return n end
  if s:match("^%s*{") then
    local v, err = eval_literal(s)
    if v == nil then util.fail("--set %s: cannot evaluate the table value %s: %s", key, s, err) end
    return v
  end
  return s
end

-- Applies "a.b.c=value" to exp, with the same key checks as the file.
function M.apply_set(exp, assignment, origins)
  local key, value = assignment:match("^([%w_%.]+)=(.*)$")
  if not key then util.fail("--set '%s': expected KEY=VALUE, e.g. loss.tv.weight=100", assignment) end
  local src, node = {}, nil
  node = src
  local parts = {}
  for p in key:gmatch("[^%.]+") do parts[#parts + 1] = p end
  for i = 1, #parts - 1 do
    node[parts[i]] = {}
    node = node[parts[i]]
  end
  node[parts[#parts]] = parse_value(value, key)
  local shown = #assignment > 60 and (assignment:sub(1, 57) .. "...") or assignment
  merge(exp, src, nil, exp, "--set " .. shown, origins)
end

-- Copies `src` over the table of defaults `dst`, checking every key (for
-- other configuration tables, such as evaluation files). Returns dst.
function M.merge_checked(dst, src, where, origins)
  merge(dst, src, nil, dst, where, origins)
  return dst
end

-- Defaults, then the file's table, then --set's, with every key checked but
-- not the values; returns the experiment and where each value came from.
function M.merge_all(file_table, where, sets)
  local exp, origins = M.defaults(), {}
  merge(exp, file_table, nil, exp, where, origins)
  for _, s in ipairs(sets or {}) do M.apply_set(exp, s, origins) end
  return exp, origins
end

-- The resolved experiment: merge_all's, with every value checked (see
-- strata.experiment_check). Returns the experiment and the origins.
function M.resolve(file_table, where, sets)
  local exp, origins = M.merge_all(file_table, where, sets)
  require("strata.experiment_check").values(exp, origins)
  return exp, origins
end

local KEYWORDS = {}
for w in ("and break do else elseif end false for function goto if in local nil not or repeat return then true "
  .. "until while"):gmatch("%a+") do KEYWORDS[w] = true end

-- A number as text that reads back to the same value: floats keep a '.',
-- inf and nan become 1/0 and 0/0 (tostring gives 14 digits and "inf").
local function number_text(x)
  if math.type(x) == "integer" then return string.format("%d", x) end
  if x ~= x then return "0/0" end
  if x == math.huge or x == -math.huge then return x > 0 and "1/0" or "-1/0" end
  local s
  for p = 15, 17 do
    s = string.format("%." .. p .. "g", x)
    if tonumber(s) == x then break end
  end
  if not s:find("[%.eEn]") then s = s .. ".0" end
  return s
end

-- A readable, loadable Lua text of a table (keys sorted). Functions are
-- written as their source text (strata.fn_source); `path` names the value
-- in errors.
function M.serialize(v, indent, path)
  indent = indent or ""
  path = path or "value"
  local tv = type(v)
  if tv == "string" then return string.format("%q", v) end
  if tv == "number" then return number_text(v) end
  if tv == "boolean" or tv == "nil" then return tostring(v) end
  if tv == "function" then return fn_source.text(v, path) end
  if tv ~= "table" then error(string.format("serialize: %s: cannot write a %s", path, tv), 0) end
  local inner = indent .. "  "
  local parts = {}
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  if #v > 0 and #keys == #v then -- a plain list
    for i, x in ipairs(v) do parts[#parts + 1] = M.serialize(x, inner, path .. "[" .. i .. "]") end
    return "{ " .. table.concat(parts, ", ") .. " }"
  end
  table.sort(keys, util.key_order)
  for _, k in ipairs(keys) do
    local name = type(k) == "string" and k:match("^[%a_][%w_]*$") and not KEYWORDS[k] and k
      or "[" .. M.serialize(k) .. "]"
    parts[#parts + 1] = inner .. name .. " = " .. M.serialize(v[k], inner, path == "value" and tostring(k) or path .. "." .. tostring(k)) .. ","
  end
  return "{\n" .. table.concat(parts, "\n") .. "\n" .. indent .. "}"
end

return M
