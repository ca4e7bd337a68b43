-- bin/strata run tests/export/image_npy.lua IN.jpg OUT.npy: an image's values [3,H,W] (0..255) as float32.
local core = require "strata.core"
core.npy.save(arg[2], core.image.read(arg[1]))
