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

  local function conv(name, cin, cout, k, stride)
    return nn.Conv2d.new(name, { cin = cin, cout = cout, k = k, stride = stride, padding = pad, device = dev })
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
  net:add(nn.ConvTranspose2d.new("deconv1", { cin = c[3], cout = c[2], k = 3, stride = 2, padding = up_pad, device = dev }))
  net:add(norm(c[2])):add(nn.ReLU.new("relu4"))
  net:add(nn.ConvTranspose2d.new("deconv2", { cin = c[2], cout = c[1], k = 3, stride = 2, padding = up_pad, device = dev }))
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

-- Rebuilds the network a weights file describes (attributes, else inferred
-- from its parameters) and loads it.
function M.from_weights(w, device)
  local util = require "strata.util"
  local a = w.attrs or {}
  if a.network and a.network ~= "engstrom-transformer" then
    util.fail("%s: holds a '%s' network, not a transformer (engstrom-transformer)", w.path or "weights", a.network)
  end
  local opts = { device = device }
  if a.channels then
    opts.channels = {}
    for v in a.channels:gmatch("%d+") do opts.channels[#opts.channels + 1] = tonumber(v) end
  elseif w.params["conv1.weight"] and w.params["conv3.weight"] then
    local s1, s2, s3 = w.params["conv1.weight"]:shape(), w.params["conv2.weight"]:shape(), w.params["conv3.weight"]:shape()
    opts.channels = { s1[1], s2[1], s3[1] }
  end
  if a.blocks then
    opts.blocks = tonumber(a.blocks)
  else
    local n = 0
    while w.params["res" .. (n + 1) .. ".conv1.weight"] do n = n + 1 end
    opts.blocks = n
  end
  opts.padding = a.padding
  opts.eps = tonumber(a.eps or "")
  local net = M.build(opts)
  net:load_weights(w)
  -- What the network was trained on: X/255 (strata's and Engstrom's training)
  -- or raw 0..255 (Engstrom's released checkpoints have no attribute).
  net.input_scale = tonumber(a.input_scale or "") or 1
  return net
end

return M
