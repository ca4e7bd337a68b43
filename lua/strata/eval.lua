-- The paper's evaluation: how far the depth map of a stylized image is from
-- the original's, for a baseline and a depth-aware model.
-- For each test image: depth(original), depth(baseline-stylized),
-- depth(depth-aware-stylized) from the depth network; per image the L2
-- distance of each stylized depth map to the original's, Eigen's
-- scale-invariant log error and SSIM; the ratio of mean L2 distances
-- depth-aware / baseline (the paper reports about 0.5). Writes
-- results/<name>/: metrics.csv, metrics.md, figure.png (Fig. 6 style),
-- losses.png (training curves of both runs) and report.md.
local core = require "strata.core"
local util = require "strata.util"
local experiment = require "strata.experiment"
local figure = require "strata.figure"
local plot = require "strata.plot"
local stylize = require "strata.stylize"

local M = {}

function M.defaults()
  return {
    name = "depth_l2",
    images = "data/samples/content", -- a folder of test images, or a list of files
    size = 256,                        -- images are squashed to size x size
    baseline = "results/baseline/default/model.h5",
    depth_aware = "results/paper/default/model.h5",
    depth = { model = "fcrn", weights = "weights/fcrn.h5", layer = "depth" }, -- model: as a run's depth.model
    figure_images = 4,                 -- rows of the figure
    device = "cpu",
    output = { dir = "results" },
  }
end

local function list_images(spec)
  if type(spec) == "table" then return spec end
  if not core.sys.is_dir(spec) then util.fail("images: '%s' is not a folder", spec) end
  local files = {}
  local p = io.popen(string.format("find '%s' -type f \\( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \\) | sort", spec))
  for line in p:lines() do files[#files + 1] = line end
  p:close()
  if #files == 0 then util.fail("images: '%s' holds no .jpg/.jpeg/.png images", spec) end
  return files
end

-- Metrics of a depth map `s` against the original's `o` (flat lists).
function M.l2(o, s)
  local acc = 0
  for i = 1, #o do acc = acc + (s[i] - o[i]) ^ 2 end
  return math.sqrt(acc)
end

-- Eigen et al.'s scale-invariant error in log space (lambda = 1):
-- mean(d^2) - mean(d)^2 with d = log s - log o (depths clamped at 1e-3 m).
function M.silog(o, s)
  local sum, sum2 = 0, 0
  for i = 1, #o do
    local d = math.log(math.max(s[i], 1e-3)) - math.log(math.max(o[i], 1e-3))
    sum, sum2 = sum + d, sum2 + d * d
  end
  local n = #o
  return sum2 / n - (sum / n) ^ 2
end

-- Mean SSIM over 7x7 windows (uniform weights), dynamic range that of `o`.
function M.ssim(o, s, h, w)
  local lo, hi = math.huge, -math.huge
  for i = 1, #o do lo, hi = math.min(lo, o[i]), math.max(hi, o[i]) end
  local L = hi > lo and hi - lo or 1
  local c1, c2 = (0.01 * L) ^ 2, (0.03 * L) ^ 2
  -- integral images of o, s, o^2, s^2, o*s
  local function integral(f)
    local I = {}
    for y = 0, h do I[y * (w + 1)] = 0 end
    for x = 0, w do I[x] = 0 end
    for y = 1, h do
      local row = 0
      for x = 1, w do
        row = row + f((y - 1) * w + x)
        I[y * (w + 1) + x] = I[(y - 1) * (w + 1) + x] + row
      end
    end
    return I
  end
  local Io, Is = integral(function(i) return o[i] end), integral(function(i) return s[i] end)
  local Ioo, Iss = integral(function(i) return o[i] * o[i] end), integral(function(i) return s[i] * s[i] end)
  local Ios = integral(function(i) return o[i] * s[i] end)
  local k, n = 7, 49
  local total, count = 0, 0
  local function box(I, y0, x0) -- sum over rows y0+1..y0+k, cols x0+1..x0+k
    local W1 = w + 1
    return I[(y0 + k) * W1 + x0 + k] - I[y0 * W1 + x0 + k] - I[(y0 + k) * W1 + x0] + I[y0 * W1 + x0]
  end
  for y0 = 0, h - k do
    for x0 = 0, w - k do
      local mo, ms = box(Io, y0, x0) / n, box(Is, y0, x0) / n
      -- sample (co)variances, as scikit-image's default
      local vo = (box(Ioo, y0, x0) - n * mo * mo) / (n - 1)
      local vs = (box(Iss, y0, x0) - n * ms * ms) / (n - 1)
      local cos = (box(Ios, y0, x0) - n * mo * ms) / (n - 1)
      total = total + ((2 * mo * ms + c1) * (2 * cos + c2)) / ((mo * mo + ms * ms + c1) * (vo + vs + c2))
      count = count + 1
    end
  end
  return count > 0 and total / count or 1
end

-- The iteration and total columns of a run's log.csv (found by name: the
-- columns before them are the run's loss terms).
local function read_log(path)
  local xs, ys = {}, {}
  local f = io.open(path, "r")
  if not f then return nil end
  local it_col, total_col
  for line in f:lines() do
    local cells = {}
    for c in (line .. ","):gmatch("([^,]*),") do cells[#cells + 1] = c end
    if not total_col then
      for i, c in ipairs(cells) do
        if c == "iteration" then it_col = i elseif c == "total" then total_col = i end
      end
      if not (it_col and total_col) then f:close() return nil end
    elseif tonumber(cells[it_col]) and tonumber(cells[total_col]) then
      xs[#xs + 1], ys[#ys + 1] = tonumber(cells[it_col]), tonumber(cells[total_col])
    end
  end
  f:close()
  return { xs = xs, ys = ys }
end

local function dirname(p) return p:match("^(.*)/[^/]*$") or "." end

function M.run(cfg)
  local out_dir = cfg.output.dir .. "/" .. cfg.name
  core.sys.mkdir_p(out_dir)
  for _, key in ipairs({ "baseline", "depth_aware" }) do
    if not core.sys.exists(cfg[key]) then util.fail("%s: model '%s' not found (train it first)", key, cfg[key]) end
  end
  local device = cfg.device
  local base = stylize.load_model(cfg.baseline, device)
  local aware = stylize.load_model(cfg.depth_aware, device)
  -- The depth network, as the trainer loads it (strata.loss.networks).
  local fcrn = require("strata.loss.networks").load("depth", cfg.depth, device)
  fcrn:train(false)
  fcrn:check_layer(cfg.depth.layer)
  local notes = {}
  if fcrn.synthetic then notes[#notes + 1] = "the depth network's weights are RANDOM (synthetic): depth maps and distances are not meaningful" end
  for _, key in ipairs({ "baseline", "depth_aware" }) do
    local w = core.weights.load(cfg[key])
    for k, v in pairs(w.attrs) do
      if k:match("^synthetic_") and v == "true" then
        notes[#notes + 1] = string.format("the %s model was trained with RANDOM %s weights", key, k:sub(11))
      end
    end
  end

  local function depth_of(img)
    local x = img:view({ 1, 3, img:size(2), img:size(3) })
    if device ~= "cpu" then x = x:to(device) end
    local d = fcrn:features(x, { cfg.depth.layer })[cfg.depth.layer]
    return device == "cpu" and d or d:to("cpu")
  end
  local function clamp_image(y) -- what a saved stylization holds: 0..255
    local l = y:to_list()
    for i = 1, #l do l[i] = math.max(0, math.min(255, math.floor(l[i] + 0.5))) end
    return core.from_list(l, y:shape())
  end

  local rows, fig_rows = {}, {}
  local csv = { "image,l2_baseline,l2_depth_aware,ratio,silog_baseline,silog_depth_aware,ssim_baseline,ssim_depth_aware" }
  local sums = { 0, 0, 0, 0, 0, 0 }
  local files = list_images(cfg.images)
  for idx, path in ipairs(files) do
    local img = core.ops.resize(core.image.read(path), cfg.size, cfg.size)
    local yb = clamp_image(stylize.image(base, img, device))
    local ya = clamp_image(stylize.image(aware, img, device))
    local d_o, d_b, d_a = depth_of(img), depth_of(yb), depth_of(ya)
    local o, b, a = d_o:to_list(), d_b:to_list(), d_a:to_list()
    local h, w = d_o:size(d_o:dim() - 1), d_o:size(d_o:dim())
    local m = { M.l2(o, b), M.l2(o, a), M.silog(o, b), M.silog(o, a), M.ssim(o, b, h, w), M.ssim(o, a, h, w) }
    for i = 1, 6 do sums[i] = sums[i] + m[i] end
    local name = path:match("[^/]+$")
    csv[#csv + 1] = string.format("%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g", name, m[1], m[2], m[2] / math.max(m[1], 1e-30),
      m[3], m[4], m[5], m[6])
    rows[#rows + 1] = { name = name, m = m }
    if idx <= cfg.figure_images then
      local lo, hi = d_o:min(), d_o:max()
      local function tile(t) return core.ops.resize(t, h, w) end
      fig_rows[#fig_rows + 1] = { tile(img), tile(yb), tile(ya), figure.colormap(d_o, lo, hi), figure.colormap(d_b, lo, hi),
        figure.colormap(d_a, lo, hi) }
    end
    io.stdout:write(string.format("%s: L2 baseline %.4g, depth-aware %.4g\n", name, m[1], m[2]))
  end
  local n = #rows
  local mean = {}
  for i = 1, 6 do mean[i] = sums[i] / n end
  local ratio = mean[2] / math.max(mean[1], 1e-30)
  csv[#csv + 1] = string.format("mean,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g", mean[1], mean[2], ratio, mean[3], mean[4],
    mean[5], mean[6])
  core.sys.write_atomic(out_dir .. "/metrics.csv", table.concat(csv, "\n") .. "\n")

  local md = { "| image | L2 baseline | L2 depth-aware | ratio | si-log baseline | si-log depth-aware | SSIM baseline | SSIM depth-aware |",
    "|---|---:|---:|---:|---:|---:|---:|---:|" }
  for _, r in ipairs(rows) do
    md[#md + 1] = string.format("| %s | %.4g | %.4g | %.3f | %.4g | %.4g | %.3f | %.3f |", r.name, r.m[1], r.m[2],
      r.m[2] / math.max(r.m[1], 1e-30), r.m[3], r.m[4], r.m[5], r.m[6])
  end
  md[#md + 1] = string.format("| **mean** | %.4g | %.4g | **%.3f** | %.4g | %.4g | %.3f | %.3f |", mean[1], mean[2], ratio,
    mean[3], mean[4], mean[5], mean[6])
  core.sys.write_atomic(out_dir .. "/metrics.md", table.concat(md, "\n") .. "\n")

  core.image.write(out_dir .. "/figure.png", figure.grid(fig_rows))
  local series = {}
  for _, key in ipairs({ "baseline", "depth_aware" }) do
    local s = read_log(dirname(cfg[key]) .. "/log.csv")
    if s and #s.xs > 0 then
      local pts = {}
      for k = 1, #s.xs do pts[k] = { s.xs[k], math.log(math.max(s.ys[k], 1e-30), 10) } end
      series[#series + 1] = { label = key:gsub("_", "-"), points = pts }
    end
  end
  if #series > 0 then
    plot.xy({ path = out_dir .. "/losses.png", title = "training loss", xlabel = "iteration",
      ylabel = "log10 total loss", series = series })
  end

  local report = { "# Depth-map L2: " .. cfg.name, "" }
  for _, note in ipairs(notes) do report[#report + 1] = "**Note: " .. note .. ".**\n" end
  report[#report + 1] = string.format("%d test images from %s, squashed to %dx%d; depth layer `%s` of %s.", n,
    type(cfg.images) == "table" and "a list" or cfg.images, cfg.size, cfg.size, cfg.depth.layer, cfg.depth.weights)
  report[#report + 1] = string.format("Models: baseline `%s`, depth-aware `%s`.", cfg.baseline, cfg.depth_aware)
  report[#report + 1] = ""
  report[#report + 1] = string.format("**Mean L2 distance to the original's depth map: baseline %.4g, depth-aware %.4g; ratio %.3f** (the paper: about 0.5).", mean[1], mean[2], ratio)
  report[#report + 1] = ""
  report[#report + 1] = table.concat(md, "\n")
  report[#report + 1] = ""
  report[#report + 1] = "`figure.png`: one row per image — original, baseline, depth-aware, then the depth maps of the three (viridis, scaled to the original's depth range; bright = far)."
  if #series > 0 then report[#report + 1] = "`losses.png`: total training loss of both runs (log10) against iteration." end
  core.sys.write_atomic(out_dir .. "/report.md", table.concat(report, "\n") .. "\n")
  io.stdout:write(string.format("mean L2: baseline %.4g, depth-aware %.4g, ratio %.3f -> %s/report.md\n", mean[1], mean[2],
    ratio, out_dir))
  return { ratio = ratio, mean = mean, rows = rows, dir = out_dir }
end

-- `strata eval FILE.lua [--set key=value ...]`
function M.main(args)
  local file = args[1]
  if not file then util.fail("eval: which file? usage: strata eval EVAL.lua [--set key=value ...]") end
  if not core.sys.exists(file) then util.fail("eval: cannot open '%s': no such file", file) end
  local chunk, err = loadfile(file)
  if not chunk then util.fail("%s", err) end
  local t = chunk()
  if type(t) ~= "table" then util.fail("%s: must return a table", file) end
  local cfg = experiment.merge_checked(M.defaults(), t, file)
  local i = 2
  while i <= #args do
    if args[i] == "--set" and args[i + 1] then
      experiment.apply_set(cfg, args[i + 1])
      i = i + 2
    else
      util.fail("eval: unexpected argument '%s'", args[i])
    end
  end
  M.run(cfg)
  return 0
end

return M
