-- Inference: run a trained transformer on an image of any size.
local core = require "strata.core"
local transformer = require "strata.models.transformer"
local strata_ops = core.ops

local M = {}

-- Loads a model file into a network on `device` ("cpu" by default).
function M.load_model(path, device) return M.model_from(core.weights.load(path), device) end

-- The network of loaded weights (a weights table, as weights.load gives).
function M.model_from(w, device) return transformer.from_weights(w, device):evaluate() end

-- Stylizes one image tensor [3,H,W] in 0..255 (on the CPU) with a network on
-- `device`; returns [3,H',W'] on the CPU (unclipped: image.write rounds and
-- clamps). H' = 4*ceil(ceil(H/2)/2) with 'same' padding.
-- Every intermediate is freed as soon as it has been read (the network frees
-- its own in evaluation mode), so a large photo needs a few activations'
-- memory, not all of them until the collector runs.
-- With `lean`, the pass runs with the CPU allocator in lean mode
-- (engine/memory.h): a large image's activations of every size are not all
-- kept cached, for ~25% less peak memory at 2048x1360 and ~0.25 s more page
-- faults per pass (bench/README.md).
-- The pass always runs in the allocator's ranges mode (engine/memory.h): the
-- smaller maps reuse the pages of freed larger ones instead of faulting in
-- fresh pages (712x474: ~13000 fewer page faults). Its CPU convs run in row
-- bands (kernels/cpu/dnnl_conv.h) once a map passes M.band_above bytes, so
-- oneDNN's blocked copies of the full-size maps are a band's size: 712x474
-- peaks at ~93 MiB instead of ~159, with ~7000 fewer page faults and the
-- same speed once warm (bench/README.md).
M.band_above, M.band_bytes = 8 << 20, 4 << 20

-- A to-be-closed value that runs fn when its scope ends, errors included.
local function on_close(fn) return setmetatable({}, { __close = fn }) end

function M.image(net, img, device, lean)
  local was_lean = core.sys.memory_lean(lean and true or false)
  local was_ranges = core.sys.memory_ranges(true)
  local was_above, was_bytes = core.sys.conv_bands(M.band_above, M.band_bytes)
  local _ <close> = on_close(function()
    core.sys.memory_lean(was_lean)
    core.sys.memory_ranges(was_ranges)
    core.sys.conv_bands(was_above, was_bytes)
  end)
  local x = img:view({ 1, img:size(1), img:size(2), img:size(3) })
  local function step(t)
    if not rawequal(t, x) then x:free() end
    x = t
  end
  if device and device ~= "cpu" then step(x:to(device)) end
  if net.input_scale and net.input_scale ~= 1 then step(strata_ops.affine(x, net.input_scale, 0)) end
  local y = net:forward(x)
  x:free()
  if device and device ~= "cpu" then
    local c = y:to("cpu")
    y:free()
    y = c
  end
  local out = y:view({ y:size(2), y:size(3), y:size(4) })
  y:free()
  return out
end

-- The bytes of the large blocks a CPU pass has in use at its peak, for a
-- transformer of widths `channels` on an h x w image, in stylize's bands:
-- conv2 reads a full-size c1 map while it writes a half-size c2 map (deconv2
-- the reverse), beside a band's blocked copies of each. 712x474 with
-- Engstrom's widths: 73 MB (the pass's measured peak: ~75 MB).
function M.pass_bytes(channels, h, w)
  local H, W = 4 * -(-h // 4), 4 * -(-w // 4)
  return 4 * channels[1] * H * W + 4 * channels[2] * (H // 2) * (W // 2) + 2 * M.band_bytes
end

-- Before a CPU pass on an h x w image, while the model loads and the image
-- decodes: faults in the pages the pass will need from a background thread
-- (engine/memory.h, st_mem_prefault), sized for Engstrom's widths, which
-- the model file has not told yet; M.prefault_fit then trims it to the
-- model's own (a wider one faults in the rest itself). On a VM that makes
-- the first pass ~as fast as later ones: bench/README.md.
function M.prefault(h, w)
  return core.sys.memory_prefault(M.pass_bytes(transformer.defaults.channels, h, w))
end

-- Once the model is known: a narrower network's pass needs fewer pages.
function M.prefault_fit(net, h, w)
  local c = net.config and net.config.channels
  if c then core.sys.memory_prefault_limit(M.pass_bytes(c, h, w)) end
end

-- The stylized image y's luminance with the colours (YCbCr chroma, BT.601
-- full range as in JPEG) of `original` [3,H,W], resized to y's size first
-- when they differ (the network rounds sizes up to a multiple of 4).
function M.preserve_colors(y, original)
  if original:size(2) ~= y:size(2) or original:size(3) ~= y:size(3) then
    original = core.ops.resize(original, y:size(2), y:size(3))
  end
  return core.ops.preserve_colors(y, original)
end

-- Reads `input`, optionally squashes it to size {w, h}, stylizes (keeping
-- its colours with opts.preserve_colors; opts.lean_memory: see M.image), writes
-- `output`: an image, or with a .npy name the unrounded float32 values [3,H,W].
-- opts.stage(name), when given, is called as each stage ends (STRATA_STAGE_TIMES).
-- opts.pending: core.image.read_async(input), started earlier by the caller.
function M.file(net, input, output, opts)
  opts = opts or {}
  local stage = opts.stage or function() end
  local img = opts.pending and opts.pending:wait() or core.image.read(input)
  stage("image read")
  if opts.size then
    -- Already that size: bilinear resizing to the same size is the identity.
    if img:size(2) ~= opts.size[2] or img:size(3) ~= opts.size[1] then
      img = core.ops.resize(img, opts.size[2], opts.size[1])
    end
    stage("image resized")
  end
  local y = M.image(net, img, opts.device, opts.lean_memory)
  stage("forward pass")
  -- The output is made in the pass's free ranges (the colours, the 8-bit
  -- copy, the PNG encoder's buffers: ~3 MB of pages already in, not ~800
  -- fresh ones); then the ranges go back to the system, from a thread.
  do
    local was = core.sys.memory_ranges(true)
    local _ <close> = on_close(function()
      core.sys.memory_ranges(was)
      core.sys.memory_release_ranges(true)
    end)
    if opts.preserve_colors then
      y = M.preserve_colors(y, img)
      stage("colours preserved")
    end
    if output:lower():match("%.npy$") then
      core.npy.save(output, y)
    else
      core.image.write(output, y)
    end
  end
  stage("output written")
  return y
end

return M
