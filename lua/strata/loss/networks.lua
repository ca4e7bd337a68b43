-- The loss networks terms read, by name. Each is an experiment key of its own
-- (vgg = {...}, depth = {...}) holding a model definition and an HDF5 weights
-- file:
--   model    a model of strata.models ("vgg19", "fcrn") or the path of a Lua
--            model file (ending in .lua)
--   weights  the weights file
--   and the model's own options (vgg: pool = "same" | "floor", the max
--   pooling: TensorFlow 'SAME' as Engstrom's VGG, or Keras/Torch floor)
-- A model (module or file) returns a table with from_file(path, device, spec)
-- -> net, or with build({ device = ... } + spec's options) -> net, whose
-- parameters then load from the weights file by name. A net has features(x, layers) -> { layer = tensor },
-- backward(grads) -> gradient at its input, train(on), check_layer(name) (an
-- error naming the closest layer), and may set synthetic and source
-- (strata.nn.graph and strata.models.vgg19 are such nets).
-- "image" is the stylized batch itself: one layer, "image", no weights.
local core = require "strata.core"
local util = require "strata.util"

local M = {}

-- The named entries, in the order their gradients are summed.
M.entries = {
  { name = "vgg", model = "vgg19", weights = "weights/vgg19.h5", label = "VGG-19", options = { pool = "same" } },
  { name = "depth", model = "fcrn", weights = "weights/fcrn.h5", label = "depth network (FCRN)" },
}

function M.names()
  local out = { "image" }
  for _, e in ipairs(M.entries) do out[#out + 1] = e.name end
  return out
end

function M.known(name)
  if name == "image" then return true end
  for _, e in ipairs(M.entries) do if e.name == name then return true end end
  return false
end

-- Position of a network in the fixed summation order (image last).
function M.rank(name)
  for i, e in ipairs(M.entries) do if e.name == name then return i end end
  return #M.entries + 1
end

-- Experiment defaults: { vgg = { model, weights, pool }, depth = { model, weights } }.
function M.defaults()
  local out = {}
  for _, e in ipairs(M.entries) do
    out[e.name] = { model = e.model, weights = e.weights }
    for k, v in pairs(e.options or {}) do out[e.name][k] = v end
  end
  return out
end

local function entry(name)
  for _, e in ipairs(M.entries) do if e.name == name then return e end end
end

-- The model definition a `model` value names.
local function model_module(key, model)
  if model:match("%.lua$") then
    if not core.sys.exists(model) then util.fail("%s: model file '%s' not found", key, model) end
    local chunk, err = loadfile(model)
    if not chunk then util.fail("%s: %s", key, err) end
    local ok, m = pcall(chunk)
    if not ok then util.fail("%s: %s: %s", key, model, util.error_text(m)) end
    if type(m) ~= "table" or (type(m.from_file) ~= "function" and type(m.build) ~= "function") then
      util.fail("%s: %s must return a table with from_file(path, device) or build(opts)", key, model)
    end
    return m
  end
  local ok, m = pcall(require, "strata.models." .. model)
  if not ok or type(m) ~= "table" or type(m.from_file) ~= "function" then
    util.fail("%s: unknown model '%s' (a model of strata.models such as \"vgg19\" or \"fcrn\", or a .lua model file)",
      key, model)
  end
  return m
end

-- Loads network `name` as the experiment's entry `spec` ({ model, weights }) says.
function M.load(name, spec, device)
  local e = entry(name)
  local path, model = spec.weights, spec.model or e.model
  if not core.sys.exists(path) then
    local hint = model:match("%.lua$") and "" or string.format("; run 'make weights' for the real network, or "
      .. "'bin/strata weights random %s %s' for random weights (results then mean nothing)", model, path)
    util.fail("%s.weights: '%s' not found%s", name, path, hint)
  end
  local m = model_module(name .. ".model", model)
  local net
  if m.from_file then
    net = m.from_file(path, device, spec)
  else
    local opts = { device = device }
    for k, v in pairs(spec) do if k ~= "model" and k ~= "weights" then opts[k] = v end end
    net = m.build(opts)
    local w = core.weights.load(path)
    net:load_weights(w)
    net.synthetic = w.attrs.synthetic == "true"
    net.source = w.attrs.source or path
  end
  net.source = net.source or path
  net.label = model == e.model and e.label or string.format("%s network (%s)", name, model)
  return net
end

-- The stylized batch as a "network": its one layer is the image itself.
local Image = {}
Image.__index = Image

function M.image() return setmetatable({ label = "image" }, Image) end

function Image:check_layer(name)
  if name ~= "image" then util.fail("the image has one layer, 'image', not '%s'", tostring(name)) end
end

function Image:features(x) return { image = x } end

function Image:backward(grads) return grads.image:ref() end -- the caller's own handle

function Image:train() return self end

return M
