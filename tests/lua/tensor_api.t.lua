-- The tensor API seen from Lua: creation, shape, indexing, arithmetic, views, errors.
local strata = require "strata"
local tap = require "strata.tap"

local t = strata.zeros({ 2, 3, 4 })
tap.is(t:dim(), 3, "dim")
tap.is(t:numel(), 24, "numel")
tap.is(tap.str(t:shape(), ","), "2,3,4", "shape")
tap.is(t:size(2), 3, "size(2)")
tap.is(t:device(), "cpu", "device")
tap.ok(tostring(t):find("[2, 3, 4]", 1, true), "tostring shows the shape")

t:set(5.5, 2, 3, 4)
tap.is(t:get(2, 3, 4), 5.5, "set/get last element")
tap.is(t:to_list()[24], 5.5, "row-major flat order")
tap.is(t:sum(), 5.5, "sum")
tap.raises(function() t:get(3, 1, 1) end, { "out of range" }, "out-of-range index is an error")
tap.raises(function() t:get(1, 1) end, { "2 indices given for a 3-dimensional tensor" }, "wrong index count is an error")

local a = strata.from_list({ 1, 2, 3, 4 }, { 2, 2 })
local b = strata.full({ 2, 2 }, 2)
tap.is(tap.str((a + b):to_list()), "3,4,5,6", "tensor + tensor")
tap.is(tap.str((a * 3):to_list()), "3,6,9,12", "tensor * number")
tap.is(tap.str((10 - a):to_list()), "9,8,7,6", "number - tensor")
tap.is(tap.str((a / b):to_list()), "0.5,1,1.5,2", "tensor / tensor")
tap.is(tap.str((-a):to_list()), "-1,-2,-3,-4", "unary minus")
tap.is(a:mean(), 2.5, "mean")
tap.is(a:min(), 1, "min")
tap.is(a:max(), 4, "max")
tap.raises(function() return a + strata.zeros({ 3 }) end, { "different shapes" }, "shape mismatch in arithmetic")
tap.raises(function() strata.from_list({ 1, 2, 3 }, { 2, 2 }) end, { "3 values given" }, "from_list count mismatch")

local v = a:view({ 4 })
v:set(9, 1)
tap.is(a:get(1, 1), 9, "a view shares storage")
local rows = strata.from_list({ 1, 2, 3, 4, 5, 6 }, { 3, 2 }):narrow(2, 2)
tap.is(tap.str(rows:to_list()), "3,4,5,6", "narrow selects rows 2..3")
tap.raises(function() a:view({ 3 }) end, { "element counts differ" }, "view with another element count")
local c = a:clone()
c:fill(0)
tap.is(a:get(1, 1), 9, "clone does not share storage")
tap.ok(not strata.from_list({ 0 / 0 }, { 1 }):all_finite(), "all_finite sees NaN")

tap.raises(function() strata.zeros({ 2 }, "gpu") end, { "unknown device 'gpu'" }, "unknown device name")
local has_cuda = strata.sys.cuda_available()
if not has_cuda then
  tap.raises(function() strata.zeros({ 2 }, "cuda") end, { "cuda:0" }, "a CUDA tensor without a device is a clear error")
else
  tap.skip("CUDA present")
end

-- Ops from Lua: argument errors are Lua errors naming the argument.
local x = strata.zeros({ 1, 3, 8, 8 })
local w = strata.zeros({ 4, 2, 3, 3 })
tap.raises(function() strata.ops.conv2d(x, w, nil, { stride = 1, pad = 1 }) end, { "conv2d" }, "conv2d channel mismatch")
local y = strata.ops.conv2d(x, strata.zeros({ 4, 3, 3, 3 }), nil, { stride = 2, pad = { 0, 1, 0, 1 } })
tap.is(tap.str(y:shape(), ","), "1,4,4,4", "conv2d stride 2 with SAME pads")
local before, after = strata.ops.same_pads(256, 3, 2)
tap.ok(before == 0 and after == 1, "same_pads(256, 3, 2) = 0, 1")
tap.raises(function() strata.ops.pad2d(x, { 1, 1, 1, 1 }, "mirror") end, { "unknown padding mode 'mirror'" }, "bad pad mode")

-- Weights and images round trip through Lua.
local dir = os.tmpname()
os.remove(dir)
strata.sys.mkdir_p(dir)
local p = strata.from_list({ 1, 2, 3, 4, 5, 6 }, { 2, 3 })
strata.weights.save(dir .. "/w.h5", { params = { ["layer.weight"] = p }, attrs = { network = "test" } })
local w2 = strata.weights.load(dir .. "/w.h5")
tap.is(tap.str(w2.params["layer.weight"]:to_list()), "1,2,3,4,5,6", "weights round trip")
tap.is(w2.attrs.network, "test", "weights attribute round trip")
local img = strata.zeros({ 3, 5, 7 })
img:set(255, 1, 1, 1)
img:set(300, 2, 5, 7) -- clamped on write
strata.image.write(dir .. "/i.png", img)
local img2 = strata.image.read(dir .. "/i.png")
tap.ok(img2:get(1, 1, 1) == 255 and img2:get(2, 5, 7) == 255 and img2:sum() == 510, "png round trip with clamping")
os.remove(dir .. "/w.h5")
os.remove(dir .. "/i.png")
os.remove(dir)

tap.done()
