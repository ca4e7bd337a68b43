-- The loss-term registry. Every term of the training loss (the built-in
-- content, style, TV and depth terms, and any term an experiment defines) is
-- one definition with the same fields, so the trainer, log.csv, the progress
-- lines, report.md and sweep summaries iterate over terms instead of naming them.
--
-- A definition:
--   name     the log name: the log.csv column, the progress line, the key loss.<name>
--   network  the network whose features it reads: a loss network ("vgg",
--            "depth"; strata.loss.networks) or "image" (the stylized batch
--            itself, as the one layer "image")
--   layers   the layers it reads: a list of names, or function(opts) -> list
--   target   nil; "content": the same layers' features of the content batch,
--            every step; "style": of the style image, once
--   value    function(f, t, term) -> number, the unweighted loss; f and t map
--            layer -> features of the stylized batch and of the target (nil
--            without a target)
--   grad     function(f, t, term, scale) -> { layer = scale * d value / d f[layer] },
--            called after value in the same step; the trainer frees the
--            returned tensors once backward has read them (return x:ref()
--            for a tensor the term keeps). f and t are valid only during
--            the step's value and grad calls.
--   prepare  (optional, "style" targets) function(t, term) -> what value and
--            grad get as t instead of the style image's features, made once
--   defaults (registered terms) the term's experiment keys under loss.<name>
--            and their defaults; `weight` is one of them (0 turns the term off)
-- term, the instance a run uses: term.name, term.weight, term.network,
-- term.layers, term.target, term.opts (its experiment table) and term.saved,
-- a table value and grad may use to pass things within one step.
local util = require "strata.util"

local M = {}

local registered, order = {}, {}

local TARGETS = { content = true, style = true }

local function check_def(def, where)
  if type(def.name) ~= "string" or not def.name:match("^[%a_][%w_]*$") then
    util.fail("%s: a loss term needs a name of letters, digits and '_'", where)
  end
  if type(def.network) ~= "string" then util.fail("%s: 'network' must name a loss network or \"image\"", where) end
  if def.target ~= nil and not TARGETS[def.target] then
    util.fail("%s: 'target' must be \"content\" or \"style\" (or absent), not %s", where, tostring(def.target))
  end
  if type(def.value) ~= "function" then util.fail("%s: 'value' must be a function(f, t, term) -> number", where) end
  if type(def.grad) ~= "function" then
    util.fail("%s: 'grad' must be a function(f, t, term, scale) -> { layer = gradient }", where)
  end
end

-- Adds a term to the registry (the built-in terms do this in strata.loss).
function M.register(def)
  check_def(def, "loss term " .. tostring(def.name))
  if registered[def.name] then util.fail("loss term '%s' is registered twice", def.name) end
  if type(def.defaults) ~= "table" or type(def.defaults.weight) ~= "number" then
    util.fail("loss term '%s': defaults must hold at least a numeric weight", def.name)
  end
  registered[def.name] = def
  order[#order + 1] = def.name
  return def
end

function M.get(name) return registered[name] end

-- The experiment's `loss` table of defaults: every registered term's keys.
function M.defaults()
  local out = {}
  for _, name in ipairs(order) do
    local d = {}
    for k, v in pairs(registered[name].defaults) do
      if type(v) == "table" then
        local c = {}
        for i, x in ipairs(v) do c[i] = x end
        v = c
      end
      d[k] = v
    end
    out[name] = d
  end
  return out
end

-- The keys of a term defined in an experiment file, loss.<name> = { ... }.
local INLINE_KEYS = { "weight", "network", "layers", "target", "value", "grad", "prepare" }

-- True when an unknown loss.<name> table is meant as a new term (it brings a
-- value function); experiment.lua then checks it with M.check_inline.
function M.is_inline(v)
  return type(v) == "table" and (type(v.value) == "function" or type(v.grad) == "function")
end

-- Checks a term defined in an experiment file; errors name the key.
function M.check_inline(key, v, where)
  local name = key:match("^loss%.(.+)$")
  local at = where .. ": '" .. key .. "'"
  if not name or not name:match("^[%a_][%w_]*$") then
    util.fail("%s: a loss term's name must be letters, digits and '_'", at)
  end
  for k in pairs(v) do
    local known = false
    for _, n in ipairs(INLINE_KEYS) do known = known or k == n end
    if not known then
      local near = util.closest(tostring(k), INLINE_KEYS)
      util.fail("%s: unknown key '%s' in a loss term%s (a term has %s)", at, tostring(k),
        near and (" (did you mean '" .. near .. "'?)") or "", table.concat(INLINE_KEYS, ", "))
    end
  end
  if type(v.weight) ~= "number" then util.fail("%s: 'weight' must be a number", at) end
  if type(v.layers) ~= "table" or #v.layers == 0 then
    util.fail("%s: 'layers' must be a non-empty list of layer names of its network", at)
  end
  for _, l in ipairs(v.layers) do
    if type(l) ~= "string" then util.fail("%s: 'layers' must hold layer names (strings)", at) end
  end
  if v.prepare ~= nil and (type(v.prepare) ~= "function" or v.target ~= "style") then
    util.fail("%s: 'prepare' must be a function(t, term), for a term whose target is \"style\"", at)
  end
  local def = { name = name, network = v.network, target = v.target, value = v.value, grad = v.grad }
  check_def(def, at)
  local networks = require "strata.loss.networks"
  if not networks.known(v.network) then
    local near = util.closest(v.network, networks.names())
    util.fail("%s: unknown network '%s'%s (loss networks: %s)", at, v.network,
      near and (" (did you mean '" .. near .. "'?)") or "", table.concat(networks.names(), ", "))
  end
end

-- The names of the experiment's terms in log order: registered terms in
-- registration order, then the experiment's own terms by name.
function M.names(exp)
  local out, seen = {}, {}
  for _, name in ipairs(order) do
    if exp.loss[name] then out[#out + 1], seen[name] = name, true end
  end
  local extra = {}
  for name in pairs(exp.loss) do
    if not seen[name] then extra[#extra + 1] = name end
  end
  table.sort(extra)
  for _, name in ipairs(extra) do out[#out + 1] = name end
  return out
end

-- The instances of the experiment's terms with a nonzero weight, in log order.
function M.build(exp)
  local terms = {}
  for _, name in ipairs(M.names(exp)) do
    local opts = exp.loss[name]
    if opts.weight ~= 0 then
      local def = registered[name] or opts -- an experiment's term is its own definition
      local layers = def.layers
      if type(layers) == "function" then layers = layers(opts) end
      terms[#terms + 1] = { name = name, key = "loss." .. name, def = def, weight = opts.weight, opts = opts,
        network = def.network, target = def.target, layers = layers, saved = {} }
    end
  end
  return terms
end

-- A "style" term's target from the style image's features (see prepare).
function M.style_target(term, feats)
  return term.def.prepare and term.def.prepare(feats, term) or feats
end

-- One term's value and the gradient it adds (scale = its weight), for a
-- caller that has the features (the trainer, tests).
function M.value(term, f, t) return term.def.value(f, t, term) end

function M.grad(term, f, t, scale)
  local g = term.def.grad(f, t, term, scale or term.weight)
  if type(g) ~= "table" then util.fail("%s: grad must return a table layer -> gradient", term.key) end
  for layer in pairs(g) do
    local reads = false
    for _, l in ipairs(term.layers) do reads = reads or l == layer end
    if not reads then
      util.fail("%s: grad returned a gradient for layer '%s', which the term does not read", term.key, tostring(layer))
    end
  end
  return g
end

return M
