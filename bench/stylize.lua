-- Strata's side of the stylize benchmark (bench/run.sh runs it beside PyTorch).
-- usage: bin/strata run bench/stylize.lua --model MODEL.h5 --image IN [--size WxH] [--repeat N]
-- Prints one line "seconds <float>" per forward pass (image I/O excluded).
local strata = require "strata"
local stylize = require "strata.stylize"

local opts = {}
local i = 1
while i <= #arg do
  local k = arg[i]:match("^%-%-(.+)$")
  if not k or not arg[i + 1] then error("bench/stylize.lua: bad arguments near '" .. tostring(arg[i]) .. "'", 0) end
  opts[k] = arg[i + 1]
  i = i + 2
end
if not opts.model or not opts.image then error("bench/stylize.lua: --model and --image are required", 0) end

local net = stylize.load_model(opts.model)
local img = strata.image.read(opts.image)
if opts.size then
  local w, h = opts.size:match("^(%d+)x(%d+)$")
  img = strata.ops.resize(img, tonumber(h), tonumber(w))
end
for _ = 1, tonumber(opts["repeat"] or "3") do
  local t0 = strata.sys.clock()
  stylize.image(net, img)
  -- Hand the pass's tensors back to the caching allocator now (PyTorch frees
  -- them by reference counting); otherwise the next pass runs on fresh pages.
  collectgarbage()
  print(string.format("seconds %.6f", strata.sys.clock() - t0))
  io.stdout:flush()
end
