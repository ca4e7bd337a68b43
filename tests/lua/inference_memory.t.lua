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

-- In row bands (what convs with activations over 64 MiB do, e.g. stylizing
-- 2048x1360; lowered here so this image bands), oneDNN's blocked copies and
-- scratchpads are a band's, so the peak is the input plus the largest pair a
-- layer needs at once (conv2's 32-channel input and 64-channel half-size
-- output; deconv2 the reverse), plus a little. Whole, it was about twice that.
local above, bytes = strata.sys.conv_bands(0, 256 * 1024)
local before = in_use()
local peak0 = strata.sys.memory_stats("cpu").peak
local y = stylize.image(net, img)
local rise = strata.sys.memory_stats("cpu").peak - before
strata.sys.conv_bands(above, bytes)
local pair = largest + largest // 2
local bound = pair + 4 * 3 * H * W + 2 * 2 ^ 20
tap.diag(string.format("in bands: peak rise %.1f MiB; input + largest pair %.1f MiB; bound %.1f MiB", rise / 2 ^ 20,
  (pair + 4 * 3 * H * W) / 2 ^ 20, bound / 2 ^ 20))
if above == 0 then
  tap.skip("built without oneDNN: no bands (im2col convs tile their own scratch)")
else
  tap.ok(peak0 <= before + largest // 2, "the peak before stylizing is below the scale of the bound")
  tap.ok(rise <= bound, "in bands, stylize's peak is the input plus the largest pair of activations, plus under 2 MiB")
  tap.is(above, 64 * 2 ^ 20, "bands by default above 64 MiB")
end
y:free()
do
  local small = strata.full({ 3, 16, 16 }, 100)
  stylize.image(net, small, nil, true):free()
  tap.is(strata.sys.memory_lean(false), false, "stylize with lean turns the allocator's lean mode on for its pass only")
  tap.is(strata.sys.memory_ranges(false), false, "stylize turns the allocator's ranges mode on for its pass only")
end

-- Whole (no bands at this size by default): deterministic freeing keeps the
-- peak within the input plus four of the largest (a conv's output and its
-- norm's, oneDNN's blocked copies of them).
before = in_use()
peak0 = strata.sys.memory_stats("cpu").peak
y = stylize.image(net, img)
local after = strata.sys.memory_stats("cpu")
bound = 4 * largest + 4 * 3 * H * W
rise = after.peak - before
tap.diag(string.format("peak rise %.1f MiB; bound %.1f MiB; sum of activations ~%.1f MiB", rise / 2 ^ 20,
  bound / 2 ^ 20, 4 * 420 * H * W / 2 ^ 20))
tap.ok(after.peak > peak0, "whole, the pass sets a new peak (above the banded pass's), so its rise is measured")
tap.ok(rise <= bound, "stylize's peak allocation stays within the input plus four of the largest activations")
tap.is(tap.str(y:shape(), ","), "3,256,384", "output shape")
y:free()
tap.ok(in_use() - before <= 0, "nothing of the pass stays allocated once its output is freed")

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
tap.done()
