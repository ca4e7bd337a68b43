-- A network as a list of named nodes in execution order, each a module applied
-- to the outputs of earlier nodes (or of "input"): enough for ResNet branches
-- and up-projections, Torch's nngraph in miniature.
--
--   g:add(module [, inputs [, name]])  inputs: node names (default: the previous
--                                       node); name: default module.name
--   g:alias(name, node)                another name for a node's output
--   g:features(x, layers)              the named outputs (runs only as deep as
--                                       the deepest requested node)
--   g:forward(x)                       the last node's output
--   g:backward(grads)                  grads: name -> gradient at that output;
--                                       returns the gradient at the input
--
-- Modules take one input per listed node and their backward returns one
-- gradient per input. Node outputs are never modified after they are made
-- (returned features stay valid); a node's output is freed once its last
-- consumer has run unless it was requested (a module that needs it for
-- backward keeps its own handle, tensor:ref()), and each gradient once the
-- node's backward has read it. Parameters are named by their
-- modules ("conv1.weight"), the graph adding no prefix when it has no name.
local core = require "strata.core"
local Module = require "strata.nn.module"
local util = require "strata.util"

local Graph = Module.class("Graph")

function Graph.new(name, opts)
  local self = Module.init(setmetatable({}, Graph), name)
  self.modules, self.nodes, self.index, self.aliases = {}, {}, { input = 0 }, {}
  self.type_name = (opts and opts.type_name) or "graph"
  return self
end

function Graph:add(module, inputs, name)
  name = name or module.name
  if not name then util.fail("%s: a node needs a name", self.type_name) end
  if self.index[name] or self.aliases[name] then util.fail("%s: node '%s' already exists", self.type_name, name) end
  inputs = inputs or { #self.nodes > 0 and self.nodes[#self.nodes].name or "input" }
  local ins = {}
  for k, n in ipairs(inputs) do
    ins[k] = self.index[n] or self.index[self.aliases[n] or ""]
    if not ins[k] then util.fail("%s: node '%s' reads unknown node '%s'", self.type_name, name, n) end
  end
  self.nodes[#self.nodes + 1] = { name = name, module = module, inputs = ins }
  self.index[name] = #self.nodes
  self.modules[#self.modules + 1] = module
  return name
end

function Graph:alias(name, node)
  if not self.index[node] then util.fail("%s: alias '%s' of unknown node '%s'", self.type_name, name, node) end
  self.aliases[name] = node
end

-- Every layer name features() accepts, in execution order (aliases last).
function Graph:layer_names()
  local names = {}
  for _, n in ipairs(self.nodes) do names[#names + 1] = n.name end
  local al = {}
  for a in pairs(self.aliases) do al[#al + 1] = a end
  table.sort(al)
  for _, a in ipairs(al) do names[#names + 1] = a end
  return names
end

-- The node index of a layer name; an unknown name is an error naming the closest.
function Graph:check_layer(name)
  local i = self.index[self.aliases[name] or name]
  if not i or i == 0 then
    local near = util.closest(tostring(name), self:layer_names())
    util.fail("%s has no layer '%s'%s", self.type_name, tostring(name), near and (" (did you mean '" .. near .. "'?)") or "")
  end
  return i
end

-- Outputs of `layers` (a list of names); training mode keeps what backward needs.
function Graph:features(x, layers)
  local want, deepest = {}, 0
  for _, name in ipairs(layers) do
    local i = self:check_layer(name)
    want[i] = true
    deepest = math.max(deepest, i)
  end
  local last = {} -- node -> index of its last consumer
  for j = 1, deepest do
    for _, i in ipairs(self.nodes[j].inputs) do last[i] = j end
  end
  local acts = { [0] = x }
  for j = 1, deepest do
    local node = self.nodes[j]
    local args = {}
    for k, i in ipairs(node.inputs) do args[k] = acts[i] end
    acts[j] = node.module:forward(table.unpack(args))
    for _, i in ipairs(node.inputs) do
      if last[i] == j and not want[i] then
        -- Free it now (not the caller's input, nor a tensor still live under
        -- another node); modules that need it for backward hold their own handle.
        local t = acts[i]
        acts[i] = nil
        if i ~= 0 and t and not rawequal(t, x) then
          local shared = false
          for _, a in pairs(acts) do shared = shared or rawequal(a, t) end
          if not shared then t:free() end
        end
      end
    end
    -- Dropped maps are not collected here: a collector step per node cost ~10%
    -- of an FCRN pass at 128x128, and the tensor binding (engine/lua/l_tensor.c)
    -- already runs a full collection once the bytes of new tensors exceed what
    -- was live after the last one (training at 256x256 +depth: 5.1 GB peak
    -- resident instead of 4.2).
  end
  local out = {}
  for _, name in ipairs(layers) do out[name] = acts[self:check_layer(name)] end
  self.deepest, self.forward_trained = deepest, self.training
  self.input_shape, self.input_device = x:shape(), x:device()
  return out
end

function Graph:forward(x)
  local last = self.nodes[#self.nodes].name
  return self:features(x, { last })[last]
end

local accumulate = Module.accumulate

function Graph:backward(grads)
  if not self.deepest or not self.forward_trained then
    util.fail("%s: backward needs a forward (features) call in training mode first (call train())", self.type_name)
  end
  local g, names = {}, {}
  for name in pairs(grads) do names[#names + 1] = name end
  table.sort(names) -- a fixed order: sums at a shared node are reproducible
  for _, name in ipairs(names) do
    local d = grads[name]
    local i = self:check_layer(name)
    if i > self.deepest then
      util.fail("%s: a gradient at '%s', deeper than the last forward computed", self.type_name, name)
    end
    accumulate(g, i, d:ref()) -- the caller's gradients stay the caller's
  end
  for j = self.deepest, 1, -1 do
    if g[j] then
      local node = self.nodes[j]
      local dins = { node.module:backward(g[j]) }
      local passed = false -- a module may hand its gradient on (Add)
      for k = 1, #node.inputs do
        for m = 1, k - 1 do
          if dins[k] and rawequal(dins[k], dins[m]) then dins[k] = dins[k]:ref() end
        end
        passed = passed or rawequal(dins[k], g[j])
      end
      if not passed then g[j]:free() end
      g[j] = nil
      for k, i in ipairs(node.inputs) do
        if dins[k] then accumulate(g, i, dins[k]) end
      end
    end
  end
  self.forward_trained = false -- the modules' saved state is spent
  return g[0] or core.zeros(self.input_shape, self.input_device)
end

-- Small parameter-free modules for graphs.

-- y = a + b.
Graph.Add = Module.class("Add")
function Graph.Add.new(name) return Module.init(setmetatable({}, Graph.Add), name) end
function Graph.Add:forward(a, b) return core.ops.add(a, b) end
function Graph.Add:backward(dy) return dy, dy end

-- ReLU into a new tensor (its input may be a requested feature).
Graph.ReLU = Module.class("ReLU")
function Graph.ReLU.new(name) return Module.init(setmetatable({}, Graph.ReLU), name) end
function Graph.ReLU:forward(x)
  local y = core.ops.relu(x)
  if self.training then self.saved_y = y:ref() end
  return y
end
function Graph.ReLU:backward(dy)
  local dx = core.ops.relu_backward(dy, self.saved_y)
  self.saved_y:free()
  self.saved_y = nil
  return dx
end

return Graph
