-- The strata Lua library: the C core (tensors, ops, image and weight I/O)
-- plus the Lua layers (nn modules, models, commands), loaded on first use.
local core = require "strata.core"

local strata = {}
for k, v in pairs(core) do strata[k] = v end

local lazy = { nn = "strata.nn", models = "strata.models", stylize = "strata.stylize", util = "strata.util" }
return setmetatable(strata, {
  __index = function(t, k)
    local mod = lazy[k]
    if mod then
      local v = require(mod)
      rawset(t, k, v)
      return v
    end
  end,
})
