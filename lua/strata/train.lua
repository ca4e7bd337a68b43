-- The training loop: Engstrom's fast style transfer with perceptual losses
-- (content, style, TV; later depth), driven by an experiment table.
-- Writes results/<name>/<run>/: experiment.lua, log.csv, checkpoints/,
-- samples/, model.h5, report.md. Rerunning the same command resumes from the
-- newest checkpoint and gives the same result as an uninterrupted run.
local core = require "strata.core"
local util = require "strata.util"
local experiment = require "strata.experiment"
local checkpoint = require "strata.checkpoint"
local transformer = require "strata.models.transformer"
local vgg19 = require "strata.models.vgg19"
local losses = require "strata.loss"

local M = {}

local function log_line(fmt, ...)
  io.stdout:write(string.format(fmt, ...), "\n")
  io.stdout:flush()
end

local function fmt_time(s)
  s = math.floor(s + 0.5)
  if s >= 3600 then return string.format("%dh%02dm", s // 3600, (s % 3600) // 60) end
  return string.format("%dm%02ds", s // 60, s % 60)
end

local function pick_device(want)
  if want == "cpu" then return "cpu" end
  local ok, why = core.sys.cuda_available()
  if ok then return want end
  io.stderr:write(string.format("strata: device %s requested but %s; training on the CPU\n", want, why))
  return "cpu"
end

-- Engstrom's initialisation: truncated normal convolution weights; instance
-- norm scale 1 and shift 0 (as built).
local function init_params(net, rng, std)
  for _, p in ipairs(net:named_parameters()) do
    if p.name:match("conv%d*%.weight$") then rng:truncated_normal_(p.module.params[p.key], 0, std) end
  end
end

-- The style image's loss-network features, at its own size (times scale).
local function style_features(exp, vgg, layers, device)
  if not core.sys.exists(exp.style.image) then util.fail("style.image: cannot open '%s'", exp.style.image) end
  local img = core.image.read(exp.style.image)
  if exp.style.scale ~= 1.0 then
    img = core.ops.resize(img, math.max(1, math.floor(img:size(2) * exp.style.scale + 0.5)),
      math.max(1, math.floor(img:size(3) * exp.style.scale + 0.5)))
  end
  local x = img:view({ 1, 3, img:size(2), img:size(3) })
  if device ~= "cpu" then x = x:to(device) end
  vgg:train(false)
  return vgg:features(x, layers)
end

-- Terms of the total loss, in log order, from the experiment's `loss` table.
local function build_losses(exp)
  local terms = {}
  if exp.loss.content.weight ~= 0 then terms[#terms + 1] = losses.content.new(exp.loss.content) end
  if exp.loss.style.weight ~= 0 then terms[#terms + 1] = losses.style.new(exp.loss.style) end
  if exp.loss.tv.weight ~= 0 then terms[#terms + 1] = losses.tv.new(exp.loss.tv) end
  if exp.loss.depth.weight ~= 0 then terms[#terms + 1] = losses.depth.new(exp.loss.depth) end
  return terms
end

-- Loads the frozen network a loss term reads ("vgg" or "depth").
local function load_loss_network(exp, which, device)
  local path = which == "vgg" and exp.vgg.weights or exp.depth.weights
  local key = which == "vgg" and "vgg.weights" or "depth.weights"
  if not core.sys.exists(path) then
    util.fail("%s: '%s' not found; run 'make weights' for the real network, or "
      .. "'bin/strata weights random %s %s' for random weights (results then mean nothing)",
      key, path, which == "vgg" and "vgg19" or "fcrn", path)
  end
  if which == "vgg" then return vgg19.from_file(path, device) end
  return require("strata.models.fcrn").from_file(path, device)
end

local LOG_TERMS = { "content", "style", "tv", "depth" }

-- Writes a sample stylization of the experiment's sample image.
local function write_sample(exp, net, dir, iteration, device)
  local path = exp.sample.image
  if not core.sys.exists(path) then return end
  local img = core.image.read(path)
  local s = exp.sample.size
  local h, w = img:size(2), img:size(3)
  local scale = s / math.max(h, w)
  img = core.ops.resize(img, math.max(1, math.floor(h * scale + 0.5)), math.max(1, math.floor(w * scale + 0.5)))
  local x = img:view({ 1, 3, img:size(2), img:size(3) })
  if device ~= "cpu" then x = x:to(device) end
  net:evaluate()
  local y = net:forward(core.ops.affine(x, exp.model.input_scale, 0))
  core.image.write(string.format("%s/iter_%08d.png", dir, iteration), y:view({ 3, y:size(3), y:size(4) }))
end

local function read_log_rows(path, upto)
  local rows = {}
  local f = io.open(path, "r")
  if not f then return rows end
  for line in f:lines() do
    local it = tonumber(line:match("^(%d+),"))
    if it and it <= upto then rows[#rows + 1] = line end
  end
  f:close()
  return rows
end

local CSV_HEADER = "iteration,epoch,content,style,tv,depth,total,it_per_s,skipped_images"

function M.train(exp, opts)
  opts = opts or {}
  -- Test hook: STRATA_INJECT_NAN_AT=N makes the last loss term NaN at iteration N.
  local inject_nan = tonumber(os.getenv("STRATA_INJECT_NAN_AT") or "")
  local run_dir = string.format("%s/%s/%s", exp.output.dir, exp.name, exp.run)
  local ckpt_dir, sample_dir = run_dir .. "/checkpoints", run_dir .. "/samples"
  if core.sys.exists(run_dir .. "/model.h5") and not opts.fresh then
    log_line("%s is complete (model.h5 exists); nothing to do (--fresh starts over)", run_dir)
    return 0
  end
  if opts.fresh then os.execute(string.format("rm -rf '%s'", run_dir)) end
  core.sys.mkdir_p(ckpt_dir)
  core.sys.mkdir_p(sample_dir)
  core.sys.write_atomic(run_dir .. "/experiment.lua", "return " .. experiment.serialize(exp) .. "\n")

  local device = pick_device(exp.device)
  if exp.precision ~= "fp32" and exp.precision ~= "tf32" then
    util.fail("precision: expected \"fp32\" or \"tf32\", got \"%s\"", tostring(exp.precision))
  end
  -- The experiment decides the GPU math (STRATA_TF32 only sets the default elsewhere).
  if device ~= "cpu" then core.sys.set_tf32(exp.precision == "tf32") end
  local rng = core.rng(exp.seed)
  local net = transformer.build({ channels = exp.model.channels, blocks = exp.model.blocks,
    padding = exp.model.padding, eps = exp.model.eps, device = device })
  init_params(net, rng, exp.model.init_std)

  local terms = build_losses(exp)
  local notes = {}
  if device == "cpu" and exp.precision == "tf32" then
    notes[#notes + 1] = "precision = \"tf32\" applies to GPUs only; this CPU run computes in float32"
  end
  -- The loss networks the terms read, with the layers each needs.
  local nets = {}
  for _, t in ipairs(terms) do
    if t.network ~= "image" then
      if not nets[t.network] then
        local net = load_loss_network(exp, t.network, device)
        nets[t.network] = { net = net, layers = {}, target_layers = {}, seen = {}, tseen = {} }
        if net.synthetic then
          notes[#notes + 1] = string.format("%s weights are RANDOM (synthetic, %s): losses and images are not meaningful",
            t.network == "vgg" and "VGG-19" or "depth network (FCRN)", net.source)
        end
      end
      local n = nets[t.network]
      for _, l in ipairs(t:layers()) do
        n.net:check_layer(l)
        if not n.seen[l] then n.layers[#n.layers + 1], n.seen[l] = l, true end
        if t.needs_target and not n.tseen[l] then n.target_layers[#n.target_layers + 1], n.tseen[l] = l, true end
      end
    end
  end
  local net_order = {} -- fixed order, so sums of gradients are reproducible
  for _, name in ipairs({ "vgg", "depth" }) do
    if nets[name] then net_order[#net_order + 1] = name end
  end
  for _, t in ipairs(terms) do
    if t.kind == "style" then t:set_target(style_features(exp, nets.vgg.net, t:layers(), device)) end
  end

  local ds = core.data.open(exp.data.train, exp.data.size, exp.data.batch, exp.seed)
  local per_epoch = ds:count() // exp.data.batch
  if per_epoch < 1 then
    util.fail("data.train: '%s' has %d images, fewer than one batch of %d", exp.data.train, ds:count(), exp.data.batch)
  end
  local total_iters = exp.schedule.iterations > 0 and exp.schedule.iterations or exp.schedule.epochs * per_epoch

  -- Adam state, one pair of moments per parameter.
  local params = net:named_parameters()
  local adam = { m = {}, v = {} }
  for _, p in ipairs(params) do
    local t = p.module.params[p.key]
    adam.m[p.name] = core.zeros(t:shape(), t:device())
    adam.v[p.name] = core.zeros(t:shape(), t:device())
  end

  local start, last_ckpt = 0, nil
  local resumed = checkpoint.restore_latest(ckpt_dir, net, adam)
  if resumed then
    start = tonumber(resumed.iteration)
    rng:set_state(resumed.rng_state)
    local e, b = tonumber(resumed.epoch), tonumber(resumed.batch_index)
    if b + 1 < per_epoch then ds:seek(e, b + 1) else ds:seek(e + 1, 0) end
    last_ckpt = resumed.path
    log_line("resuming %s from %s (iteration %d)", run_dir, resumed.path, start)
  end
  local rows = read_log_rows(run_dir .. "/log.csv", start)
  table.insert(rows, 1, CSV_HEADER)
  core.sys.write_atomic(run_dir .. "/log.csv", table.concat(rows, "\n") .. "\n")
  local log = assert(io.open(run_dir .. "/log.csv", "a"))
  for _, n in ipairs(notes) do log_line("NOTE: %s", n) end
  log_line("training %s/%s on %s (%s): %d iterations (%d images, batch %d, %dx%d), %d parameters",
    exp.name, exp.run, device, device == "cpu" and "fp32" or exp.precision, total_iters, ds:count(), exp.data.batch, exp.data.size, exp.data.size,
    (function() local n = 0 for _, p in ipairs(params) do n = n + p.module.params[p.key]:numel() end return n end)())

  local sched = exp.schedule
  local t_start, t_last, it_last = core.sys.clock(), core.sys.clock(), start
  local epoch, bi = 0, 0
  local last = {}
  local function save_ckpt(it)
    local path = checkpoint.save(ckpt_dir, { net = net, adam = adam, iteration = it, epoch = epoch, batch_index = bi,
      rng_state = rng:state(), attrs = transformer.attrs(net.config) })
    checkpoint.prune(ckpt_dir, sched.keep_checkpoints)
    last_ckpt = path
  end

  -- Device memory: when the caching allocator last had to ask the system
  -- (malloc / cudaMalloc) for more; after the first steps it should not.
  local allocs, last_alloc_it = core.sys.memory_stats(device).system_allocs, start
  for it = start + 1, total_iters do
    -- The previous step's tensors (no longer referenced: this runs before
    -- this step's locals exist) go back to the caching allocator now, so this
    -- step reuses them; Lua's collector alone would free them only every few
    -- hundred MiB, and meanwhile each step would allocate afresh.
    if it > start + 1 then collectgarbage() end
    local batch
    batch, epoch, bi = ds:next()
    local x = device == "cpu" and batch or batch:to(device)

    net:train(true)
    net:zero_grad()
    local y = net:forward(core.ops.affine(x, exp.model.input_scale, 0))

    local feats, targets = {}, {}
    for _, name in ipairs(net_order) do
      local n = nets[name]
      n.net:train(false)
      targets[name] = #n.target_layers > 0 and n.net:features(x, n.target_layers) or {}
      n.net:train(true)
      feats[name] = n.net:features(y, n.layers)
    end

    local values, total = {}, 0
    for _, t in ipairs(terms) do
      local v
      if t.network == "image" then v = t:forward(y) else v = t:forward(feats[t.network], targets[t.network]) end
      if inject_nan == it and t == terms[#terms] then v = 0 / 0 end -- test hook, see M.train
      if v ~= v or v == math.huge or v == -math.huge then
        util.fail("iteration %d: the %s loss is %s; stopping (last good checkpoint: %s)", it, t.kind, tostring(v),
          last_ckpt or "none yet")
      end
      values[t.kind] = v
      total = total + t.weight * v
    end

    local grads, dy = {}, nil
    for name in pairs(nets) do grads[name] = {} end
    for _, t in ipairs(terms) do
      if t.network ~= "image" then t:backward(grads[t.network]) end
    end
    for _, name in ipairs(net_order) do
      local n = nets[name]
      if next(grads[name]) then
        local d = n.net:backward(grads[name])
        dy = dy and core.ops.add(dy, d) or d
      end
    end
    for _, t in ipairs(terms) do
      if t.network == "image" then
        local d = t:backward()
        dy = dy and core.ops.add(dy, d) or d
      end
    end
    net:backward(dy)
    for _, p in ipairs(params) do
      core.ops.adam_step(p.module.params[p.key], p.module.grads[p.key], adam.m[p.name], adam.v[p.name],
        exp.optim.lr, exp.optim.beta1, exp.optim.beta2, exp.optim.eps, it)
    end
    last = values
    last.total = total
    local now_allocs = core.sys.memory_stats(device).system_allocs
    if now_allocs > allocs then allocs, last_alloc_it = now_allocs, it end

    if it % sched.log_every == 0 or it == total_iters then
      local now = core.sys.clock()
      local rate = (it - it_last) / math.max(now - t_last, 1e-9)
      t_last, it_last = now, it
      local skipped = ds:skipped()
      log:write(string.format("%d,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.4f,%d\n", it, epoch, values.content or 0,
        values.style or 0, values.tv or 0, values.depth or 0, total, rate, skipped))
      log:flush()
      local parts = {}
      for _, k in ipairs(LOG_TERMS) do
        if values[k] then parts[#parts + 1] = string.format("%s %.4g", k, values[k]) end
      end
      log_line("[%s/%s] iter %d/%d | %.2f it/s | ETA %s | %s | total %.4g", exp.name, exp.run, it, total_iters, rate,
        fmt_time((total_iters - it) / math.max(rate, 1e-9)), table.concat(parts, " "), total)
    end
    if it % sched.checkpoint_every == 0 and it < total_iters then save_ckpt(it) end
    if sched.sample_every > 0 and it % sched.sample_every == 0 then write_sample(exp, net, sample_dir, it, device) end
  end
  log:close()

  -- The final model: transformer weights and the attributes stylize needs.
  local state = net:state()
  state.attrs = transformer.attrs(net.config)
  state.attrs.input_scale = string.format("%.17g", exp.model.input_scale)
  state.attrs.iterations = tostring(total_iters)
  state.attrs.experiment = exp.name .. "/" .. exp.run
  for name, n in pairs(nets) do state.attrs["synthetic_" .. name] = n.net.synthetic and "true" or "false" end
  core.weights.save(run_dir .. "/model.h5", state)
  write_sample(exp, net, sample_dir, total_iters, device)

  local elapsed = core.sys.clock() - t_start
  local report = {
    "# " .. exp.name .. " / " .. exp.run, "",
    string.format("- iterations: %d (%d this session, %.1f s, %.2f it/s)", total_iters, total_iters - start, elapsed,
      (total_iters - start) / math.max(elapsed, 1e-9)),
    string.format("- device: %s (%s); data: %s (%d images, %d skipped)", device,
      device == "cpu" and "fp32" or exp.precision, exp.data.train, ds:count(), ds:skipped()),
    string.format("- memory on %s: peak %.1f MiB; the allocator last asked the system for memory at iteration %d",
      device, core.sys.memory_stats(device).peak / 2 ^ 20, last_alloc_it),
    string.format("- final losses: content %.6g, style %.6g, tv %.6g, depth %.6g, total %.6g", last.content or 0,
      last.style or 0, last.tv or 0, last.depth or 0, last.total or 0),
  }
  for name, n in pairs(nets) do report[#report + 1] = string.format("- %s weights: %s", name, n.net.source) end
  for _, n in ipairs(notes) do report[#report + 1] = "- **" .. n .. "**" end
  core.sys.write_atomic(run_dir .. "/report.md", table.concat(report, "\n") .. "\n")
  log_line("wrote %s/model.h5 (%.1f s)", run_dir, elapsed)
  return 0
end

-- `strata run EXPERIMENT.lua [--set key=value ...] [--fresh]`
function M.main(file_table, file, args)
  local sets, opts = {}, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--set" then
      if not args[i + 1] then util.fail("--set needs KEY=VALUE") end
      sets[#sets + 1] = args[i + 1]
      i = i + 2
    elseif a:match("^%-%-set=") then
      sets[#sets + 1] = a:sub(7)
      i = i + 1
    elseif a == "--fresh" then
      opts.fresh = true
      i = i + 1
    else
      util.fail("run: unexpected argument '%s' (expected --set KEY=VALUE or --fresh)", a)
    end
  end
  local exp = experiment.resolve(file_table, file, sets)
  return M.train(exp, opts)
end

return M
