-- The training ops and the seeded rng seen from Lua: small hand-checked cases,
-- in-place Adam, rng reproducibility and resumption, argument errors.
local strata = require "strata"
local tap = require "strata.tap"
local ops = strata.ops

local function T(list, shape) return strata.from_list(list, shape) end
local function str(t) return tap.str(t:to_list()) end

-- maxpool2d
local x = T({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }, { 1, 1, 4, 4 })
local y = ops.maxpool2d(x, { kernel = 2 })
tap.is(tap.str(y:shape()), "1,1,2,2", "maxpool2d 2x2: stride defaults to the kernel")
tap.is(str(y), "6,8,14,16", "maxpool2d 2x2 values")
tap.is(str(ops.maxpool2d(x, { kernel = { 2, 2 }, stride = { 2, 2 } })), "6,8,14,16", "kernel and stride as lists")
tap.is(str(ops.maxpool2d(x, { kernel = 3, stride = 2, pad = { 0, 1, 0, 1 } })), "11,12,15,16",
  "maxpool2d 3x3/2 with TF SAME pads (0 before, 1 after)")
tap.is(str(ops.maxpool2d(x, { kernel = 2, stride = 1 })), "6,7,8,10,11,12,14,15,16", "maxpool2d 2x2 stride 1")
-- pad = "same": TF padding='SAME'; on 3x3 (rows 1..9 of x) 2x2/2 gives 2x2
-- with the last row and column alone in their windows.
local x3 = strata.from_list({ -1, -2, -3, -4, -5, -6, -7, -8, -9 }, { 1, 1, 3, 3 })
tap.is(str(ops.maxpool2d(x3, { kernel = 2, pad = "same" })), "-1,-3,-7,-9",
  "maxpool2d 2x2/2 pad \"same\" on 3x3: ceil size, padding never wins")
tap.is(str(ops.maxpool2d_backward(strata.full({ 1, 1, 2, 2 }, 1), x3, { kernel = 2, pad = "same" })),
  "1,0,1,0,0,0,1,0,1", "maxpool2d_backward with pad \"same\"")
tap.raises(function() ops.maxpool2d(x3, { kernel = 2, pad = "valid" }) end, { "pad", "same", "valid" },
  "an unknown pad string is an error naming it")
local dx = ops.maxpool2d_backward(strata.full({ 1, 1, 2, 2 }, 1), x, { kernel = 2 })
tap.is(str(dx), "0,0,0,0,0,1,0,1,0,0,0,0,0,1,0,1", "maxpool2d_backward routes dy to each window's maximum")
local flat = strata.full({ 1, 1, 2, 2 }, 3)
tap.is(str(ops.maxpool2d_backward(T({ 5 }, { 1, 1, 1, 1 }), flat, { kernel = 2 })), "5,0,0,0",
  "maxpool2d_backward: a tie goes to the first cell")
tap.raises(function() ops.maxpool2d(x, { stride = 2 }) end, { "'kernel' is required" }, "maxpool2d without kernel")
tap.raises(function() ops.maxpool2d(x, { kernel = "2" }) end, { "'kernel' must be an integer or a list of 2" },
  "maxpool2d kernel of the wrong type")
tap.raises(function() ops.maxpool2d(x, { kernel = 2, pad = { 1, 1 } }) end, { "'pad'", "list of 4" },
  "maxpool2d pad list of the wrong length")
tap.raises(function() ops.maxpool2d(strata.zeros({ 4, 4 }), { kernel = 2 }) end, { "maxpool2d" },
  "maxpool2d on a 2-D tensor")
tap.raises(function() ops.maxpool2d(x, { kernel = 2, pad = 2 }) end, { "smaller than the kernel" },
  "maxpool2d pad as large as the kernel")
tap.raises(function() ops.maxpool2d_backward(strata.zeros({ 1, 1, 3, 3 }), x, { kernel = 2 }) end,
  { "maxpool2d_backward: dy" }, "maxpool2d_backward with a wrongly shaped dy")
tap.raises(function() ops.maxpool2d({}, { kernel = 2 }) end, { "strata.Tensor" }, "maxpool2d of a non-tensor")

-- gram: F = [[1, 2], [3, 4]] (C = 2, H*W = 2), G = F F^T / 4
local f = T({ 1, 2, 3, 4 }, { 1, 2, 1, 2 })
local g = ops.gram(f)
tap.is(tap.str(g:shape()), "1,2,2", "gram shape [N, C, C]")
tap.is(str(g), "1.25,2.75,2.75,6.25", "gram values")
tap.is(str(ops.gram_backward(T({ 1, 0, 0, 0 }, { 1, 2, 2 }), f)), "0.5,1,0,0", "gram_backward = (dg + dg^T) F / (C H W)")
tap.raises(function() ops.gram(strata.zeros({ 2, 2 })) end, { "gram" }, "gram of a 2-D tensor")

-- gram_distance: ||g - gs||^2 / C^2, averaged over the batch
local g1 = T({ 1, 2, 3, 4 }, { 1, 2, 2 })
local zero = strata.zeros({ 1, 2, 2 })
tap.close(ops.gram_distance(g1, zero), 7.5, 1e-6, 0, "gram_distance = 30 / 4")
tap.is(str(ops.gram_distance_backward(g1, zero)), "0.5,1,1.5,2", "gram_distance_backward, dloss = 1")
tap.is(str(ops.gram_distance_backward(g1, zero, 2)), "1,2,3,4", "gram_distance_backward scales by dloss")
local g2 = T({ 1, 2, 3, 4, 0, 0, 0, 0 }, { 2, 2, 2 })
tap.close(ops.gram_distance(g2, zero), 3.75, 1e-6, 0, "gram_distance broadcasts gs over the batch and averages")
tap.raises(function() ops.gram_distance(g1, strata.zeros({ 1, 3, 3 })) end, { "gram_distance" },
  "gram_distance with another channel count")

-- mse
local a, b = T({ 1, 2, 3, 4 }, { 1, 1, 2, 2 }), strata.zeros({ 1, 1, 2, 2 })
tap.close(ops.mse(a, b), 7.5, 1e-6, 0, "mse = mean of squares")
tap.is(str(ops.mse_backward(a, b)), "0.5,1,1.5,2", "mse_backward = 2 (a - b) / numel")
tap.is(str(ops.mse_backward(a, b, 0.5)), "0.25,0.5,0.75,1", "mse_backward scales by dloss")
tap.raises(function() ops.mse(a, strata.zeros({ 4 })) end, { "mse" }, "mse of different shapes")

-- tv on [[0, 1], [2, 4]]: (1 + 4) / 2 + (4 + 9) / 2 = 9
local img = T({ 0, 1, 2, 4 }, { 1, 1, 2, 2 })
tap.close(ops.tv(img), 9, 1e-6, 0, "tv value")
tap.is(str(ops.tv_backward(img)), "-3,-2,0,5", "tv_backward")
tap.is(str(ops.tv_backward(img, 2)), "-6,-4,0,10", "tv_backward scales by dloss")
tap.close(ops.tv(strata.full({ 2, 3, 4, 4 }, 7)), 0, 0, 0, "tv of a constant image is 0")
tap.raises(function() ops.tv(strata.zeros({ 4, 4 })) end, { "tv" }, "tv of a 2-D tensor")

-- adam: the first step moves every parameter by lr against the gradient's sign
local p, grad = T({ 1, 1 }, { 2 }), T({ 0.5, -2 }, { 2 })
local m, v = strata.zeros({ 2 }), strata.zeros({ 2 })
local ret = ops.adam_step(p, grad, m, v, 0.1, 0.9, 0.999, 1e-8, 1)
tap.is(ret, nil, "adam_step returns nothing (in place)")
tap.close(p:get(1), 0.9, 1e-6, 0, "adam step 1: param -= lr for a positive gradient")
tap.close(p:get(2), 1.1, 1e-6, 0, "adam step 1: param += lr for a negative gradient")
tap.close(m:get(1), 0.05, 1e-7, 0, "adam m = (1 - beta1) g")
tap.close(v:get(2), 0.004, 0, 1e-4, "adam v = (1 - beta2) g^2")
-- step 2 with the same gradient: mhat = g, vhat = g^2 again, so another lr
ops.adam_step(p, grad, m, v, 0.1, 0.9, 0.999, 1e-8, 2)
tap.close(p:get(1), 0.8, 1e-6, 0, "adam step 2 with a constant gradient moves lr again")
tap.raises(function() ops.adam_step(p, grad, m, v, 0.1, 0.9, 0.999, 1e-8, 0) end, { "1-based" }, "adam t = 0")
tap.raises(function() ops.adam_step(p, grad, strata.zeros({ 3 }), v, 0.1, 0.9, 0.999, 1e-8, 1) end,
  { "st_adam_step: m" }, "adam m of another shape")
tap.raises(function() ops.adam_step(p, grad, m, v, 0.1, 0.9, 0.999, 1e-8) end, { "number expected" },
  "adam without t")

-- rng
local r1, r2 = strata.rng(42), strata.rng(42)
local n1 = r1:normal_(strata.zeros({ 64 })):to_list()
local n2 = r2:normal_(strata.zeros({ 64 })):to_list()
tap.is(tap.str(n1), tap.str(n2), "same seed, same normals")
tap.ok(tap.str(n1) ~= tap.str(strata.rng(43):normal_(strata.zeros({ 64 })):to_list()), "another seed, other normals")
local st = r1:state()
tap.ok(type(st) == "string" and #st == 64 and st:match("^[0-9a-f]+$") ~= nil, "state() is 64 hex digits")
local ahead = r1:uniform_(strata.zeros({ 10 }), -1, 1):to_list()
local u_after = r1:uniform()
local r3 = strata.rng(7)
tap.is(r3:set_state(st), r3, "set_state returns the rng")
tap.is(tap.str(r3:uniform_(strata.zeros({ 10 }), -1, 1):to_list()), tap.str(ahead), "set_state resumes the exact stream")
tap.is(r3:uniform(), u_after, "... and keeps agreeing afterwards")
tap.ok(tostring(r3):find("strata.Rng(", 1, true) ~= nil, "tostring names the type")

local big = strata.rng(1):normal_(strata.zeros({ 20000 }), 3, 2)
local mean = big:mean()
local var = ((big - mean) * (big - mean)):mean()
tap.close(mean, 3, 0.06, 0, "normal_ mean")
tap.close(math.sqrt(var), 2, 0.05, 0, "normal_ std")
local tn = strata.rng(2):truncated_normal_(strata.zeros({ 20000 }), 1, 0.5)
tap.ok(tn:min() >= 0 and tn:max() <= 2, "truncated_normal_ stays within 2 std of the mean")
tap.ok(tn:min() < 0.1 and tn:max() > 1.9, "truncated_normal_ reaches near both cut-offs")
local un = strata.rng(3):uniform_(strata.zeros({ 5000 }), -2, 5)
tap.ok(un:min() >= -2 and un:max() < 5 and math.abs(un:mean() - 1.5) < 0.15, "uniform_ in [lo, hi) with the right mean")
local r4, inrange = strata.rng(4), true
for _ = 1, 1000 do
  local u = r4:uniform()
  inrange = inrange and u >= 0 and u < 1
end
tap.ok(inrange, "uniform() in [0, 1)")
local perm, seen, okperm = strata.rng(5):permutation(10), {}, true
for _, i in ipairs(perm) do
  okperm = okperm and math.type(i) == "integer" and i >= 1 and i <= 10 and not seen[i]
  seen[i] = true
end
tap.ok(okperm and #perm == 10, "permutation(10) holds 1..10 once each")
tap.is(tap.str(strata.rng(5):permutation(10)), tap.str(perm), "permutation is reproducible")
tap.is(#strata.rng(5):permutation(0), 0, "permutation(0) is empty")
tap.ok(strata.rng(-1):uniform() ~= strata.rng(1):uniform(), "negative seeds work and differ")
tap.is(strata.rng(2.0):uniform(), strata.rng(2):uniform(), "an integral float seed equals the integer seed")

tap.raises(function() strata.rng(1.5) end, { "number has no integer representation" }, "fractional seed")
tap.raises(function() strata.rng("x") end, { "number expected" }, "seed of the wrong type")
tap.raises(function() strata.rng(1):set_state("abc") end, { "rng state", "64 hex digits" }, "short state")
tap.raises(function() strata.rng(1):set_state(string.rep("g", 64)) end, { "not a hex digit" }, "non-hex state")
tap.raises(function() strata.rng(1):set_state(string.rep("0", 64)) end, { "all zero" }, "all-zero state")
local r5 = strata.rng(9)
local before = r5:state()
pcall(function() r5:set_state("zz") end)
tap.is(r5:state(), before, "a refused state leaves the rng unchanged")
tap.raises(function() strata.rng(1):normal_({}) end, { "strata.Tensor" }, "normal_ of a non-tensor")
tap.raises(function() strata.rng(1):uniform_(strata.zeros({ 2 }), 0, math.huge) end, { "finite" },
  "uniform_ with an infinite bound")
tap.raises(function() strata.rng(1):permutation(-1) end, { "permutation size" }, "negative permutation size")
tap.raises(function() strata.rng(1).uniform({}) end, { "strata.Rng" }, "method on a non-rng")

tap.done()
