-- Backward through the assembled transformer (conv, instance norm, ReLU in
-- place, residual blocks, transposed convs, tanh, affine) against central
-- finite differences, for both padding variants.
local strata = require "strata"
local tap = require "strata.tap"
local transformer = require "strata.models.transformer"

for _, padding in ipairs({ "same", "reflect" }) do
  local net = transformer.build({ channels = { 3, 4, 5 }, blocks = 1, padding = padding })
  net.modules[1].no_input_grad = false -- training skips it; here the input gradient is checked too
  local rng = strata.rng(11)
  for _, p in ipairs(net:named_parameters()) do
    local t = p.module.params[p.key]
    if t:dim() == 4 then rng:normal_(t, 0, 0.5) else rng:uniform_(t, 0.5, 1.5) end
  end
  local x = rng:uniform_(strata.empty({ 1, 3, 18, 14 }), 0, 1)
  local r = rng:normal_(strata.empty({ 1, 3, 20, 16 }), 0, 1)

  local function loss(input)
    net:evaluate()
    return (net:forward(input) * r):sum()
  end
  net:train(true)
  net:zero_grad()
  local y = net:forward(x)
  tap.is(table.concat(y:shape(), "x"), "1x3x20x16", padding .. ": output shape")
  local dx = net:backward(r)

  local worst = 0
  -- float32 forward passes: a step of 1e-2 may cross a ReLU kink, 1e-3 is
  -- noisier; the best of three steps must agree.
  local function check(t, g, idxs)
    for _, i in ipairs(idxs) do
      local flat, gflat = t:view({ t:numel() }), g:view({ g:numel() })
      local v, ana, best = flat:get(i), gflat:get(i), math.huge
      for _, eps in ipairs({ 1e-2, 3e-3, 1e-3 }) do
        flat:set(v + eps, i)
        local lp = loss(x)
        flat:set(v - eps, i)
        local lm = loss(x)
        flat:set(v, i)
        local num = (lp - lm) / (2 * eps)
        best = math.min(best, math.abs(num - ana) / math.max(1, math.abs(num), math.abs(ana)))
      end
      worst = math.max(worst, best)
    end
  end
  check(x, dx, { 1, 17, 60, 100, 189, 700 })
  for _, p in ipairs(net:named_parameters()) do
    local t = p.module.params[p.key]
    check(t, p.module.grads[p.key], { 1, t:numel() // 2 + 1, t:numel() })
  end
  tap.diag("%s: worst relative error %.2e", padding, worst)
  tap.ok(worst < 3e-2, padding .. ": input and every parameter's gradient match finite differences")
end
tap.done()
