-- The transformer network assembled in Lua: names, shapes, parameter count,
-- output size rules, and loading errors that name the file and parameter.
local strata = require "strata"
local tap = require "strata.tap"
local transformer = require "strata.models.transformer"

local net = transformer.build()
local params = net:named_parameters()
local n = 0
for _, p in ipairs(params) do n = n + p.module.params[p.key]:numel() end
tap.is(#params, 48, "48 parameter tensors, as Engstrom's checkpoint")
tap.is(n, 1677638, "1,677,638 parameters")
tap.is(params[1].name, "conv1.weight", "first parameter")
tap.is(params[10].name, "res1.conv1.weight", "first residual conv")
tap.is(params[48].name, "in6.bias", "last parameter")

-- Output sizes: 'same' padding gives 4*ceil(ceil(H/2)/2).
local small = transformer.build({ channels = { 4, 6, 8 }, blocks = 1 })
small:evaluate()
for _, hw in ipairs({ { 16, 16 }, { 17, 10 }, { 7, 9 } }) do
  local y = small:forward(strata.full({ 1, 3, hw[1], hw[2] }, 100))
  local function up(v) return 4 * math.ceil(math.ceil(v / 2) / 2) end
  tap.ok(y:size(3) == up(hw[1]) and y:size(4) == up(hw[2]),
    string.format("%dx%d input gives %dx%d output", hw[1], hw[2], y:size(3), y:size(4)))
  tap.ok(y:min() >= -22.5 - 1e-3 and y:max() <= 277.5 + 1e-3, "output within tanh*150+127.5 range")
end

-- Loading: a missing parameter and a wrong shape are errors naming both.
local state = small:state()
state.path = "small.h5"
local missing = { params = {}, path = "small.h5" }
for k, v in pairs(state.params) do missing.params[k] = v end
missing.params["res1.conv2.weight"] = nil
tap.raises(function() small:load_weights(missing) end,
  { "small.h5", "missing parameter 'res1.conv2.weight'", "[8, 8, 3, 3]" }, "missing parameter")
local wrong = { params = {}, path = "small.h5" }
for k, v in pairs(state.params) do wrong.params[k] = v end
wrong.params["conv1.weight"] = strata.zeros({ 4, 3, 3, 3 })
tap.raises(function() small:load_weights(wrong) end,
  { "small.h5", "'conv1.weight' has shape [4, 3, 3, 3], expected [4, 3, 9, 9]" }, "wrong shape")
local extra = { params = {}, path = "small.h5" }
for k, v in pairs(state.params) do extra.params[k] = v end
extra.params["conv9.weight"] = strata.zeros({ 1 })
tap.raises(function() small:load_weights(extra) end, { "'conv9.weight' is not part of" }, "unexpected parameter")

tap.done()
