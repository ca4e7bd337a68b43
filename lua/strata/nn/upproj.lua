-- FCRN's up-projection block (Laina et al. 2016), as the authors' TensorFlow
-- code builds it (tensorflow/models/network.py: unpool_as_conv, up_project):
--
--   "unpool as conv" (id): four convs of the input, all with biases,
--       <id>_ConvA 3x3, pads 1/1 rows, 1/1 cols
--       <id>_ConvB 2x3 (2 rows, 3 cols), pads 1/0 rows, 1/1 cols
--       <id>_ConvC 3x2 (3 rows, 2 cols), pads 1/1 rows, 1/0 cols
--       <id>_ConvD 2x2, pads 1/0 rows, 1/0 cols
--     interleaved into the 2x map (A even rows/even cols, B odd rows/even
--     cols, C even rows/odd cols, D odd rows/odd cols), then <id>_BN.
--   branch 1: unpool-as-conv "layer<s>_br1", ReLU, layer<s>_Conv 3x3 (pad 1,
--     bias), layer<s>_BN;  branch 2: unpool-as-conv "layer<s>_br2";
--   output: ReLU(branch 1 + branch 2).
-- Node names for features(): layer<s>_br1_ConvA .. _ConvD, layer<s>_br1_interleave,
-- layer<s>_br1_BN (before its ReLU, as TensorFlow's layer of that name),
-- layer<s>_br1_ReLU, layer<s>_Conv, layer<s>_BN, the same for _br2 (no ReLU),
-- layer<s>_Sum, layer<s>_ReLU (the block's output).
local core = require "strata.core"
local Module = require "strata.nn.module"
local Graph = require "strata.nn.graph"
local BatchNorm = require "strata.nn.batch_norm"
local PaddedConv2d = require "strata.nn.padded_conv2d"

local M = {}

-- The four maps a (3x3), b (2x3), c (3x2), d (2x2) -> [N, C, 2H, 2W].
M.Interleave = Module.class("Interleave")
function M.Interleave.new(name) return Module.init(setmetatable({}, M.Interleave), name) end
function M.Interleave:forward(a, b, c, d) return core.ops.interleave(a, b, c, d) end
function M.Interleave:backward(dy) return core.ops.interleave_backward(dy) end

-- {kh, kw, {top, bottom, left, right}} of the four convs, in interleave order.
M.convs = {
  { "ConvA", 3, 3, { 1, 1, 1, 1 } },
  { "ConvB", 2, 3, { 1, 0, 1, 1 } },
  { "ConvC", 3, 2, { 1, 1, 1, 0 } },
  { "ConvD", 2, 2, { 1, 0, 1, 0 } },
}

-- Adds an unpool-as-conv of node `input` to graph g; returns its BN node's name.
local function unpool_as_conv(g, input, id, cin, cout, opts)
  local names = {}
  for k, spec in ipairs(M.convs) do
    names[k] = g:add(PaddedConv2d.new(id .. "_" .. spec[1], { cin = cin, cout = cout, kh = spec[2], kw = spec[3],
      pad = spec[4], bias = true, device = opts.device }), { input })
  end
  g:add(M.Interleave.new(id .. "_interleave"), names)
  return g:add(BatchNorm.new(id .. "_BN", { channels = cout, eps = opts.eps, device = opts.device }))
end

-- Adds the up-projection "layer<size_id>" (e.g. "2x") of node `input`
-- (cin channels) to graph g; returns the name of its output node.
-- opts: eps (batch norm; FCRN: 1e-4), device.
function M.add(g, input, size_id, cin, cout, opts)
  local base = "layer" .. size_id
  unpool_as_conv(g, input, base .. "_br1", cin, cout, opts)
  g:add(Graph.ReLU.new(base .. "_br1_ReLU"))
  g:add(PaddedConv2d.new(base .. "_Conv", { cin = cout, cout = cout, k = 3, pad = { 1, 1, 1, 1 }, bias = true,
    device = opts.device }))
  local br1 = g:add(BatchNorm.new(base .. "_BN", { channels = cout, eps = opts.eps, device = opts.device }))
  local br2 = unpool_as_conv(g, input, base .. "_br2", cin, cout, opts)
  g:add(Graph.Add.new(base .. "_Sum"), { br1, br2 })
  return g:add(Graph.ReLU.new(base .. "_ReLU"))
end

return M
