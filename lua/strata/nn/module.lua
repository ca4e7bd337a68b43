-- Base of every network module, Torch-nn style.
-- A module has `name`, `params` (key -> tensor) and `grads` (key -> tensor,
-- created by zero_grad), and implements forward(x) -> y and backward(dy) -> dx.
-- In training mode forward keeps what backward needs, through handles of its
-- own (x:ref(), freed in backward: the containers free every intermediate
-- output once the next module has read it); in evaluation mode it keeps
-- nothing. backward accumulates parameter gradients into `grads` and returns
-- the gradient at the input: a new tensor, or dy itself passed on (Graph.Add;
-- the containers check), never freeing the dy it was given.
local Module = {}
Module.__index = Module

-- Makes a module class; `cls.new(...)` is defined by each class.
function Module.class(type_name)
  local cls = setmetatable({ type = type_name }, { __index = Module })
  cls.__index = cls
  return cls
end

function Module.init(self, name)
  self.name = name
  self.params = self.params or {}
  self.grads = {}
  self.param_order = self.param_order or {}
  self.training = false
  return self
end

-- The parameters of a conv-like layer: params.weight of `weight_shape`
-- (zeros; an initialiser or weights file fills it) and, when `bias`,
-- params.bias of `channels`, in that order.
-- `loaded`: load_weights follows at once (a model read from a file), so the
-- tensors are left unwritten: a 6.7 MB transformer then touches its weights'
-- memory once, not twice (load_weights fails on any parameter it lacks).
function Module:init_weight_bias(weight_shape, bias, channels, device, loaded)
  local strata = require "strata.core"
  local new = loaded and strata.empty or strata.zeros
  self.params.weight = new(weight_shape, device)
  self.param_order = { "weight" }
  if bias then
    self.params.bias = new({ channels }, device)
    self.param_order[2] = "bias"
  end
end

function Module:children() return self.modules or {} end

function Module:train(on)
  self.training = on ~= false
  for _, m in ipairs(self:children()) do m:train(on) end
  return self
end

function Module:evaluate() return self:train(false) end

-- Ordered list of { name = "res1.conv1.weight", module = m, key = "weight" }.
function Module:named_parameters(prefix, out)
  out = out or {}
  local base = prefix and prefix ~= "" and (self.name and prefix .. "." .. self.name or prefix) or self.name
  for _, key in ipairs(self.param_order) do
    out[#out + 1] = { name = (base and base .. "." or "") .. key, module = self, key = key }
  end
  for _, m in ipairs(self:children()) do m:named_parameters(base, out) end
  return out
end

-- Gradients are created on first use and zeroed at each step (ops accumulate).
function Module:zero_grad()
  local strata = require "strata.core"
  for _, p in ipairs(self:named_parameters()) do
    local m, k = p.module, p.key
    if m.grads[k] then m.grads[k]:fill(0) else m.grads[k] = strata.zeros(m.params[k]:shape(), m.params[k]:device()) end
  end
end

-- Copies weights (a table from strata.weights.load / import_*) into the
-- parameters. Every parameter must be present with its exact shape, and the
-- file must hold nothing the model lacks; errors name the file and parameter.
-- A module with a check_loaded(key, tensor, where) method also vets the
-- values it is given (where = "<file>: <parameter name>").
-- opts.adopt: the loaded tensors become the parameters where they are on
-- the parameter's device (no copy); only for a network nothing else holds
-- parameters of yet (an optimizer would keep the replaced ones).
function Module:load_weights(w, opts)
  local util = require "strata.util"
  local adopt = opts and opts.adopt
  local src = w.path or "weights"
  local wanted = {}
  for _, p in ipairs(self:named_parameters()) do
    local t, dst = w.params[p.name], p.module.params[p.key]
    wanted[p.name] = true
    if not t then
      util.fail("%s: missing parameter '%s' (expected shape %s)", src, p.name, util.shape_str(dst:shape()))
    end
    if not util.same_shape(t:shape(), dst:shape()) then
      util.fail("%s: parameter '%s' has shape %s, expected %s", src, p.name, util.shape_str(t:shape()),
        util.shape_str(dst:shape()))
    end
    if p.module.check_loaded then p.module:check_loaded(p.key, t, src .. ": " .. p.name) end
    if adopt and t:device() == dst:device() then
      p.module.params[p.key] = t
      dst:free()
    else
      dst:copy(t)
    end
  end
  for name in pairs(w.params) do
    if not wanted[name] then
      util.fail("%s: parameter '%s' is not part of this %s model (wrong file or architecture?)", src, name,
        self.type_name or "network")
    end
  end
end

-- { params = {name = tensor}, order = {...} } for strata.weights.save.
function Module:state()
  local params, order = {}, {}
  for _, p in ipairs(self:named_parameters()) do
    params[p.name] = p.module.params[p.key]
    order[#order + 1] = p.name
  end
  return { params = params, order = order }
end

-- Adds gradient d into tbl[key], both owned by the caller: the sum replaces
-- them and the tensors it replaces are freed at once (not by the collector).
function Module.accumulate(tbl, key, d)
  if not tbl[key] then
    tbl[key] = d
    return
  end
  local s = require("strata.core").ops.add(tbl[key], d)
  tbl[key]:free()
  d:free()
  tbl[key] = s
end

function Module:forward() error(self.type .. ":forward is not implemented", 2) end
function Module:backward() error(self.type .. ":backward is not implemented", 2) end

return Module
