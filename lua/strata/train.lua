-- The training loop: Engstrom's fast style transfer with perceptual losses
-- (the registered loss terms, strata.loss), driven by an experiment table.
-- Writes results/<name>/<run>/: experiment.lua, log.csv, checkpoints/,
-- samples/, model.h5, report.md. Rerunning the same command resumes from the
-- newest checkpoint and gives the same result as an uninterrupted run.
--
-- Three parts, which the benchmarks (bench/train_step.lua) use too:
--   M.setup(exp, opts) -> trainer   networks, loss terms and targets, Adam state
--   M.step(trainer, x, it)          one iteration on the content batch x
--   M.finish(trainer, run_dir, info) model.h5 and report.md
-- M.train is a run around them: run folder, data, resume, log, checkpoints.
local core = require "strata.core"
local util = require "strata.util"
local Module = require "strata.nn.module"
local experiment = require "strata.experiment"
local checkpoint = require "strata.checkpoint"
local run_dir_mod = require "strata.run_dir"
local skipped_files = require "strata.skipped_files"
local transformer = require "strata.models.transformer"
local losses = require "strata.loss"
local networks = require "strata.loss.networks"
local schedule = require "strata.schedule"

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

-- The style image, [1, 3, H, W] at its own size (times style.scale).
local function style_image(exp, device)
  if not core.sys.exists(exp.style.image) then util.fail("style.image: cannot open '%s'", exp.style.image) end
  local img = core.image.read(exp.style.image)
  if exp.style.scale ~= 1.0 then
    img = core.ops.resize(img, math.max(1, math.floor(img:size(2) * exp.style.scale + 0.5)),
      math.max(1, math.floor(img:size(3) * exp.style.scale + 0.5)))
  end
  local x = img:view({ 1, 3, img:size(2), img:size(3) })
  if device ~= "cpu" then x = x:to(device) end
  return x
end

-- Adds `name` to list once.
local function add_once(list, seen, name)
  if not seen[name] then list[#list + 1], seen[name] = name, true end
end

-- The networks the terms read, in the fixed order their gradients are summed
-- (strata.loss.networks; so sums are reproducible), each with the layers read
-- from the stylized batch and, for "content" targets, from the content batch.
local function loss_networks(exp, terms, device, notes)
  local by_name, list = {}, {}
  for _, t in ipairs(terms) do
    local n = by_name[t.network]
    if not n then
      local net = t.network == "image" and networks.image() or networks.load(t.network, exp[t.network], device)
      n = { name = t.network, net = net, layers = {}, target_layers = {}, style_layers = {}, seen = {}, tseen = {},
        sseen = {} }
      by_name[t.network], list[#list + 1] = n, n
      if net.synthetic then
        notes[#notes + 1] = string.format("%s weights are RANDOM (synthetic, %s): losses and images are not meaningful",
          net.label, net.source)
      end
    end
    for _, l in ipairs(t.layers) do
      local ok, err = pcall(n.net.check_layer, n.net, l)
      if not ok then util.fail("%s: %s", t.key, tostring(err)) end
      add_once(n.layers, n.seen, l)
      if t.target == "content" then add_once(n.target_layers, n.tseen, l) end
      if t.target == "style" then add_once(n.style_layers, n.sseen, l) end
    end
  end
  table.sort(list, function(a, b) return networks.rank(a.name) < networks.rank(b.name) end)
  return list, by_name
end

-- Everything a training step needs. opts: device (default: the experiment's,
-- falling back to the CPU), iterations (the run's length, for schedules),
-- style_image (a [1, 3, H, W] tensor instead of reading style.image).
function M.setup(exp, opts)
  opts = opts or {}
  local device = opts.device or pick_device(exp.device)
  if exp.precision ~= "fp32" and exp.precision ~= "tf32" then
    util.fail("precision: expected \"fp32\" or \"tf32\", got \"%s\"", tostring(exp.precision))
  end
  -- The experiment decides the GPU math (STRATA_TF32 only sets the default elsewhere).
  if device ~= "cpu" then core.sys.set_tf32(exp.precision == "tf32") end
  local T = { exp = exp, device = device, notes = {}, steps = 0 }
  T.rng = core.rng(exp.seed)
  T.net = transformer.build({ channels = exp.model.channels, blocks = exp.model.blocks,
    padding = exp.model.padding, eps = exp.model.eps, device = device })
  init_params(T.net, T.rng, exp.model.init_std)
  T.lr = schedule.resolve(exp.optim.lr, opts.iterations or 1, "optim.lr")

  T.terms = losses.build(exp)
  T.columns = losses.names(exp)
  if device == "cpu" and exp.precision == "tf32" then
    T.notes[#T.notes + 1] = "precision = \"tf32\" applies to GPUs only; this CPU run computes in float32"
  end
  T.nets, T.net_of = loss_networks(exp, T.terms, device, T.notes)
  -- Targets from the style image, once.
  local style_feats = {}
  for _, n in ipairs(T.nets) do
    if #n.style_layers > 0 then
      local img = opts.style_image or style_image(exp, device)
      n.net:train(false)
      style_feats[n.name] = n.net:features(img, n.style_layers)
    end
  end
  for _, t in ipairs(T.terms) do
    if t.target == "style" then t.style_target = losses.style_target(t, style_feats[t.network]) end
  end
  -- The style image's features and the weight files' tensors (copied into
  -- the networks) are garbage now: collect them before the first step, and
  -- give their blocks back to the OS (sizes the steps do not ask for).
  style_feats = nil
  collectgarbage()
  core.sys.memory_empty_cache("cpu")
  if device ~= "cpu" then core.sys.memory_empty_cache(device) end

  -- Adam state, one pair of moments per parameter.
  T.params = T.net:named_parameters()
  T.adam = { m = {}, v = {} }
  for _, p in ipairs(T.params) do
    local t = p.module.params[p.key]
    T.adam.m[p.name] = core.zeros(t:shape(), t:device())
    T.adam.v[p.name] = core.zeros(t:shape(), t:device())
  end
  -- Test hook: STRATA_INJECT_NAN_AT=N makes the last loss term NaN at iteration N.
  T.inject_nan = tonumber(os.getenv("STRATA_INJECT_NAN_AT") or "")
  return T
end

-- One iteration on the content batch x (0..255, on the trainer's device):
-- the transformer's forward; per loss network its features, its terms'
-- values and gradients and its backward; the transformer's backward, Adam
-- step `it`.
-- Returns { term name = unweighted value }, the weighted total and the rate.
-- Every activation and gradient is freed as soon as nothing reads it again
-- (the networks keep their own handles to what their backward needs), so the
-- step's peak is what backward needs plus the working set, not everything
-- made since the collector last ran. Callers still run collectgarbage()
-- between steps (see M.train) for the small tensors nobody frees.
-- Loss terms see the features only during this step's value and grad calls.
function M.step(T, x, it)
  T.steps = T.steps + 1
  local exp, net = T.exp, T.net
  net:train(true)
  net:zero_grad()
  local xin = core.ops.affine(x, exp.model.input_scale, 0)
  local y = net:forward(xin)
  xin:free()

  -- The loss networks one at a time: features, the values and gradients of
  -- the terms reading them, backward; so only one network's saved
  -- activations are alive at once. Sums keep their fixed orders (terms, then
  -- networks), so the result does not depend on this schedule.
  local add_into = Module.accumulate -- the terms' gradients are ours (strata.loss.registry)
  local values, dnet = {}, {}
  for _, n in ipairs(T.nets) do
    local targets
    if #n.target_layers > 0 then
      n.net:train(false)
      targets = n.net:features(x, n.target_layers)
    end
    n.net:train(true)
    local feats = n.net:features(y, n.layers)
    local function target_of(t) return t.target == "content" and targets or t.style_target end
    for k, t in ipairs(T.terms) do
      if t.network == n.name then
        local v = losses.value(t, feats, target_of(t))
        if T.inject_nan == it and k == #T.terms then v = 0 / 0 end -- test hook, see M.setup
        if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then
          util.fail("iteration %d: the %s loss is %s; stopping (last good checkpoint: %s)", it, t.name, tostring(v),
            T.last_checkpoint or "none yet")
        end
        values[t.name] = v
      end
    end
    -- Gradients summed per layer in term order.
    local grads = {}
    for _, t in ipairs(T.terms) do
      if t.network == n.name then
        for layer, d in pairs(losses.grad(t, feats, target_of(t), t.weight)) do add_into(grads, layer, d) end
      end
    end
    -- Backward needs only what the network kept, not the features.
    for _, f in pairs(feats) do f:free() end
    for _, f in pairs(targets or {}) do f:free() end
    if next(grads) then
      dnet[n.name] = n.net:backward(grads)
      for _, d in pairs(grads) do d:free() end
    end
  end
  local total = 0
  for _, t in ipairs(T.terms) do total = total + t.weight * values[t.name] end
  local dys = {}
  for _, n in ipairs(T.nets) do
    if dnet[n.name] then add_into(dys, 1, dnet[n.name]) end
  end
  local dx = net:backward(dys[1])
  dys[1]:free()
  if dx then dx:free() end
  local lr = T.lr(it)
  local o = exp.optim
  for _, p in ipairs(T.params) do
    core.ops.adam_step(p.module.params[p.key], p.module.grads[p.key], T.adam.m[p.name], T.adam.v[p.name],
      lr, o.beta1, o.beta2, o.eps, it)
  end
  return values, total, lr
end

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

-- The values of log.csv's last row by column name (rows[1] is the header).
local function last_logged(rows)
  local function split(line)
    local out = {}
    for x in (line .. ","):gmatch("([^,]*),") do out[#out + 1] = x end
    return out
  end
  if #rows < 2 then return {} end
  local names, cells, out = split(rows[1]), split(rows[#rows]), {}
  for i = 3, #names do out[names[i]] = tonumber(cells[i]) end
  return out
end

-- log.csv's header: one column per term of the experiment (strata.loss).
local function csv_header(T)
  return "iteration,epoch," .. table.concat(T.columns, ",") .. ",total,lr,it_per_s,skipped_images"
end

-- The final model (transformer weights and the attributes stylize needs) and
-- report.md. info: total_iters, start, elapsed, data (text), last (values and
-- total of the last step), last_alloc_it.
function M.finish(T, run_dir, info)
  local exp, device = T.exp, T.device
  local state = T.net:state()
  state.attrs = transformer.attrs(T.net.config)
  state.attrs.input_scale = string.format("%.17g", exp.model.input_scale)
  state.attrs.iterations = tostring(info.total_iters)
  state.attrs.experiment = exp.name .. "/" .. exp.run
  for _, n in ipairs(T.nets) do
    if n.name ~= "image" then state.attrs["synthetic_" .. n.name] = n.net.synthetic and "true" or "false" end
  end
  core.weights.save(run_dir .. "/model.h5", state)
  run_dir_mod.kill_point("model")

  local last, finals = info.last or {}, {}
  for _, name in ipairs(T.columns) do finals[#finals + 1] = string.format("%s %.6g", name, last[name] or 0) end
  finals[#finals + 1] = string.format("total %.6g", last.total or 0)
  local elapsed, done = info.elapsed, info.total_iters - info.start
  local report = {
    "# " .. exp.name .. " / " .. exp.run, "",
    string.format("- iterations: %d (%d this session, %.1f s, %.2f it/s)", info.total_iters, done, elapsed,
      done / math.max(elapsed, 1e-9)),
    string.format("- device: %s (%s); data: %s", device, device == "cpu" and "fp32" or exp.precision, info.data),
    string.format("- memory on %s: peak %.1f MiB; the allocator last asked the system for memory at iteration %d",
      device, core.sys.memory_stats(device).peak / 2 ^ 20, info.last_alloc_it),
    "- final losses: " .. table.concat(finals, ", "),
    string.format("- learning rate: %s", info.lr_text),
  }
  for _, n in ipairs(T.nets) do
    if n.name ~= "image" then report[#report + 1] = string.format("- %s weights: %s", n.name, n.net.source) end
  end
  for _, n in ipairs(T.notes) do report[#report + 1] = "- **" .. n .. "**" end
  core.sys.write_atomic(run_dir .. "/report.md", table.concat(report, "\n") .. "\n")
end

-- The learning rate as the report states it.
local function lr_text(exp, T, total)
  if type(exp.optim.lr) == "number" then return string.format("%.6g", exp.optim.lr) end
  return string.format("schedule (see experiment.lua), %.6g at iteration 1, %.6g at %d", T.lr(1), T.lr(total), total)
end

function M.train(exp, opts)
  opts = opts or {}
  -- The input images, before the run folder is made or locked (the values
  -- were checked when the experiment was resolved); a complete run needs none.
  if opts.fresh or not run_dir_mod.is_complete(run_dir_mod.path(exp)) then
    require("strata.experiment_check").inputs(exp, opts.origins)
  end
  -- The run folder: names checked, locked for this process, --fresh, and
  -- the checkpoint to resume checked against these settings (run_dir.lua).
  local run <close> = run_dir_mod.open(exp, opts)
  if run.complete then return 0 end
  local run_dir, ckpt_dir, sample_dir = run.dir, run.ckpt_dir, run.sample_dir
  run:check_resume(exp)

  local device = pick_device(exp.device)
  local ds = core.data.open(exp.data.train, exp.data.size, exp.data.batch, exp.seed)
  local skips = skipped_files.tracker(ds, run_dir)
  local per_epoch = ds:count() // exp.data.batch
  if per_epoch < 1 then
    util.fail("data.train: '%s' has %d images, fewer than one batch of %d", exp.data.train, ds:count(), exp.data.batch)
  end
  local total_iters = exp.schedule.iterations > 0 and exp.schedule.iterations or exp.schedule.epochs * per_epoch
  local T = M.setup(exp, { device = device, iterations = total_iters })
  local net, rng = T.net, T.rng

  local start = 0
  local resumed = run:begin(exp, total_iters, net, T.adam)
  if resumed then
    start = tonumber(resumed.iteration)
    rng:set_state(resumed.rng_state)
    local e, b = tonumber(resumed.epoch), tonumber(resumed.batch_index)
    if b + 1 < per_epoch then ds:seek(e, b + 1) else ds:seek(e + 1, 0) end
    T.last_checkpoint = resumed.path
    log_line("resuming %s from %s (iteration %d)", run_dir, resumed.path, start)
  end
  local rows = read_log_rows(run_dir .. "/log.csv", start)
  table.insert(rows, 1, csv_header(T))
  core.sys.write_atomic(run_dir .. "/log.csv", table.concat(rows, "\n") .. "\n")
  local log = assert(io.open(run_dir .. "/log.csv", "a"))
  for _, n in ipairs(T.notes) do log_line("NOTE: %s", n) end
  log_line("training %s/%s on %s (%s): %d iterations (%d images, batch %d, %dx%d), %d parameters",
    exp.name, exp.run, device, device == "cpu" and "fp32" or exp.precision, total_iters, ds:count(), exp.data.batch,
    exp.data.size, exp.data.size,
    (function() local n = 0 for _, p in ipairs(T.params) do n = n + p.module.params[p.key]:numel() end return n end)())

  local sched = exp.schedule
  local t_start, t_last, it_last = core.sys.clock(), core.sys.clock(), start
  local epoch, bi = 0, 0
  local last = {}
  -- Only finite state is written; the previous checkpoint stays the last good one.
  local function save_ckpt(it)
    local path, bad = checkpoint.save(ckpt_dir, { net = net, adam = T.adam, iteration = it, epoch = epoch, batch_index = bi,
      rng_state = rng:state(), attrs = transformer.attrs(net.config), experiment = run.record })
    if not path then
      util.fail("iteration %d: '%s' holds NaN or Inf values, so no checkpoint was written; stopping (last good checkpoint: %s)",
        it, bad, T.last_checkpoint or "none yet")
    end
    checkpoint.prune(ckpt_dir, sched.keep_checkpoints)
    T.last_checkpoint = path
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
    skips:update()
    local values, total, lr = M.step(T, device == "cpu" and batch or batch:to(device), it)
    last = values
    last.total = total
    local now_allocs = core.sys.memory_stats(device).system_allocs
    if now_allocs > allocs then allocs, last_alloc_it = now_allocs, it end

    if it % sched.log_every == 0 or it == total_iters then
      local now = core.sys.clock()
      local rate = (it - it_last) / math.max(now - t_last, 1e-9)
      t_last, it_last = now, it
      local cells, parts = { tostring(it), tostring(epoch) }, {}
      for _, name in ipairs(T.columns) do
        cells[#cells + 1] = string.format("%.9g", values[name] or 0)
        if values[name] then parts[#parts + 1] = string.format("%s %.4g", name, values[name]) end
      end
      cells[#cells + 1] = string.format("%.9g,%.9g,%.4f,%d", total, lr, rate, skips:count())
      log:write(table.concat(cells, ","), "\n")
      log:flush()
      log_line("[%s/%s] iter %d/%d | %.2f it/s | ETA %s | %s | total %.4g", exp.name, exp.run, it, total_iters, rate,
        fmt_time((total_iters - it) / math.max(rate, 1e-9)), table.concat(parts, " "), total)
    end
    if it % sched.checkpoint_every == 0 and it < total_iters then save_ckpt(it) end
    if sched.sample_every > 0 and it % sched.sample_every == 0 then write_sample(exp, net, sample_dir, it, device) end
  end
  log:close()
  skips:write()
  -- A final checkpoint, so a kill while the outputs below are written costs
  -- no training: the rerun resumes here and only writes them again. The
  -- completion marker comes last (run_dir.lua).
  if start < total_iters then save_ckpt(total_iters) end
  run_dir_mod.kill_point("final_checkpoint")
  if next(last) == nil then last = last_logged(rows) end -- nothing trained this session

  local elapsed = core.sys.clock() - t_start
  M.finish(T, run_dir, { total_iters = total_iters, start = start, elapsed = elapsed, last = last,
    last_alloc_it = last_alloc_it, lr_text = lr_text(exp, T, total_iters),
    data = string.format("%s (%d images, %d unreadable files skipped%s)", exp.data.train, ds:count(), skips:count(),
      skips:count() > 0 and ", listed in skipped_files.txt" or "") })
  run_dir_mod.kill_point("report")
  write_sample(exp, net, sample_dir, total_iters, device)
  run_dir_mod.kill_point("sample")
  run:finish(total_iters)
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
  local exp, origins = experiment.resolve(file_table, file, sets)
  opts.origins = origins
  return M.train(exp, opts)
end

return M
