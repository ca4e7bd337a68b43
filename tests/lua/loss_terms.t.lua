-- The loss-term registry (strata.loss) and a term defined in an experiment
-- file (experiments/depth_edges.lua): its gradient against central finite
-- differences of its value, the log columns, and the checks of a term's keys.
local strata = require "strata"
local tap = require "strata.tap"
local losses = require "strata.loss"
local experiment = require "strata.experiment"

local function resolve(t, sets) return experiment.resolve(t, "test", sets) end
local function fails(pattern, f, ...)
  local ok, err = pcall(f, ...)
  return not ok and tostring(err):find(pattern, 1, true) ~= nil, err
end

-- The registered terms make the defaults and the columns.
local defaults = experiment.defaults()
tap.is(table.concat(losses.names(defaults), ","), "content,style,tv,depth", "registered terms in log order")
local built = {}
for _, t in ipairs(losses.build(defaults)) do built[#built + 1] = t.name end
tap.is(table.concat(built, ","), "content,style,tv", "a zero weight (depth) turns a term off")

-- The experiment's own term.
local exp = resolve(dofile("experiments/depth_edges.lua"))
tap.is(table.concat(losses.names(exp), ","), "content,style,tv,depth,depth_edges",
  "depth_edges.lua adds a column after the registered terms")
local term
for _, t in ipairs(losses.build(exp)) do if t.name == "depth_edges" then term = t end end
tap.ok(term and term.network == "depth" and term.target == "content" and term.layers[1] == "depth",
  "the term reads the depth network's 'depth' layer against the content batch")

-- Gradient: d value / d f.depth against central differences.
local rng = strata.rng(5)
local a = rng:normal_(strata.empty({ 2, 1, 5, 6 }), 2, 1)
local b = rng:normal_(strata.empty({ 2, 1, 5, 6 }), 2, 1)
local f, t = { depth = a }, { depth = b }
local v0 = losses.value(term, f, t)
tap.ok(v0 > 0, "the value of different maps is positive (" .. v0 .. ")")
tap.close(losses.value(term, { depth = b }, t), 0, 1e-12, 0, "the value of equal maps is 0")
losses.value(term, f, t)
local g = losses.grad(term, f, t, 3.0).depth
tap.is(table.concat(g:shape(), "x"), "2x1x5x6", "the gradient has the map's shape")
local flat, gflat = a:view({ a:numel() }), g:view({ g:numel() })
local worst, eps = 0, 0.25 -- value is quadratic in the map: central differences are exact but for rounding
for _, i in ipairs({ 1, 2, 6, 7, 13, 30, 31, 45, 60 }) do
  local x = flat:get(i)
  flat:set(x + eps, i)
  local vp = losses.value(term, f, t)
  flat:set(x - eps, i)
  local vm = losses.value(term, f, t)
  flat:set(x, i)
  local fd = 3.0 * (vp - vm) / (2 * eps)
  worst = math.max(worst, math.abs(fd - gflat:get(i)) / math.max(math.abs(fd), 1e-3))
end
tap.diag("worst relative difference to finite differences: %.2e", worst)
tap.ok(worst < 1e-3, "depth_edges gradient (scaled by 3) matches finite differences")
tap.ok(fails("grad returned a gradient for layer 'relu1_1'", losses.grad,
  setmetatable({ def = { grad = function() return { relu1_1 = a } end } }, { __index = term }), f, t),
  "a gradient for a layer the term does not read is an error")

-- A term's keys are checked like any experiment key.
local function inline(extra)
  local d = { weight = 1, network = "depth", layers = { "depth" }, value = function() return 0 end,
    grad = function() return {} end }
  for k, v in pairs(extra) do d[k] = v end
  return { loss = { edges = d } }
end
tap.ok(fails("unknown key 'wieght' in a loss term (did you mean 'weight'?)", resolve, inline({ wieght = 2 })),
  "a misspelt key in a term names the closest")
tap.ok(fails("unknown network 'dpeth' (did you mean 'depth'?)", resolve, inline({ network = "dpeth" })),
  "an unknown network names the closest")
tap.ok(fails("'target' must be \"content\" or \"style\"", resolve, inline({ target = "batch" })),
  "a bad target is an error")
tap.ok(fails("unknown experiment key 'loss.contnt' (did you mean 'loss.content'?)", resolve,
  { loss = { contnt = { weight = 1 } } }), "a table without functions under loss is a misspelt key")
tap.ok(fails("uses 'k', a local variable from outside it", function()
  local k = 2
  local e = resolve(inline({ value = function() return k end }))
  return experiment.serialize(e)
end), "a term function using an outside local cannot be recorded, and says why")
local e2 = resolve(dofile("experiments/depth_edges.lua"), { "loss.depth_edges.weight=7" })
tap.is(e2.loss.depth_edges.weight, 7, "--set reaches a term defined in the file")

tap.done()
