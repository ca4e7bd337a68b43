-- The Lua tensor methods on CUDA tensors: arithmetic, abs, add_, paste and
-- the statistics run on the device (ops, not loops in the bindings) and give
-- the CPU's results; results stay on the tensor's device; mixing devices is
-- an error. Skips without a CUDA device.
local strata = require "strata"
local tap = require "strata.tap"

if not strata.sys.cuda_available() then tap.skip_all("no CUDA device") end

local a = strata.from_list({ 1, -2, 3.5, 0, 7, -0.25 }, { 2, 3 })
local b = strata.from_list({ 2, 4, -0.5, 3, 0.1, 8 }, { 2, 3 })
local ga, gb = a:to("cuda"), b:to("cuda")

-- g is on the device and equals c element for element.
local function same(g, c, what)
  tap.is(g:device(), "cuda:0", what .. " stays on the device")
  local gl, cl, equal = g:to("cpu"):to_list(), c:to_list(), #g:to("cpu"):to_list() == #c:to_list()
  for i = 1, #cl do equal = equal and (gl[i] == cl[i] or (gl[i] ~= gl[i] and cl[i] ~= cl[i])) end
  if not tap.ok(equal, what .. " equals the CPU") then tap.diag("gpu %s, cpu %s", tap.str(gl), tap.str(cl)) end
end

same(ga + gb, a + b, "tensor + tensor")
same(ga - gb, a - b, "tensor - tensor")
same(ga * gb, a * b, "tensor * tensor")
same(ga / gb, a / b, "tensor / tensor")
same(ga * 3, a * 3, "tensor * number")
same(10 - ga, 10 - a, "number - tensor")
same(2 / gb, 2 / b, "number / tensor")
same(-ga, -a, "unary minus")
same(ga:abs(), a:abs(), "abs")
same(ga:clone():add_(gb, 0.5), a:clone():add_(b, 0.5), "add_ with alpha")

tap.is(ga:sum(), a:sum(), "sum")
tap.is(ga:mean(), a:mean(), "mean")
tap.is(ga:min(), -2, "min")
tap.is(ga:max(), 7, "max")
tap.ok(ga:all_finite(), "all_finite")
tap.ok(not (ga / strata.zeros({ 2, 3 }, "cuda")):all_finite(), "all_finite sees 1/0")

local img = strata.zeros({ 2, 4, 5 })
local tile = strata.full({ 2, 2, 2 }, 9)
local gimg = img:to("cuda")
gimg:paste(tile:to("cuda"), 4, 0)
img:paste(tile, 4, 0)
same(gimg, img, "paste clipped at the bottom and left")

tap.raises(function() return ga + b end, { "different devices" }, "tensor arithmetic across devices")
tap.raises(function() ga:add_(b) end, { "different devices" }, "add_ across devices")
tap.raises(function() strata.zeros({ 0 }, "cuda"):min() end, { "min of an empty tensor" }, "min of an empty tensor")
tap.raises(function() ga:get(1, 1) end, { "CPU tensors" }, "element access still needs a CPU tensor")

tap.done()
