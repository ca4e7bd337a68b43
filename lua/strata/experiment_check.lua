-- What an experiment's values may be, checked once after defaults, the file
-- and --set are merged and before anything runs (experiment.resolve), so a bad
-- value is one error naming its key, what was expected and where the value
-- came from, never an internal error later or a silent run.
--   values(exp, origins)       every key against the schema below, the loss
--                              terms (weights, layers of their networks), then
--                              the rules between keys (minimum image sizes, ...)
--   inputs(exp, origins)       at the start of training: the input images
--                              exist, decode and are large enough
--   eval_values(cfg, origins)  the same for `strata eval` files
-- Integral floats (1e4) where integers are meant become integers.
local core = require "strata.core"
local util = require "strata.util"
local transformer = require "strata.models.transformer"
local losses = require "strata.loss"
local networks = require "strata.loss.networks"
local schedule = require "strata.schedule"

local M = {}

M.MAX_SIDE = 16384 -- pixels: larger images are surely a typo, and would exhaust memory

-- ---- showing values ----

local function show(v)
  local tv = type(v)
  if tv == "string" then return string.format("%q", v) end
  if tv == "number" then
    if math.type(v) == "integer" then return string.format("%d", v) end
    if v ~= v then return "nan" end
    if v == math.huge or v == -math.huge then return v > 0 and "inf" or "-inf" end
    for p = 6, 17 do
      local s = string.format("%." .. p .. "g", v)
      if tonumber(s) == v then return s end
    end
    return tostring(v)
  end
  if tv == "table" then return "a table" end
  if tv == "function" then return "a function" end
  return tostring(v)
end
M.show = show

-- Where a key's value came from: "(set in FILE)", "(set by --set K=V)" or
-- "(the default)"; origins maps keys to that text (experiment.merge_all).
local function origin(origins, key)
  local o = origins and origins[key]
  return o and (" (" .. o .. ")") or " (the default)"
end

local function fail_key(origins, key, fmt, ...)
  util.fail("%s: %s%s", key, string.format(fmt, ...), origin(origins, key))
end

-- ---- rules: function(v) -> value (normalised), or nil, "what was expected" ----

local function finite(v) return v == v and v ~= math.huge and v ~= -math.huge end

-- opts: integer, gt, min (>=), lt, max (<=), multiple.
local function number(opts)
  local bounds = {}
  if opts.gt then bounds[#bounds + 1] = "> " .. show(opts.gt) end
  if opts.min then bounds[#bounds + 1] = ">= " .. show(opts.min) end
  if opts.lt then bounds[#bounds + 1] = "< " .. show(opts.lt) end
  if opts.max then bounds[#bounds + 1] = "<= " .. show(opts.max) end
  local text = (opts.integer and "an integer" or "a number")
    .. (#bounds > 0 and (" " .. table.concat(bounds, " and ")) or "")
  if opts.multiple then text = text .. ", a multiple of " .. opts.multiple end
  return function(v)
    if type(v) ~= "number" or not finite(v) then return nil, text end
    if opts.integer then
      v = math.tointeger(v)
      if not v then return nil, text end
    end
    if (opts.gt and not (v > opts.gt)) or (opts.min and v < opts.min) or (opts.lt and not (v < opts.lt))
      or (opts.max and v > opts.max) or (opts.multiple and v % opts.multiple ~= 0) then
      return nil, text
    end
    return v
  end
end
local function int(opts)
  opts = opts or {}
  opts.integer = true
  return number(opts)
end

local function string_rule(v)
  if type(v) ~= "string" then return nil, "a string" end
  return v
end

-- A path: a non-empty string without line breaks or NUL.
local function path(v)
  if type(v) ~= "string" or v == "" or v:find("[%z\n\r]") then return nil, "a file path (a non-empty string)" end
  return v
end

local function one_of(choices)
  local quoted = {}
  for i, c in ipairs(choices) do quoted[i] = string.format("%q", c) end
  local text = "one of " .. table.concat(quoted, ", ")
  return function(v)
    for _, c in ipairs(choices) do if v == c then return v end end
    return nil, text
  end
end

-- "cpu", "cuda" or "cuda:N" (N = 0..63, as the engine's device parser).
local function device(v)
  if v == "cpu" or v == "cuda" then return v end
  local n = type(v) == "string" and v:match("^cuda:(%d+)$")
  if n and #n <= 2 and tonumber(n) < 64 then return v end
  return nil, "\"cpu\", \"cuda\" or \"cuda:N\" (N a GPU index)"
end

-- The model module a loss network's `model` names, when it is one of
-- strata.models (a .lua model file is the user's: checked when it loads).
local function builtin_model(model)
  if type(model) ~= "string" or not model:match("^[%w_]+$") then return nil end
  local ok, m = pcall(require, "strata.models." .. model)
  if ok and type(m) == "table" and type(m.from_file) == "function" then return m end
end

-- <network>.model: a model of strata.models or the path of a .lua model file.
local function model_rule(v)
  if type(v) == "string" and (builtin_model(v) or (v:match("%.lua$") and not v:find("[%z\n\r]"))) then return v end
  return nil, "a model of strata.models (\"vgg19\", \"fcrn\") or the path of a .lua model file"
end

-- `layer` is a name of the model's layers (when the model lists them).
local function check_layer(m, label, layer)
  if not (m and m.layer_names) then return type(layer) == "string" and layer or nil, "a layer name" end
  local names = m.layer_names()
  for _, n in ipairs(names) do if layer == n then return layer end end
  local near = type(layer) == "string" and util.closest(layer, names)
  return nil, string.format("a layer of %s%s", label, near and (" (did you mean '" .. near .. "'?)") or "")
end

-- A list (1..n keys, nothing else) whose entries pass `each`; opts.len: exact
-- length, opts.min_len, opts.unique: no entry twice.
local function list(each, opts)
  return function(v)
    local what = opts.len and string.format("a list of %d entries", opts.len)
      or (opts.min_len == 1 and "a non-empty list" or "a list")
    if type(v) ~= "table" then return nil, what end
    local n, count = #v, 0
    for _ in pairs(v) do count = count + 1 end
    if count ~= n then return nil, what .. ", got a table with keys other than 1..n", true end
    if (opts.len and n ~= opts.len) or (opts.min_len and n < opts.min_len) then
      return nil, string.format("%s, got %d entries", what, n), true
    end
    local out, seen = {}, {}
    for i = 1, n do
      local x, why = each(v[i])
      if x == nil then return nil, string.format("entry %d to be %s, got %s", i, why, show(v[i])), true end
      if opts.unique and seen[x] then return nil, string.format("no entry twice, got %s twice", show(x)), true end
      seen[x], out[i] = true, x
    end
    return out
  end
end

-- optim.lr: a number > 0, or a schedule: a table ({ kind = "step", ... }),
-- whose fields strata.schedule checks here (its messages name optim.lr), or
-- a function of the iteration, which strata.schedule calls when training
-- starts (rates at the first and last iteration).
local positive = number({ gt = 0 })
local function learning_rate(v)
  if type(v) == "function" then return v end
  if type(v) == "table" then
    schedule.resolve(v, 1, "optim.lr")
    return v
  end
  local x = positive(v)
  if x == nil then return nil, "a number > 0 (or a schedule table or function)" end
  return x
end

-- ---- the schema: every key of experiment.defaults() ----
-- name, run and output.dir are path components and a folder: their rules
-- (no '/', '..', control characters, ...) live with the code that builds the
-- run's folder; here only their type. The loss terms' keys (loss.<term>.*)
-- come from the registry: see M.loss_terms.

M.experiment = {
  ["name"] = string_rule,
  ["run"] = string_rule,
  ["seed"] = int(),
  ["device"] = device,
  ["precision"] = one_of({ "fp32", "tf32" }),
  ["data.train"] = path,
  ["data.size"] = int({ min = 1, max = M.MAX_SIDE, multiple = transformer.size_multiple }),
  ["data.batch"] = int({ min = 1, max = 65536 }),
  ["style.image"] = path,
  ["style.scale"] = number({ gt = 0, max = 64 }),
  ["model.channels"] = list(int({ min = 1, max = 4096 }), { len = 3 }),
  ["model.blocks"] = int({ min = 0, max = 64 }),
  ["model.padding"] = one_of(transformer.paddings),
  ["model.eps"] = number({ gt = 0, max = 1 }),
  ["model.input_scale"] = number({ gt = 0 }),
  ["model.init_std"] = number({ gt = 0 }),
  ["optim.lr"] = learning_rate,
  ["optim.beta1"] = number({ min = 0, lt = 1 }),
  ["optim.beta2"] = number({ min = 0, lt = 1 }),
  ["optim.eps"] = number({ gt = 0 }),
  ["schedule.iterations"] = int({ min = 0 }),
  ["schedule.epochs"] = int({ min = 0 }),
  ["schedule.log_every"] = int({ min = 1 }),
  ["schedule.checkpoint_every"] = int({ min = 1 }),
  ["schedule.sample_every"] = int({ min = 0 }),
  ["schedule.keep_checkpoints"] = int({ min = 1 }),
  ["sample.image"] = path,
  ["sample.size"] = int({ min = 1, max = M.MAX_SIDE }),
  ["output.dir"] = string_rule,
}
for _, e in ipairs(networks.entries) do -- the loss networks: vgg = { model, weights }, ...
  M.experiment[e.name .. ".model"] = model_rule
  M.experiment[e.name .. ".weights"] = path
end
-- VGG max pooling: TensorFlow 'SAME' (Engstrom's VGG) or Keras/Torch floor.
M.experiment["vgg.pool"] = one_of({ "same", "floor" })

-- `strata eval` files (eval.defaults()).
local function image_list(v)
  if type(v) == "string" then return path(v) end
  local x = list(path, { min_len = 1 })(v)
  if x == nil then return nil, "a folder of images, or a non-empty list of image paths" end
  return x
end
local function boolean(v)
  if type(v) == "boolean" then return v end
  return nil, "true or false"
end

M.eval = {
  ["name"] = string_rule,
  ["images"] = image_list,
  ["size"] = int({ min = 1, max = M.MAX_SIDE, multiple = transformer.size_multiple }),
  ["baseline"] = path,
  ["depth_aware"] = path,
  ["depth.model"] = model_rule,
  ["depth.weights"] = path,
  ["depth.layer"] = string_rule, -- a layer of depth.model: see M.eval_values
  ["pretrained.model"] = function(v)
    if v == "" then return v end
    if path(v) then return v end
    return nil, "the path of a model file, or \"\" for none"
  end,
  ["pretrained.label"] = string_rule,
  ["title"] = string_rule,
  ["figure_images"] = int({ min = 0 }),
  ["figure_tile"] = int({ min = 1, max = M.MAX_SIDE }),
  ["preserve_colors"] = boolean,
  ["device"] = device,
  ["output.dir"] = string_rule,
}

local function get(t, key)
  for part in key:gmatch("[^%.]+") do
    if type(t) ~= "table" then return nil end
    t = t[part]
  end
  return t
end

local function set(t, key, v)
  local parts = {}
  for part in key:gmatch("[^%.]+") do parts[#parts + 1] = part end
  for i = 1, #parts - 1 do t = t[parts[i]] end
  t[parts[#parts]] = v
end

-- Checks every key of `tbl` that `schema` names, normalising values in place.
function M.apply_schema(tbl, schema, origins)
  local keys = {}
  for k in pairs(schema) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, key in ipairs(keys) do
    local v = get(tbl, key)
    local x, want, raw = schema[key](v)
    if x == nil then
      if raw then fail_key(origins, key, "expected %s", want) end
      fail_key(origins, key, "expected %s, got %s", want, show(v))
    end
    set(tbl, key, x)
  end
  return tbl
end

-- ---- the loss terms ----

local weight_rule = number({ min = 0 })
local layer_name = function(v) if type(v) == "string" and v ~= "" then return v end return nil, "a layer name" end
local layer_list = list(layer_name, { min_len = 1, unique = true })

-- Each term of the experiment (registered or its own, strata.loss): weight a
-- number >= 0, layer a name / layers a non-empty list of names, each a layer
-- of the network the term reads (checked here when the network's model is one
-- of strata.models; a .lua model's layers when it loads).
function M.loss_terms(exp, origins)
  local any = false
  for _, name in ipairs(losses.names(exp)) do
    local opts, key = exp.loss[name], "loss." .. name
    local rules = { [key .. ".weight"] = weight_rule }
    if opts.layer ~= nil then rules[key .. ".layer"] = layer_name end
    if opts.layers ~= nil then rules[key .. ".layers"] = layer_list end
    M.apply_schema(exp, rules, origins)
    any = any or opts.weight ~= 0
    local def = losses.get(name) or opts
    local layers = def.layers
    if type(layers) == "function" then layers = layers(opts) end
    if layers == nil then layers = opts.layers end
    local lkey = opts.layers ~= nil and key .. ".layers" or (opts.layer ~= nil and key .. ".layer" or key)
    local m, label
    if def.network == "image" then
      m, label = { layer_names = function() return { "image" } end }, "the stylized image (its one layer, \"image\")"
    else
      local spec = exp[def.network]
      m = spec and builtin_model(spec.model)
      label = string.format("%s (%s.model = %q)", def.network, def.network, tostring(spec and spec.model))
    end
    for i, l in ipairs(layers or {}) do
      local ok, want = check_layer(m, label, l)
      if not ok then
        fail_key(origins, lkey, "expected %s%s, got %s", #layers > 1 and string.format("entry %d to be ", i) or "", want, show(l))
      end
    end
  end
  if not any then util.fail("every loss.<term>.weight is 0: nothing to train") end
end

-- The deepest need of the terms with a nonzero weight (`style_only`: those
-- whose target is the style image) among loss networks of strata.models that
-- report min_size(layer, pool): { size, layer, key }, or nil.
local function network_need(exp, style_only)
  local best
  for _, t in ipairs(losses.build(exp)) do
    if t.network ~= "image" and (not style_only or t.target == "style") then
      local m = builtin_model(exp[t.network] and exp[t.network].model)
      for _, l in ipairs(m and m.min_size and t.layers or {}) do
        local s = m.min_size(l, exp[t.network].pool)
        if s and (not best or s > best.size) then
          best = { size = s, layer = l, key = t.key, label = t.network .. " (" .. exp[t.network].model .. ")" }
        end
      end
    end
  end
  return best
end

-- ---- rules between keys ----

-- The smallest training image side: a multiple of 4 the transformer runs on,
-- that reaches the deepest loss-network layer used.
function M.min_train_size(exp)
  local need = transformer.min_side(exp.model.padding)
  local net = network_need(exp, false)
  if net then need = math.max(need, net.size) end
  local m = transformer.size_multiple
  return (need + m - 1) // m * m, net
end

function M.values(exp, origins)
  M.apply_schema(exp, M.experiment, origins)
  M.loss_terms(exp, origins)
  if exp.schedule.iterations == 0 and exp.schedule.epochs == 0 then
    fail_key(origins, "schedule.epochs", "expected an integer >= 1 when schedule.iterations is 0, got 0")
  end
  local min, net = M.min_train_size(exp)
  if exp.data.size < min then
    local why = net and net.size == min
      and string.format("%s needs %dx%d to reach %s (in %s)", net.label, net.size, net.size, net.layer, net.key)
      or string.format("the transformer with model.padding %q needs a multiple of %d of at least %d", exp.model.padding,
        transformer.size_multiple, transformer.min_side(exp.model.padding))
    fail_key(origins, "data.size", "%d is below the minimum %d: %s", exp.data.size, min, why)
  end
  local side = transformer.min_side(exp.model.padding)
  if exp.sample.size < side then
    fail_key(origins, "sample.size", "%d is below %d, the smallest side the transformer with model.padding %q accepts",
      exp.sample.size, side, exp.model.padding)
  end
  return exp
end

function M.eval_values(cfg, origins)
  M.apply_schema(cfg, M.eval, origins)
  local m = builtin_model(cfg.depth.model)
  local ok, want = check_layer(m, string.format("depth.model %q", cfg.depth.model), cfg.depth.layer)
  if not ok then fail_key(origins, "depth.layer", "expected %s, got %s", want, show(cfg.depth.layer)) end
  return cfg
end

-- ---- input files, at the start of a run ----

-- Reads the image at exp[key], or fails naming the key and the file.
local function read_image(path_value, key, origins)
  if core.sys.is_dir(path_value) then fail_key(origins, key, "'%s' is a folder, not an image", path_value) end
  if not core.sys.exists(path_value) then fail_key(origins, key, "cannot open '%s': no such file", path_value) end
  local ok, img = pcall(core.image.read, path_value)
  if not ok then fail_key(origins, key, "cannot read '%s' as an image: %s", path_value, util.error_text(img)) end
  return img
end

-- The training images' folder; the style image (when a term's target is the
-- style) large enough after style.scale for the deepest layer those terms
-- read; the sample image readable and, resized to sample.size on its longer
-- side as train.lua does, not below what the transformer's padding accepts.
function M.inputs(exp, origins)
  if not core.sys.is_dir(exp.data.train) then
    fail_key(origins, "data.train", "'%s' is not a folder of training images", exp.data.train)
  end
  local vgg = network_need(exp, true)
  if vgg then
    local img = read_image(exp.style.image, "style.image", origins)
    local h, w = img:size(2), img:size(3)
    local sh = math.max(1, math.floor(h * exp.style.scale + 0.5))
    local sw = math.max(1, math.floor(w * exp.style.scale + 0.5))
    if math.min(sh, sw) < vgg.size then
      fail_key(origins, "style.image", "'%s' is %dx%d%s, below the minimum %dx%d %s needs to reach %s (in %s); use a larger image or style.scale >= %s",
        exp.style.image, w, h, exp.style.scale ~= 1 and string.format(", %dx%d at style.scale %s", sw, sh, show(exp.style.scale)) or "",
        vgg.size, vgg.size, vgg.label, vgg.layer, vgg.key, show(math.ceil(vgg.size / math.min(h, w) * 100) / 100))
    end
    if math.max(sh, sw) > M.MAX_SIDE then
      fail_key(origins, "style.scale", "%s makes '%s' %dx%d, above the maximum side %d", show(exp.style.scale),
        exp.style.image, sw, sh, M.MAX_SIDE)
    end
  end
  local img = read_image(exp.sample.image, "sample.image", origins)
  local h, w = img:size(2), img:size(3)
  local scale = exp.sample.size / math.max(h, w)
  local short = math.max(1, math.floor(math.min(h, w) * scale + 0.5))
  local side = transformer.min_side(exp.model.padding)
  if short < side then
    fail_key(origins, "sample.image", "'%s' (%dx%d) resized to sample.size %d has a side of %d, below the %d the transformer with model.padding %q needs",
      exp.sample.image, w, h, exp.sample.size, short, side, exp.model.padding)
  end
end

return M
