-- `strata export onnx MODEL.h5 OUT.onnx`: a trained transformer as an ONNX
-- graph (opset 13) that computes what `strata stylize` computes before
-- rounding: input "image" [N, 3, H, W] RGB in 0..255, output "stylized"
-- [N, 3, H', W'] in about 0..255 (unclipped), H and W dynamic.
--
-- Each strata module maps onto ONNX operators with the same arithmetic:
--   Conv2d "same"      -> Conv auto_pad=SAME_UPPER (TensorFlow's rule: the odd
--                         pixel of padding goes after, e.g. Engstrom's stride-2
--                         convs on even sizes pad 0 before and 1 after)
--   Conv2d "reflect"   -> Pad mode=reflect, then Conv without padding
--   ConvTranspose2d    -> ConvTranspose; "same" crops k - stride at the end
--                         (output exactly stride x input), the Torch form uses
--                         pads and output_padding as PyTorch does
--   InstanceNorm       -> InstanceNormalization with the layer's eps
--   Affine             -> Mul and Add (tanh(x)*150 + 127.5 at the end)
--   Residual           -> the body, then Add with its input
-- model.input_scale (X/255 for strata-trained models) becomes a leading Mul.
local core = require "strata.core"
local transformer = require "strata.models.transformer"
local util = require "strata.util"

local M = {}

M.opset = 13

-- Builds the ONNX description (for core.onnx.write) of a network `net`.
function M.describe(net, source)
  local g = {
    name = "strata_transformer",
    opset = M.opset,
    metadata = { source = source or "", network = net.type_name or "" },
    inputs = { { name = "image", dims = { "batch", 3, "height", "width" } } },
    outputs = { { name = "stylized", dims = { "batch", 3, "out_height", "out_width" } } },
    initializers = {},
    nodes = {},
  }
  local count = 0
  local function value(prefix)
    count = count + 1
    return string.format("%s_%d", prefix, count)
  end
  local function node(op, name, inputs, attrs)
    local out = value(name)
    g.nodes[#g.nodes + 1] = { op = op, name = name, inputs = inputs, outputs = { out }, attrs = attrs }
    return out
  end
  local function param(name, t)
    g.initializers[#g.initializers + 1] = { name = name, tensor = t }
    return name
  end
  local function scalar(name, v) return param(name, core.full({ 1 }, v)) end

  local emit
  local function conv(m, x, path)
    local k, s, p = m.k, m.stride, m.padding
    local inputs = { x, param(path .. ".weight", m.params.weight) }
    if m.params.bias then inputs[3] = param(path .. ".bias", m.params.bias) end
    local attrs = { kernel_shape = { k, k }, strides = { s, s } }
    if p == "same" then
      attrs.auto_pad = "SAME_UPPER"
    elseif p == "reflect" then
      local h = (k - 1) // 2
      g.initializers[#g.initializers + 1] = { name = path .. ".pads", int64 = { 0, 0, h, h, 0, 0, k - 1 - h, k - 1 - h } }
      inputs[1] = node("Pad", path .. ".pad", { x, path .. ".pads" }, { mode = "reflect" })
      attrs.pads = { 0, 0, 0, 0 }
    elseif p == "valid" then
      attrs.pads = { 0, 0, 0, 0 }
    elseif math.type(p) == "integer" then
      attrs.pads = { p, p, p, p }
    else
      util.fail("export onnx: %s: padding '%s' has no ONNX form here", path, tostring(p))
    end
    return node("Conv", path, inputs, attrs)
  end

  local function conv_transpose(m, x, path)
    local k, s, p = m.k, m.stride, m.padding
    local inputs = { x, param(path .. ".weight", m.params.weight) }
    if m.params.bias then inputs[3] = param(path .. ".bias", m.params.bias) end
    local attrs = { kernel_shape = { k, k }, strides = { s, s } }
    if p == "same" then
      -- strata's "same": the full (in-1)*s + k output cropped to in*s at the end.
      if k < s then util.fail("export onnx: %s: kernel %d smaller than stride %d", path, k, s) end
      attrs.pads = { 0, 0, k - s, k - s }
    elseif type(p) == "table" then
      local pad, op = p.pad or 0, p.output_padding or 0
      attrs.pads = { pad, pad, pad, pad }
      if op ~= 0 then attrs.output_padding = { op, op } end
    else
      util.fail("export onnx: %s: padding '%s' has no ONNX form here", path, tostring(p))
    end
    return node("ConvTranspose", path, inputs, attrs)
  end

  local handlers = {
    Conv2d = conv,
    ConvTranspose2d = conv_transpose,
    InstanceNorm = function(m, x, path)
      return node("InstanceNormalization", path,
        { x, param(path .. ".weight", m.params.weight), param(path .. ".bias", m.params.bias) }, { epsilon = m.eps + 0.0 })
    end,
    ReLU = function(_, x, path) return node("Relu", path, { x }) end,
    Tanh = function(_, x, path) return node("Tanh", path, { x }) end,
    Affine = function(m, x, path)
      local y = node("Mul", path .. ".scale", { x, scalar(path .. ".scale", m.scale) })
      return node("Add", path .. ".shift", { y, scalar(path .. ".shift", m.shift) })
    end,
    Sequential = function(m, x, path)
      for _, c in ipairs(m.modules) do x = emit(c, x, path) end
      return x
    end,
    Residual = function(m, x, path)
      local h = x
      for _, c in ipairs(m.modules) do h = emit(c, h, path) end
      return node("Add", path .. ".sum", { h, x })
    end,
  }

  emit = function(m, x, prefix)
    local path = m.name and ((prefix and prefix ~= "") and (prefix .. "." .. m.name) or m.name) or prefix
    local h = handlers[m.type]
    if not h then
      util.fail("export onnx: module '%s' (%s) has no ONNX form (exportable: transformer layers only)",
        tostring(path), tostring(m.type))
    end
    return h(m, x, path)
  end

  local x = "image"
  if net.input_scale and net.input_scale ~= 1 then
    x = node("Mul", "input_scale", { x, scalar("input_scale", net.input_scale) })
  end
  local y = emit(net, x, "")
  -- The last node's output is renamed to the graph output.
  g.nodes[#g.nodes].outputs[1] = "stylized"
  assert(y)
  return g
end

-- Loads MODEL.h5 (a strata transformer) and returns its ONNX description;
-- a file that is not an exportable transformer is an error naming it
-- (`command`, default "export onnx", starts the message).
function M.load(model_path, command)
  if not core.sys.exists(model_path) then
    util.fail("%s: cannot open '%s': no such file", command or "export onnx", model_path)
  end
  local w = core.weights.load(model_path)
  local a = w.attrs or {}
  if not a.network and not w.params["conv1.weight"] then
    util.fail("export onnx: %s: not a transformer model (no 'network' attribute and no conv1.weight)", model_path)
  end
  return M.describe(transformer.from_weights(w), model_path)
end

-- Loads MODEL.h5 and writes OUT.onnx.
function M.file(model_path, out_path)
  local g = M.load(model_path)
  core.onnx.write(out_path, g)
  return g
end

return M
