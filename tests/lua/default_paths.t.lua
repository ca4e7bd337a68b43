-- Every path a default or a shipped experiment names stays inside the
-- repository, and the sample files they name are there (data/samples/):
-- a user with this checkout alone can run them.
local strata = require "strata"
local tap = require "strata.tap"
local experiment = require "strata.experiment"
local eval = require "strata.eval"

-- Strings of a (nested) table that are file paths, with their keys.
local function paths(t, prefix, out)
  for k, v in pairs(t) do
    local key = prefix .. tostring(k)
    if type(v) == "table" then
      paths(v, key .. ".", out)
    elseif type(v) == "string" and (v:find("/", 1, true) or v:match("%.%a+$")) then
      out[#out + 1] = { key = key, path = v }
    end
  end
  return out
end

local function check(where, t)
  local list = paths(t, "", {})
  table.sort(list, function(a, b) return a.key < b.key end)
  for _, p in ipairs(list) do
    local inside = p.path:sub(1, 1) ~= "/" and not p.path:match("^%.%.") and not p.path:find("/%.%./")
    tap.ok(inside, string.format("%s %s = '%s' is inside the repository", where, p.key, p.path))
    if p.path:match("^data/samples/") then
      tap.ok(strata.sys.exists(p.path), string.format("%s %s: '%s' exists", where, p.key, p.path))
    end
  end
end

local d = experiment.defaults()
check("experiment defaults", d)
check("eval defaults", eval.defaults())
tap.is(d.style.image, "data/samples/styles/wave.jpg", "the default style is Hokusai's wave from data/samples")
tap.is(d.sample.image, "data/samples/content/chicago.jpg", "the default sample image is data/samples' chicago.jpg")
tap.ok(strata.sys.is_dir(eval.defaults().images), "the default test images are a folder of the repository")

for _, f in ipairs({ "baseline", "paper", "depth_l2", "demo", "sweep_depth" }) do
  local file = "experiments/" .. f .. ".lua"
  local t = dofile(file)
  tap.ok(type(t) == "table", file .. " returns a table")
  check(file, t)
end
tap.done()
