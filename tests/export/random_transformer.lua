-- bin/strata run tests/export/random_transformer.lua OUT.h5 PADDING [INPUT_SCALE]
-- A small transformer (channels 8,16,32, two residual blocks) with seeded
-- random weights, norm scales and shifts: an export test model that needs no
-- trained weights and exercises every layer (PADDING "same" or "reflect").
local core = require "strata.core"
local transformer = require "strata.models.transformer"

local out, padding, input_scale = arg[1], arg[2] or "same", arg[3]
local eps = padding == "reflect" and 1e-5 or 1e-3
local net = transformer.build({ channels = { 8, 16, 32 }, blocks = 2, padding = padding, eps = eps })
local rng = core.rng(7)
for _, p in ipairs(net:named_parameters()) do
  local t = p.module.params[p.key]
  if t:dim() == 4 then
    rng:normal_(t, 0, math.sqrt(2 / (t:size(2) * t:size(3) * t:size(4))))
  elseif p.key == "weight" then
    rng:normal_(t, 1, 0.2)
  else
    rng:normal_(t, 0, 0.2)
  end
end
local state = net:state()
state.attrs = transformer.attrs(net.config)
if input_scale then state.attrs.input_scale = input_scale end
core.weights.save(out, state)
