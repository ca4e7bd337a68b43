-- The loss terms: the registry (strata.loss.registry) with the built-in terms
-- registered, in log order. A new built-in term is one more file here and one
-- more require; an experiment's own term needs neither (see docs/extending.md).
local registry = require "strata.loss.registry"
require "strata.loss.content"
require "strata.loss.style"
require "strata.loss.tv"
require "strata.loss.depth"
return registry
