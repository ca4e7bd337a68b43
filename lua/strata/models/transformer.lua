-- Engstrom's image transformation network (fast-style-transfer), configurable:
-- conv 9x9/1 -> c1, conv 3x3/2 -> c2, conv 3x3/2 -> c3, `blocks` residual
-- blocks, transposed convs 3x3/2 -> c2, -> c1, conv 9x9/1 -> 3, instance norm
-- after every conv (ReLU after each but the last), output tanh(x)*150 + 127.5.
-- padding "same" is Engstrom's (TensorFlow zero padding, eps 1e-3); "reflect"
-- is Johnson's variant (reflection padding; use eps 1e-5 with it).
-- Parameter names match strata's importer of Engstrom checkpoints.
local nn = require "strata.nn"

local M = {}

M.defaults = { channels = { 32, 64, 128 }, blocks = 5, padding = "same", eps = 1e-3 }
M.paddings = { "same", "reflect" }

-- Sizes. Two stride-2 convs and two stride-2 transposed convs: the output is
-- 4*ceil(ceil(H/2)/2), the input's size only for multiples of 4 (training
-- compares the two, so its images must be). Zero ("same") padding runs on any
-- size; reflection padding needs every pad smaller than the side it pads:
-- 9x9 (pad 4) at full size needs 5, and the quarter-size 3x3 residual convs
-- (pad 1) need 2 there, which 5 gives (5 -> 3 -> 2).
M.size_multiple = 4
function M.min_side(padding) return padding == "reflect" and 5 or 1 end

function M.build(opts)
  opts = opts or {}
  local c = opts.channels or M.defaults.channels
  local blocks = opts.blocks or M.defaults.blocks
  local pad = opts.padding or M.defaults.padding
  local eps = opts.eps or M.defaults.eps
  local dev = opts.device
  local net = nn.Sequential.new(nil)
  local n_in = 0

  local loaded = opts.loaded -- weights follow from a file: left unwritten (Module.init_weight_bias)
  local function conv(name, cin, cout, k, stride)
    return nn.Conv2d.new(name, { cin = cin, cout = cout, k = k, stride = stride, padding = pad, device = dev,
      loaded = loaded })
  end
  local function norm(channels)
    n_in = n_in + 1
    return nn.InstanceNorm.new("in" .. n_in, { channels = channels, eps = eps, device = dev })
  end
  local up_pad = pad == "same" and "same" or { pad = 1, output_padding = 1 }

  net:add(conv("conv1", 3, c[1], 9, 1)):add(norm(c[1])):add(nn.ReLU.new("relu1"))
  net:add(conv("conv2", c[1], c[2], 3, 2)):add(norm(c[2])):add(nn.ReLU.new("relu2"))
  net:add(conv("conv3", c[2], c[3], 3, 2)):add(norm(c[3])):add(nn.ReLU.new("relu3"))
  for b = 1, blocks do
    local in1 = nn.InstanceNorm.new("in1", { channels = c[3], eps = eps, device = dev })
    local in2 = nn.InstanceNorm.new("in2", { channels = c[3], eps = eps, device = dev })
    net:add(nn.Residual.new("res" .. b, {
      conv("conv1", c[3], c[3], 3, 1), in1, nn.ReLU.new("relu"),
      conv("conv2", c[3], c[3], 3, 1), in2,
    }))
  end
  net:add(nn.ConvTranspose2d.new("deconv1", { cin = c[3], cout = c[2], k = 3, stride = 2, padding = up_pad, device = dev,
    loaded = loaded }))
  net:add(norm(c[2])):add(nn.ReLU.new("relu4"))
  net:add(nn.ConvTranspose2d.new("deconv2", { cin = c[2], cout = c[1], k = 3, stride = 2, padding = up_pad, device = dev,
    loaded = loaded }))
  net:add(norm(c[1])):add(nn.ReLU.new("relu5"))
  net:add(conv("conv4", c[1], 3, 9, 1)):add(norm(3))
  net:add(nn.Tanh.new("tanh")):add(nn.Affine.new("output", 150, 255 / 2))
  -- The first conv's input is the image: no gradient needed there.
  net.modules[1].no_input_grad = true

  net.type_name = "engstrom-transformer"
  net.config = { channels = c, blocks = blocks, padding = pad, eps = eps }
  return net
end

-- Attributes saved with a model so `strata stylize` can rebuild it.
function M.attrs(config)
  return {
    network = "engstrom-transformer",
    channels = table.concat(config.channels, ","),
    blocks = tostring(config.blocks),
    padding = config.padding,
    eps = tostring(config.eps),
  }
end

-- What a model file's attributes may say. A file is data: its numbers are
-- checked against these before anything is built (blocks = "100000" would
-- otherwise allocate gigabytes before the shapes fail to match).
M.attr_limits = {
  channels = { 1, 4096 },    -- each of the three widths
  blocks = { 0, 100 },
  eps = { 0, 1 },            -- 0 < eps <= 1
  input_scale = { 0, 1 },    -- 0 < input_scale <= 1: images are 0..255
  padding = { same = true, reflect = true },
}

-- Messages are one line: the value is shown quoted, control bytes escaped,
-- cut after 40 bytes.
local function shown(value)
  local s = value:sub(1, 40):gsub("[%c\"\\]", function(c) return string.format("\\%d", c:byte()) end)
  return '"' .. s .. '"' .. (#value > 40 and string.format(" (%d bytes)", #value) or "")
end

local function attr_fail(file, key, value, expected)
  local util = require "strata.util"
  util.fail("%s: attribute '%s' is %s; expected %s", file, key, shown(value), expected)
end

-- An integer in [lo, hi] (decimal digits only) from s, part of attribute
-- key's value; what describes the whole value in the message.
local function int_attr(file, key, value, s, lo, hi, what)
  local n = s:match("^%s*(%d+)%s*$")
  n = n and #n <= 9 and math.tointeger(tonumber(n))
  if not n or n < lo or n > hi then
    attr_fail(file, key, value, what or string.format("an integer from %d to %d", lo, hi))
  end
  return n
end

-- A finite number attribute in (lo, hi].
local function num_attr(file, key, s, lo, hi)
  local v = tonumber(s)
  if not v or v ~= v or v <= lo or v > hi then
    attr_fail(file, key, s, string.format("a number greater than %s and at most %s", lo, hi))
  end
  return v
end

-- The build options a file's attributes give, range-checked.
local function opts_from_attrs(a, file)
  local L = M.attr_limits
  local opts = {}
  if a.channels then
    local parts = {}
    for piece in (a.channels .. ","):gmatch("([^,]*),") do parts[#parts + 1] = piece end
    local what = string.format("three integers from %d to %d, comma-separated (e.g. \"32,64,128\")", L.channels[1],
      L.channels[2])
    if #parts ~= 3 then attr_fail(file, "channels", a.channels, what) end
    opts.channels = {}
    for i = 1, 3 do opts.channels[i] = int_attr(file, "channels", a.channels, parts[i], L.channels[1], L.channels[2], what) end
  end
  if a.blocks then opts.blocks = int_attr(file, "blocks", a.blocks, a.blocks, L.blocks[1], L.blocks[2]) end
  if a.padding and not L.padding[a.padding] then attr_fail(file, "padding", a.padding, "\"same\" or \"reflect\"") end
  opts.padding = a.padding
  if a.eps then opts.eps = num_attr(file, "eps", a.eps, L.eps[1], L.eps[2]) end
  if a.input_scale then opts.input_scale = num_attr(file, "input_scale", a.input_scale, L.input_scale[1], L.input_scale[2]) end
  return opts
end

-- Rebuilds the network a weights file describes (attributes, else inferred
-- from its parameters) and loads it.
function M.from_weights(w, device)
  local util = require "strata.util"
  local a = w.attrs or {}
  local file = w.path or "weights"
  if a.network and a.network ~= "engstrom-transformer" then
    util.fail("%s: holds a '%s' network, not a transformer (engstrom-transformer)", file, a.network)
  end
  local opts = opts_from_attrs(a, file)
  opts.device = device
  if not opts.channels and w.params["conv1.weight"] and w.params["conv2.weight"] and w.params["conv3.weight"] then
    local s1, s2, s3 = w.params["conv1.weight"]:shape(), w.params["conv2.weight"]:shape(), w.params["conv3.weight"]:shape()
    opts.channels = { s1[1], s2[1], s3[1] }
  end
  if not opts.blocks then
    local n = 0
    while w.params["res" .. (n + 1) .. ".conv1.weight"] do n = n + 1 end
    opts.blocks = n
  end
  local input_scale = opts.input_scale
  opts.input_scale = nil
  opts.loaded = true
  local net = M.build(opts)
  net:load_weights(w, { adopt = true })
  -- What the network was trained on: X/255 (strata's and Engstrom's training)
  -- or raw 0..255 (Engstrom's released checkpoints have no attribute).
  net.input_scale = input_scale or 1
  return net
end

return M
