-- Inference frees activations deterministically: tensor:free() and <close>
-- hand a buffer back at once, and stylizing (the transformer in evaluation
-- mode) keeps only a few activations alive, so the allocator's peak stays
-- under a bound from the network's activation sizes rather than their sum.
local strata = require "strata"
local tap = require "strata.tap"
local transformer = require "strata.models.transformer"
local stylize = require "strata.stylize"

local function in_use() return strata.sys.memory_stats("cpu").in_use end

-- tensor:free and <close>
local base = in_use()
local t = strata.zeros({ 1024, 1024 })
tap.is(in_use() - base, 4 * 1024 * 1024, "a 4 MiB tensor is in use")
t:free()
tap.is(in_use() - base, 0, "free() returns it at once, without a collection")
tap.ok(t:is_freed(), "is_freed() after free()")
tap.raises(function() return t:sum() end, { "tensor already freed" }, "using a freed tensor is an error")
tap.ok(pcall(function() t:free() end), "freeing twice is harmless")
do
  local c <close> = strata.zeros({ 512, 1024 })
  tap.is(in_use() - base, 2 * 1024 * 1024, "a <close> tensor is in use inside its scope")
end
tap.is(in_use() - base, 0, "and returned when the scope ends")
local a = strata.zeros({ 4, 256 })
local v = a:view({ 1024 })
a:free()
tap.is(v:sum(), 0, "a view outlives the freed tensor it was taken from (shared storage)")
v:free()
tap.is(in_use() - base, 0, "the storage goes with its last view")

-- Stylizing a 384x256 image: the network's largest activation is 32 x H x W
-- floats (conv1, deconv2 and their norms); all of them together are ~420 x H x W.
local H, W = 256, 384
local net = transformer.build({}):evaluate()
local img = strata.full({ 3, H, W }, 100)
local largest = 4 * 32 * H * W

-- In row bands (what stylize's convs do once a map passes
-- stylize.band_above, 8 MiB; lowered here to 256 KiB bands), oneDNN's
-- blocked copies and scratchpads are a band's, so the peak is the input plus
-- the largest pair a layer needs at once (conv2's 32-channel input and
-- 64-channel half-size output; deconv2 the reverse), plus a little. Whole,
-- it was about twice that.
local function pass(band_above, band_bytes, image)
  local a0, b0 = stylize.band_above, stylize.band_bytes
  stylize.band_above, stylize.band_bytes = band_above, band_bytes
  local before = in_use()
  strata.sys.memory_reset_peak("cpu")
  local out = stylize.image(net, image or img)
  stylize.band_above, stylize.band_bytes = a0, b0
  return out, strata.sys.memory_stats("cpu").peak - before
end
local above, bytes = strata.sys.conv_bands(7 << 20, 3 << 20)
local y, rise = pass(0, 256 * 1024)
local pair = largest + largest // 2
local bound = pair + 4 * 3 * H * W + 2 * 2 ^ 20
tap.diag(string.format("in bands: peak rise %.1f MiB; input + largest pair %.1f MiB; bound %.1f MiB", rise / 2 ^ 20,
  (pair + 4 * 3 * H * W) / 2 ^ 20, bound / 2 ^ 20))
local a1, b1 = strata.sys.conv_bands(above, bytes)
tap.ok(a1 == 7 << 20 and b1 == 3 << 20, "stylize puts the conv band settings back after its pass")
if above == 0 then
  tap.skip("built without oneDNN: no bands (im2col convs tile their own scratch)", 3)
else
  tap.ok(rise <= bound, "in bands, stylize's peak is the input plus the largest pair of activations, plus under 2 MiB")
  tap.is(above, 64 * 2 ^ 20, "elsewhere, convs band by default above 64 MiB")
end
y:free()
do
  local small = strata.full({ 3, 16, 16 }, 100)
  stylize.image(net, small, nil, true):free()
  tap.is(strata.sys.memory_lean(false), false, "stylize with lean turns the allocator's lean mode on for its pass only")
  tap.is(strata.sys.memory_ranges(false), false, "stylize turns the allocator's ranges mode on for its pass only")
end

-- Whole (no bands): deterministic freeing keeps the peak within the input
-- plus four of the largest (a conv's output and its norm's, oneDNN's blocked
-- copies of them).
local before = in_use()
y, rise = pass(1 << 40, 4 << 20)
bound = 4 * largest + 4 * 3 * H * W
tap.diag(string.format("peak rise %.1f MiB; bound %.1f MiB; sum of activations ~%.1f MiB", rise / 2 ^ 20,
  bound / 2 ^ 20, 4 * 420 * H * W / 2 ^ 20))
tap.ok(rise > pair + 4 * 3 * H * W + 2 * 2 ^ 20, "whole, the pass needs more than in bands")
tap.ok(rise <= bound, "stylize's peak allocation stays within the input plus four of the largest activations")
tap.is(tap.str(y:shape(), ","), "3,256,384", "output shape")
y:free()
tap.ok(in_use() - before <= 0, "nothing of the pass stays allocated once its output is freed")

-- stylize's own bands, at a size where every stage's maps pass 8 MiB
-- (576x512: 36 MiB full-size maps, 9 MiB quarter-size): the peak is within
-- two of the largest maps (whole, it is over three).
if above ~= 0 then
  local big = strata.full({ 3, 512, 576 }, 100)
  local big_largest = 4 * 32 * 512 * 576
  local yb, rise_bands = pass(stylize.band_above, stylize.band_bytes, big)
  yb:free()
  local yw, rise_whole = pass(1 << 40, 4 << 20, big)
  yw:free()
  tap.diag(string.format("576x512: peak rise %.1f MiB in stylize's bands, %.1f MiB whole; largest map %.1f MiB",
    rise_bands / 2 ^ 20, rise_whole / 2 ^ 20, big_largest / 2 ^ 20))
  tap.ok(rise_bands <= 2 * big_largest, "with stylize's bands the peak is within two of the largest maps")
  tap.ok(rise_bands <= 0.6 * rise_whole, "and at most 0.6x the peak of the whole pass")
  big:free()
end

-- Loss networks without gradients (content targets, eval): VGG-19 keeps
-- only the requested maps (and its cached mean image) once features returns.
local vgg19 = require "strata.models.vgg19"
local vgg = vgg19.build({ width_div = 8 })
vgg:train(false)
local xv = strata.full({ 1, 3, 64, 64 }, 50)
vgg:features(xv, { "relu1_1" }) -- caches the mean image for this shape
before = in_use()
local f = vgg:features(xv, { "relu2_1", "relu4_1" })
local kept = 4 * (f.relu2_1:numel() + f.relu4_1:numel())
tap.is(in_use() - before, kept, "VGG-19 features without gradients: only the requested maps stay allocated")
f.relu2_1:free()
f.relu4_1:free()
vgg:train(true)
before = in_use()
f = vgg:features(xv, { "relu4_1" })
tap.ok(in_use() - before > 4 * f.relu4_1:numel(), "in training mode the maps backward needs are kept")
f = nil
collectgarbage()

-- A graph network (FCRN, the depth target) likewise keeps only its output.
local fcrn = require "strata.models.fcrn"
local net_d = fcrn.build({ width_div = 16 })
net_d:train(false)
local xd = strata.full({ 1, 3, 64, 64 }, 0.5)
net_d:forward(xd):free() -- oneDNN primitives and caches for this shape
collectgarbage()
before = in_use()
local d = net_d:forward(xd)
tap.is(in_use() - before, 4 * d:numel(), "FCRN forward without gradients: only its output stays allocated")

-- A model read from a file keeps the loaded tensors as its parameters (no
-- second copy, none written twice): from_weights adds nothing to what the
-- weights file's tensors hold.
do
  local dir = os.tmpname()
  os.remove(dir)
  strata.sys.mkdir_p(dir)
  local small = transformer.build({ channels = { 8, 16, 32 }, blocks = 1 })
  local params = {}
  for _, p in ipairs(small:named_parameters()) do params[p.name] = p.module.params[p.key]:clone():fill(0.25) end
  strata.weights.save(dir .. "/t.h5", { params = params, attrs = transformer.attrs(small.config) })
  local wf = strata.weights.load(dir .. "/t.h5")
  collectgarbage()
  before = in_use()
  local loaded = transformer.from_weights(wf)
  collectgarbage()
  tap.is(in_use() - before, 0, "from_weights adopts the file's tensors: nothing more allocated")
  local first = loaded:named_parameters()[1]
  tap.ok(rawequal(first.module.params[first.key], wf.params[first.name]) and
    first.module.params[first.key]:mean() == 0.25, "the parameter is the loaded tensor, with the file's values")
  os.remove(dir .. "/t.h5")
  os.remove(dir)
end
tap.done()
