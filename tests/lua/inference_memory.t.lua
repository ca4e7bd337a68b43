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
-- Deterministic freeing keeps the peak within the input plus four of the
-- largest (a conv's output and its norm's, oneDNN's blocked copies of them).
local H, W = 256, 384
local net = transformer.build({}):evaluate()
local img = strata.full({ 3, H, W }, 100)
local before = in_use()
local peak0 = strata.sys.memory_stats("cpu").peak
local y = stylize.image(net, img)
local after = strata.sys.memory_stats("cpu")
local largest = 4 * 32 * H * W
local bound = 4 * largest + 4 * 3 * H * W
local rise = after.peak - math.max(before, peak0 > before and before or peak0)
tap.diag(string.format("peak rise %.1f MiB; bound %.1f MiB; sum of activations ~%.1f MiB", rise / 2 ^ 20,
  bound / 2 ^ 20, 4 * 420 * H * W / 2 ^ 20))
tap.ok(peak0 <= before + largest, "the peak before stylizing is not already above the bound's scale")
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
