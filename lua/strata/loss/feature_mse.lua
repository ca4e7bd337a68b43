-- Feature-matching terms: the mean squared error between the stylized and
-- the content image's activations at one layer of a loss network.
-- content: VGG-19 relu4_2 (Engstrom's 2*l2_loss/size, i.e. the mean over all
-- elements of the batch). depth (the paper's term): the depth network's layer
-- j (default its output map), 1/(C*H*W) ||Psi_j(stylized) - Psi_j(content)||^2
-- averaged over the batch.
local core = require "strata.core"

-- A registry definition (strata.loss.registry) of such a term.
return function(name, network, defaults)
  return {
    name = name, network = network, target = "content", defaults = defaults,
    layers = function(opts) return { opts.layer } end,
    value = function(f, t, term)
      local l = term.layers[1]
      return core.ops.mse(f[l], t[l])
    end,
    grad = function(f, t, term, scale)
      local l = term.layers[1]
      return { [l] = core.ops.mse_backward(f[l], t[l], scale) }
    end,
  }
end
