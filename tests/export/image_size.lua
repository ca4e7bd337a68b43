-- bin/strata run tests/export/image_size.lua PICTURE: prints "WxH" (strata's
-- own reader: the file is a picture it can decode).
local core = require "strata.core"
local img = core.image.read(arg[1])
print(string.format("%dx%d", img:size(3), img:size(2)))
