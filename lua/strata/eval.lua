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
local transformer = require "strata.models.transformer"

local M = {}

function M.defaults()
  return {
    name = "depth_l2",
    images = "data/samples/content", -- a folder of test images, or a list of files
    size = 256,                        -- images are squashed to size x size
    baseline = "results/baseline/default/model.h5",
    depth_aware = "results/paper/default/model.h5",
    depth = { model = "fcrn", weights = "weights/fcrn.h5", layer = "depth" }, -- model: as a run's depth.model
    -- a pretrained model to show and measure too ("" = none); its label names its origin
    pretrained = { model = "", label = "pretrained model" },
    title = "",                        -- the figure's title ("" = from the name)
    figure_images = 4,                 -- images in the figure (two rows each: stylizations, depth maps)
    figure_tile = 256,                 -- tile height in the figure, pixels
    preserve_colors = false,           -- stylizations keep the originals' colours (YCbCr chroma)
    device = "cpu",
    output = { dir = "results" },
  }
end

local function is_image(name)
  local ext = (name:match("%.([^./]+)$") or ""):lower()
  return ext == "jpg" or ext == "jpeg" or ext == "png"
end

-- The images of a folder and its subfolders, sorted by path (listed by
-- strata.sys, never by a shell).
local function find_images(dir, out)
  for _, name in ipairs(core.sys.list_dir(dir)) do
    local path = dir .. "/" .. name
    if core.sys.is_dir(path) then
      find_images(path, out)
    elseif is_image(name) then
      out[#out + 1] = path
    end
  end
  return out
end

local function list_images(spec)
  if type(spec) == "table" then return spec end
  if not core.sys.is_dir(spec) then util.fail("images: '%s' is not a folder", spec) end
  local files = find_images((spec:gsub("/+$", "")), {})
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

-- A run's log.csv: its iterations and totals, its loss-term columns (those
-- between epoch and total: the run's terms, strata.loss) and its last row.
local function read_log(path)
  local xs, ys = {}, {}
  local f = io.open(path, "r")
  if not f then return nil end
  local header, col, last
  for line in f:lines() do
    local cells = {}
    for c in (line .. ","):gmatch("([^,]*),") do cells[#cells + 1] = c end
    if not header then
      header, col = cells, {}
      for i, c in ipairs(cells) do col[c] = i end
      if not (col.iteration and col.epoch and col.total) then f:close() return nil end
    elseif tonumber(cells[col.iteration]) and tonumber(cells[col.total]) then
      xs[#xs + 1], ys[#ys + 1], last = tonumber(cells[col.iteration]), tonumber(cells[col.total]), cells
    end
  end
  f:close()
  local terms, final = {}, {}
  for i = col.epoch + 1, col.total do
    terms[#terms + 1] = header[i]
    final[header[i]] = last and tonumber(last[i])
  end
  return { xs = xs, ys = ys, terms = terms, final = final }
end

local function dirname(p) return p:match("^(.*)/[^/]*$") or "." end

-- Notes on what the numbers mean: random networks are named, so a reader
-- never takes a pipeline check for a result.
local function provenance(cfg, fcrn)
  local notes, random_vgg = {}, {}
  if fcrn.synthetic then
    notes[#notes + 1] = "the depth network's weights are RANDOM (synthetic): depth maps and distances are not meaningful"
  end
  local what = { vgg = "VGG-19", depth = "depth-network" }
  for _, key in ipairs({ "baseline", "depth_aware" }) do
    local w = core.weights.load(cfg[key])
    local random = {}
    for k, v in pairs(w.attrs) do
      local net = k:match("^synthetic_(.+)$")
      if net and v == "true" then random[#random + 1] = what[net] or net end
    end
    table.sort(random)
    if #random > 0 then
      notes[#notes + 1] = string.format("the %s model was trained with RANDOM %s weights", key:gsub("_", "-"),
        table.concat(random, " and "))
    end
    random_vgg[key] = w.attrs.synthetic_vgg == "true"
  end
  return notes, random_vgg
end

-- The figure: per image a row of the original and its stylizations, and a
-- row of their depth maps; columns and rows labelled, notes on top.
local function draw_figure(cfg, fig_rows, notes, random_vgg, has_pre, fcrn)
  local function trained(key, what)
    return what .. (random_vgg[key] and "\ntrained with RANDOM VGG-19" or "")
  end
  local columns = { "original", trained("baseline", "baseline\n(no depth loss)"),
    trained("depth_aware", "depth-aware\n(depth loss)") }
  if has_pre then columns[#columns + 1] = cfg.pretrained.label end
  local rows = {}
  local depth_kind = fcrn.synthetic and "depth maps by a RANDOM depth network (not meaningful)"
    or "depth maps (FCRN)"
  for _, r in ipairs(fig_rows) do
    rows[#rows + 1] = { label = r.name .. ": stylizations", tiles = r.images, aspect = r.aspect }
    rows[#rows + 1] = { label = r.name .. ": " .. depth_kind, tiles = r.depths, aspect = r.aspect }
  end
  local note_lines = {}
  for _, n in ipairs(notes) do note_lines[#note_lines + 1] = "Note: " .. n .. "." end
  return figure.board({
    title = cfg.title ~= "" and cfg.title or "Depth-map comparison: " .. cfg.name,
    notes = note_lines,
    columns = columns,
    rows = rows,
    tile = cfg.figure_tile,
    footer = { string.format("Each image squashed to %dx%d for the networks, shown at its own aspect ratio. "
      .. "Depth maps: viridis, scaled to the original's depth range, bright = far.", cfg.size, cfg.size) },
  })
end

function M.run(cfg)
  local run_dir = require "strata.run_dir"
  run_dir.check_component("name", cfg.name)
  if type(cfg.output.dir) ~= "string" or cfg.output.dir == "" then util.fail("output.dir: may not be empty (it is the results folder)") end
  local out_dir = cfg.output.dir .. "/" .. cfg.name
  core.sys.mkdir_p(out_dir)
  local has_pre = cfg.pretrained.model ~= ""
  local t = cfg.figure_tile
  if type(t) ~= "number" or t < 1 or t ~= math.floor(t) then
    util.fail("figure_tile: expected a positive whole number of pixels, got %s", tostring(t))
  end
  local keys = { "baseline", "depth_aware" }
  for _, key in ipairs(keys) do
    if not core.sys.exists(cfg[key]) then util.fail("%s: model '%s' not found (train it first)", key, cfg[key]) end
  end
  if has_pre and not core.sys.exists(cfg.pretrained.model) then
    util.fail("pretrained.model: '%s' not found (e.g. bin/strata weights import engstrom DIR %s)", cfg.pretrained.model,
      cfg.pretrained.model)
  end
  local device = cfg.device
  local models = { stylize.load_model(cfg.baseline, device), stylize.load_model(cfg.depth_aware, device) }
  if has_pre then models[3] = stylize.load_model(cfg.pretrained.model, device) end
  local model_keys = { "baseline", "depth_aware", "pretrained.model" }
  for i, net in ipairs(models) do
    local side = transformer.min_side(net.config.padding)
    if cfg.size < side then
      local key = model_keys[i]
      util.fail("size: %d is below %d, the smallest side the %s model '%s' (padding %q) accepts", cfg.size, side, key,
        i == 3 and cfg.pretrained.model or cfg[key], net.config.padding)
    end
  end
  -- The depth network, as the trainer loads it (strata.loss.networks).
  local fcrn = require("strata.loss.networks").load("depth", cfg.depth, device)
  fcrn:train(false)
  fcrn:check_layer(cfg.depth.layer)
  local notes, random_vgg = provenance(cfg, fcrn)

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

  -- Per image and model: L2, si-log, SSIM of the stylization's depth map
  -- against the original's (m[model] = { l2, silog, ssim }).
  local nm = #models
  local rows, fig_rows = {}, {}
  local sums = {}
  for k = 1, nm do sums[k] = { 0, 0, 0 } end
  local files = list_images(cfg.images)
  for idx, path in ipairs(files) do
    local photo = core.image.read(path)
    local img = core.ops.resize(photo, cfg.size, cfg.size)
    local d_o = depth_of(img)
    local o = d_o:to_list()
    local h, w = d_o:size(d_o:dim() - 1), d_o:size(d_o:dim())
    local ys, ds, m = {}, {}, {}
    for k = 1, nm do
      local y = stylize.image(models[k], img, device)
      if cfg.preserve_colors then y = stylize.preserve_colors(y, img) end
      ys[k] = clamp_image(y)
      ds[k] = depth_of(ys[k])
      local s = ds[k]:to_list()
      m[k] = { M.l2(o, s), M.silog(o, s), M.ssim(o, s, h, w) }
      for c = 1, 3 do sums[k][c] = sums[k][c] + m[k][c] end
    end
    local name = path:match("[^/]+$")
    rows[#rows + 1] = { name = name, m = m }
    if idx <= cfg.figure_images then
      local lo, hi = d_o:min(), d_o:max()
      local r = { name = name, aspect = photo:size(3) / photo:size(2), images = { img }, depths = { figure.colormap(d_o, lo, hi) } }
      for k = 1, nm do
        r.images[k + 1] = ys[k]
        r.depths[k + 1] = figure.colormap(ds[k], lo, hi)
      end
      fig_rows[#fig_rows + 1] = r
    end
    local line = string.format("%s: L2 baseline %.4g, depth-aware %.4g", name, m[1][1], m[2][1])
    if has_pre then line = line .. string.format(", pretrained %.4g", m[3][1]) end
    io.stdout:write(line .. "\n")
  end
  local n = #rows
  local mean = {}
  for k = 1, nm do mean[k] = { sums[k][1] / n, sums[k][2] / n, sums[k][3] / n } end
  local ratio = mean[2][1] / math.max(mean[1][1], 1e-30)

  -- metrics.csv: the paper's columns, then the pretrained model's when there is one.
  local head = "image,l2_baseline,l2_depth_aware,ratio,silog_baseline,silog_depth_aware,ssim_baseline,ssim_depth_aware"
  if has_pre then head = head .. ",l2_pretrained,silog_pretrained,ssim_pretrained" end
  local csv = { head }
  local function csv_row(name, m)
    local line = string.format("%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g", name, m[1][1], m[2][1],
      m[2][1] / math.max(m[1][1], 1e-30), m[1][2], m[2][2], m[1][3], m[2][3])
    if has_pre then line = line .. string.format(",%.6g,%.6g,%.6g", m[3][1], m[3][2], m[3][3]) end
    return line
  end
  for _, r in ipairs(rows) do csv[#csv + 1] = csv_row(r.name, r.m) end
  csv[#csv + 1] = csv_row("mean", mean)
  core.sys.write_atomic(out_dir .. "/metrics.csv", table.concat(csv, "\n") .. "\n")

  local md = { "| image | L2 baseline | L2 depth-aware | ratio | si-log baseline | si-log depth-aware | SSIM baseline | SSIM depth-aware |"
    .. (has_pre and " L2 pretrained | si-log pretrained | SSIM pretrained |" or ""),
    "|---|---:|---:|---:|---:|---:|---:|---:|" .. (has_pre and "---:|---:|---:|" or "") }
  local function md_row(name, m, bold)
    local r = m[2][1] / math.max(m[1][1], 1e-30)
    local line = string.format("| %s | %.4g | %.4g | %s | %.4g | %.4g | %.3f | %.3f |", name, m[1][1], m[2][1],
      bold and string.format("**%.3f**", r) or string.format("%.3f", r), m[1][2], m[2][2], m[1][3], m[2][3])
    if has_pre then line = line .. string.format(" %.4g | %.4g | %.3f |", m[3][1], m[3][2], m[3][3]) end
    return line
  end
  for _, r in ipairs(rows) do md[#md + 1] = md_row(r.name, r.m) end
  md[#md + 1] = md_row("**mean**", mean, true)
  local caption = fcrn.synthetic
    and "Depth maps computed with a RANDOM depth network (synthetic FCRN weights): the distances show the pipeline working, not the paper's finding."
    or string.format("Depth maps computed with the depth network of %s.", cfg.depth.weights)
  core.sys.write_atomic(out_dir .. "/metrics.md", caption .. "\n\n" .. table.concat(md, "\n") .. "\n")

  core.image.write(out_dir .. "/figure.png", draw_figure(cfg, fig_rows, notes, random_vgg, has_pre, fcrn))
  local series, logs = {}, {}
  for _, key in ipairs(keys) do
    local s = read_log(dirname(cfg[key]) .. "/log.csv")
    logs[key] = s
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
  if has_pre then
    report[#report + 1] = string.format("Also shown and measured: `%s`, %s.", cfg.pretrained.model,
      cfg.pretrained.label:gsub("\n", " "))
  end
  if cfg.preserve_colors then
    report[#report + 1] = "Colours preserved: each stylization keeps its luminance and takes the original's chroma (YCbCr, BT.601 full range)."
  end
  report[#report + 1] = ""
  report[#report + 1] = string.format("**Mean L2 distance to the original's depth map: baseline %.4g, depth-aware %.4g; ratio %.3f** (the paper: about 0.5).", mean[1][1], mean[2][1], ratio)
  if has_pre then
    report[#report + 1] = string.format("Pretrained model: mean L2 %.4g.", mean[3][1])
  end
  report[#report + 1] = ""
  report[#report + 1] = caption
  report[#report + 1] = ""
  report[#report + 1] = table.concat(md, "\n")
  report[#report + 1] = ""
  report[#report + 1] = "`figure.png`: two rows per image: the original and its stylizations (baseline, depth-aware"
    .. (has_pre and ", pretrained" or "") .. "), then their depth maps (viridis, scaled to the original's depth range; bright = far)."
  if #series > 0 then report[#report + 1] = "`losses.png`: total training loss of both runs (log10) against iteration." end
  -- Each run's final training losses, one column per loss term either logged.
  local cols, seen = {}, {}
  for _, key in ipairs(keys) do
    for _, c in ipairs(logs[key] and logs[key].terms or {}) do
      if not seen[c] then cols[#cols + 1], seen[c] = c, true end
    end
  end
  if #cols > 0 then
    report[#report + 1] = ""
    report[#report + 1] = "Final training losses (last row of each run's log.csv):"
    report[#report + 1] = ""
    report[#report + 1] = "| model | " .. table.concat(cols, " | ") .. " |"
    report[#report + 1] = "|---|" .. string.rep("---|", #cols)
    for _, key in ipairs(keys) do
      if logs[key] then
        local cells = {}
        for _, c in ipairs(cols) do
          local v = logs[key].final[c]
          cells[#cells + 1] = v and string.format("%.4g", v) or "-"
        end
        report[#report + 1] = "| " .. key:gsub("_", "-") .. " | " .. table.concat(cells, " | ") .. " |"
      end
    end
  end
  core.sys.write_atomic(out_dir .. "/report.md", table.concat(report, "\n") .. "\n")
  io.stdout:write(string.format("mean L2: baseline %.4g, depth-aware %.4g, ratio %.3f -> %s/report.md\n", mean[1][1],
    mean[2][1], ratio, out_dir))
  return { ratio = ratio, mean = mean, rows = rows, dir = out_dir }
end

-- `strata eval FILE.lua [--set key=value ...] [--preserve-colors]`
function M.main(args)
  local file = args[1]
  if not file then util.fail("eval: which file? usage: strata eval EVAL.lua [--set key=value ...]") end
  if not core.sys.exists(file) then util.fail("eval: cannot open '%s': no such file", file) end
  local chunk, err = loadfile(file)
  if not chunk then util.fail("%s", err) end
  local t = chunk()
  if type(t) ~= "table" then util.fail("%s: must return a table", file) end
  local origins = {}
  local cfg = experiment.merge_checked(M.defaults(), t, file, origins)
  local i = 2
  while i <= #args do
    if args[i] == "--set" and args[i + 1] then
      experiment.apply_set(cfg, args[i + 1], origins)
      i = i + 2
    elseif args[i] == "--preserve-colors" then
      cfg.preserve_colors = true
      i = i + 1
    else
      util.fail("eval: unexpected argument '%s'", args[i])
    end
  end
  require("strata.experiment_check").eval_values(cfg, origins)
  M.run(cfg)
  return 0
end

return M
