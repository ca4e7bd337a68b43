-- The paper's depth-aware style transfer (experiments/paper.lua: content 7.5,
-- style 100, TV 200, depth 200) plus a term on the edges of the depth map:
-- the horizontal and vertical differences of the depth network's map of the
-- stylized batch against those of the content batch's,
--   mse(dx D(stylized), dx D(content)) + mse(dy D(stylized), dy D(content)),
-- so that the stylization keeps where depth changes, not only its level
-- (Liu, Lai and Rosin, "Depth-aware neural style transfer", NPAR 2017).
--
-- The term is defined here, from strata ops on the "depth" layer's features:
-- nothing under lua/strata changes for it (docs/extending.md). Its functions
-- use only their arguments and globals: experiment.lua records them by their
-- source text. Needs what paper.lua needs.
local exp = dofile("experiments/paper.lua")
exp.name = "depth_edges"
exp.loss.depth_edges = {
  weight = 200,
  network = "depth",
  layers = { "depth" },
  target = "content",
  -- f.depth, t.depth: [N, 1, H, W] depth maps of the stylized and content batch.
  value = function(f, t, term)
    local strata = require "strata"
    local ops, a, b = strata.ops, f.depth, t.depth
    -- Difference kernels [-1, 1] across columns and across rows, once per device.
    if not term.kernels or term.kernels.device ~= a:device() then
      local kx, ky = strata.from_list({ -1, 1 }, { 1, 1, 1, 2 }), strata.from_list({ -1, 1 }, { 1, 1, 2, 1 })
      if a:device() ~= "cpu" then kx, ky = kx:to(a:device()), ky:to(a:device()) end
      term.kernels = { x = kx, y = ky, device = a:device() }
    end
    local total = 0
    for _, axis in ipairs({ "x", "y" }) do
      local k = term.kernels[axis]
      local da, db = ops.conv2d(a, k, nil, {}), ops.conv2d(b, k, nil, {})
      term.saved[axis] = { da, db }
      total = total + ops.mse(da, db)
    end
    return total
  end,
  -- scale * d value / d f.depth: each difference map's MSE gradient taken back
  -- through its difference (the convolution's input gradient).
  grad = function(f, t, term, scale)
    local ops, a, g = require("strata").ops, f.depth, nil
    for _, axis in ipairs({ "x", "y" }) do
      local k, s = term.kernels[axis], term.saved[axis]
      local d = ops.conv2d_backward(ops.mse_backward(s[1], s[2], scale), a, k, {}, nil, nil, true)
      g = g and ops.add(g, d) or d
      term.saved[axis] = nil
    end
    return { depth = g }
  end,
}
return exp
