-- The width/16 FCRN fixture (tests/fixtures/fcrn_tiny.h5, see
-- tests/models/fcrn.t.lua) on device "cuda" against the same network on the
-- CPU: evaluation-mode features (batch norm, the 'SAME' max pool, residual
-- sums, the up-projections' interleave, the depth map) on the fixture's two
-- inputs, then a training-mode backward with losses at three layers, which
-- checks the input gradient and every parameter gradient (batch norm's
-- dgamma / dbeta included). Everything agrees to 1e-4 of the CPU result's
-- largest magnitude. Skips without a CUDA device.
local strata = require "strata"
local tap = require "strata.tap"

if not strata.sys.cuda_available() then tap.skip_all("no CUDA device") end
if os.getenv("STRATA_TF32") == "1" then tap.skip_all("STRATA_TF32=1 (TF32 convolutions are not float32-accurate)") end

local fcrn = require "strata.models.fcrn"
local TOL = 1e-4

local ref = strata.weights.load("tests/fixtures/fcrn_tiny_ref.h5").params
local cpu = fcrn.from_file("tests/fixtures/fcrn_tiny.h5")
local gpu = fcrn.from_file("tests/fixtures/fcrn_tiny.h5", "cuda")

-- max |g - c| / max |c|, g on the device and c on the CPU.
local function rel_err(g, c)
  return (g:to("cpu") - c):abs():max() / math.max(c:abs():max(), 1e-30)
end
local function shape(t) return table.concat(t:shape(), "x") end

local on_device = true
for _, p in ipairs(gpu:named_parameters()) do
  on_device = on_device and p.module.params[p.key]:device():find("^cuda") ~= nil
end
tap.ok(gpu.width_div == 16 and on_device, "the fixture loads into a width/16 FCRN whose parameters live on cuda")

-- ---- evaluation mode ----
local layers = { "depth", "bn_conv1", "pool1", "res2a", "res3a_relu", "res5c_relu", "layer1_BN",
  "layer2x_br1_interleave", "layer2x_ReLU", "layer8x_br2_interleave", "layer16x_ReLU" }
cpu:train(false)
gpu:train(false)
local x = ref.input:to("cuda")
local fc, fg = cpu:features(ref.input, layers), gpu:features(x, layers)
tap.ok(fg.depth:device():find("^cuda") ~= nil, "the depth map is computed on the device")
for _, l in ipairs(layers) do
  local e = rel_err(fg[l], fc[l])
  tap.ok(e <= TOL and shape(fg[l]) == shape(fc[l]), string.format("%s %s matches the CPU (rel err %.2g)", l,
    shape(fc[l]), e))
end
local e = rel_err(fg.depth, ref.depth)
tap.ok(e < 1e-4, string.format("the device's depth map matches the float64 reference too (rel err %.2g)", e))

local d2c, d2g = cpu:forward(ref.input2), gpu:forward(ref.input2:to("cuda"))
e = rel_err(d2g, d2c)
tap.ok(shape(d2g) == "1x1x32x32" and e <= TOL,
  string.format("50x42 input (odd sizes): the depth map matches the CPU (rel err %.2g)", e))

-- ---- training mode: input and parameter gradients ----
cpu:train(true)
gpu:train(true)
cpu:zero_grad()
gpu:zero_grad()
local want = { "depth", "res3a_relu", "layer1_BN" }
cpu:features(ref.input, want)
gpu:features(x, want)
local dxc = cpu:backward({ depth = ref.R, res3a_relu = ref.S_res3a_relu, layer1_BN = ref.S_layer1_BN })
local dxg = gpu:backward({ depth = ref.R:to("cuda"), res3a_relu = ref.S_res3a_relu:to("cuda"),
  layer1_BN = ref.S_layer1_BN:to("cuda") })
e = rel_err(dxg, dxc)
tap.ok(shape(dxg) == "1x3x64x80" and e <= TOL,
  string.format("input gradient of losses at depth, res3a_relu and layer1_BN matches the CPU (rel err %.2g)", e))

local pc, pg = cpu:named_parameters(), gpu:named_parameters()
local worst, worst_name, n = -1, "none", 0
for i, p in ipairs(pc) do
  local q = pg[i]
  local gc, gg = p.module.grads[p.key], q and q.module.grads[q.key]
  if gc and gg and p.name == q.name then
    local r = rel_err(gg, gc)
    if not (r <= worst) then worst, worst_name = r, p.name end -- NaN counts as worst
    n = n + 1
  else
    worst, worst_name = math.huge, p.name .. " (gradient missing or names differ)"
  end
end
tap.ok(n == #pc and #pc == #pg and worst <= TOL,
  string.format("all %d parameter gradients match the CPU (worst %s, rel err %.2g)", n, worst_name, worst))

-- Batch norm's own parameter gradients (dgamma, dbeta) are not all zero.
local function grad(net, name)
  for _, p in ipairs(net:named_parameters()) do
    if p.name == name then return p.module.grads[p.key] end
  end
end
for _, name in ipairs({ "bn_conv1.weight", "bn_conv1.bias", "layer16x_BN.weight", "layer1_BN.bias" }) do
  local gc, gg = grad(cpu, name), grad(gpu, name)
  e = gc and gg and rel_err(gg, gc) or math.huge
  tap.ok(gc ~= nil and gc:abs():max() > 0 and e <= TOL,
    string.format("%s gradient is non-zero and matches the CPU (rel err %.2g)", name, e))
end

tap.done()
