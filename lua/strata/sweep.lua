--[[ Sweeps: one base experiment run over a grid (or a random sample) of values.

A sweep file returns
  { name = "sweep_depth",                     -- results/<name>/<run>/
    base = "experiments/paper.lua",           -- the base experiment (path from the current directory)
    grid = { ["loss.depth.weight"] = { 0, 100, 200 }, ... },   -- cartesian product
    -- or random = { n = 8, seed = 1, fields = { ["optim.lr"] = { 1e-4, 1e-2, "log" } } }
    --   ("log", "linear" (the default) or "int": uniform in [lo, hi] on that scale)
    set = { ["schedule.epochs"] = 1, ... },   -- fixed overrides (optional)
    devices = { "cuda:0", "cuda:1" },         -- optional: one subprocess per device
  }
Each run is the base experiment with the fixed and swept values applied as
--set assignments (so a run started by hand, by a device subprocess or by a
Slurm task is the same experiment), name = the sweep's name and run = a
readable id of its values ("loss.depth.weight=100"). Runs go one after another
in this process on the CPU; finished runs (run_dir.is_complete) are skipped and
unfinished ones resume from their newest checkpoint. Device subprocesses are
started without a shell (sys.spawn with an argument list). Afterwards
results/<name>/summary.csv, summary.md and plot_<metric>.png (the final total
loss, and any numeric column of a run's eval.csv, against the first swept key)
are written. `--slurm` writes results/<name>/sweep.slurm (a job array, one run
per task) instead of running anything; `--submit` also hands it to sbatch
(started without a shell) and prints the job id; `--status` reports each
run's state from its folder (strata.sweep_status). A run that fails leaves
<run>/failed with the reason (removed when it is run again).
]]
local core = require "strata.core"
local util = require "strata.util"
local experiment = require "strata.experiment"
local run_dir = require "strata.run_dir"

local M = {}

local SWEEP_KEYS = { "name", "base", "grid", "random", "set", "devices" }

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

-- The text of a value as a --set assignment reads it back (see
-- experiment.apply_set): the shortest decimal that round-trips for numbers.
local function value_text(key, v, where)
  local tv = type(v)
  if tv == "number" then
    if math.type(v) == "integer" then return string.format("%d", v) end
    if v ~= v or v == math.huge or v == -math.huge then util.fail("%s: '%s' has the non-finite value %s", where, key, tostring(v)) end
    for p = 6, 17 do
      local s = string.format("%." .. p .. "g", v)
      if tonumber(s) == v then return s end
    end
  elseif tv == "boolean" then
    return tostring(v)
  elseif tv == "string" then
    if v == "true" or v == "false" or tonumber(v) or v:match("^%s*{") then
      util.fail("%s: '%s' = %q would be read back as a %s, not a string", where, key, v,
        v:match("^%s*{") and "table" or (tonumber(v) and "number" or "boolean"))
    end
    if v:find("\n") then util.fail("%s: '%s' is a string with a line break", where, key) end
    return v
  elseif tv == "table" then
    return (experiment.serialize(v):gsub("%s*\n%s*", " "))
  end
  util.fail("%s: '%s' has a value of type %s (expected a number, string, boolean or table)", where, key, tv)
end

-- ---- reading the sweep file ----

local function check_sweep(s, file)
  if type(s) ~= "table" then util.fail("%s: a sweep file must return a table, not a %s", file, type(s)) end
  for k in pairs(s) do
    local known = false
    for _, n in ipairs(SWEEP_KEYS) do known = known or k == n end
    if not known then
      local near = util.closest(tostring(k), SWEEP_KEYS)
      util.fail("%s: unknown sweep key '%s'%s (valid: %s)", file, tostring(k),
        near and (" (did you mean '" .. near .. "'?)") or "", table.concat(SWEEP_KEYS, ", "))
    end
  end
  if type(s.name) ~= "string" or not s.name:match("^[%w_%.%-]+$") then
    util.fail("%s: 'name' must be a word of letters, digits, '_', '-' or '.' (it names results/<name>/)", file)
  end
  if type(s.base) ~= "string" then util.fail("%s: 'base' must be the path of the base experiment file", file) end
  if not core.sys.exists(s.base) then util.fail("%s: base experiment '%s' not found", file, s.base) end
  if (s.grid == nil) == (s.random == nil) then util.fail("%s: give either 'grid' or 'random' (exactly one)", file) end
  if s.grid ~= nil then
    if type(s.grid) ~= "table" or next(s.grid) == nil then util.fail("%s: 'grid' must map experiment keys to lists of values", file) end
    for k, vs in pairs(s.grid) do
      if type(k) ~= "string" then util.fail("%s: grid keys must be strings like \"loss.tv.weight\"", file) end
      if type(vs) ~= "table" or #vs == 0 then util.fail("%s: grid['%s'] must be a non-empty list of values", file, k) end
    end
  end
  if s.random ~= nil then
    local r = s.random
    if type(r) ~= "table" then util.fail("%s: 'random' must be { n = N, seed = S, fields = {...} }", file) end
    if math.type(r.n) ~= "integer" or r.n < 1 then util.fail("%s: random.n must be a positive integer", file) end
    if r.seed ~= nil and math.type(r.seed) ~= "integer" then util.fail("%s: random.seed must be an integer", file) end
    if type(r.fields) ~= "table" or next(r.fields) == nil then
      util.fail("%s: random.fields must map experiment keys to { lo, hi [, \"log\"|\"linear\"|\"int\"] }", file)
    end
    for k, f in pairs(r.fields) do
      if type(k) ~= "string" or type(f) ~= "table" or type(f[1]) ~= "number" or type(f[2]) ~= "number" or f[2] < f[1] then
        util.fail("%s: random.fields['%s'] must be { lo, hi [, scale] } with lo <= hi", file, tostring(k))
      end
      local scale = f[3] or "linear"
      if scale ~= "log" and scale ~= "linear" and scale ~= "int" then
        util.fail("%s: random.fields['%s']: scale '%s' is not \"log\", \"linear\" or \"int\"", file, k, tostring(scale))
      end
      if scale == "log" and f[1] <= 0 then util.fail("%s: random.fields['%s']: a log scale needs lo > 0", file, k) end
    end
  end
  if s.set ~= nil and type(s.set) ~= "table" then util.fail("%s: 'set' must map experiment keys to values", file) end
  if s.devices ~= nil and (type(s.devices) ~= "table" or #s.devices == 0) then
    util.fail("%s: 'devices' must be a list like { \"cuda:0\", \"cuda:1\" }", file)
  end
end

-- Fixed overrides as "key=value" strings: the file's `set` (a map, or a list
-- of "key=value" strings) and then the command line's.
local function fixed_sets(s, file, extra)
  local out = {}
  if s.set then
    for _, v in ipairs(s.set) do
      if type(v) ~= "string" then util.fail("%s: set: list entries must be \"key=value\" strings", file) end
      out[#out + 1] = v
    end
    for _, k in ipairs(sorted_keys(s.set)) do
      if math.type(k) ~= "integer" then out[#out + 1] = k .. "=" .. value_text(k, s.set[k], file .. ": set") end
    end
  end
  for _, v in ipairs(extra or {}) do out[#out + 1] = v end
  return out
end

-- splitmix64: a small seeded generator independent of math.random.
local function uniform(seed)
  local state = seed
  return function()
    state = state + 0x9E3779B97F4A7C15
    local z = state
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    z = z ~ (z >> 31)
    return (z >> 11) * (1.0 / 9007199254740992.0)
  end
end

-- The runs: { id, values = {key = value}, sets = {"key=value", ...} } in order.
local function expand(s, file)
  local keys, combos = {}, { {} }
  if s.grid then
    keys = sorted_keys(s.grid)
    for _, k in ipairs(keys) do
      local next_combos = {}
      for _, c in ipairs(combos) do
        for _, v in ipairs(s.grid[k]) do
          local c2 = {}
          for kk, vv in pairs(c) do c2[kk] = vv end
          c2[k] = v
          next_combos[#next_combos + 1] = c2
        end
      end
      combos = next_combos
    end
  else
    keys = sorted_keys(s.random.fields)
    local u = uniform(s.random.seed or 1)
    combos = {}
    for _ = 1, s.random.n do
      local c = {}
      for _, k in ipairs(keys) do
        local lo, hi, scale = s.random.fields[k][1], s.random.fields[k][2], s.random.fields[k][3] or "linear"
        local x = u()
        if scale == "int" then
          c[k] = math.min(math.floor(hi), math.floor(lo + x * (math.floor(hi) - lo + 1)))
        else
          local v = scale == "log" and math.exp(math.log(lo) + x * (math.log(hi) - math.log(lo))) or lo + x * (hi - lo)
          c[k] = tonumber(string.format("%.3g", v)) -- 3 significant digits: readable run ids
        end
      end
      combos[#combos + 1] = c
    end
  end
  local runs, seen = {}, {}
  for _, c in ipairs(combos) do
    local parts, sets = {}, {}
    for _, k in ipairs(keys) do
      local text = value_text(k, c[k], file)
      sets[#sets + 1] = k .. "=" .. text
      parts[#parts + 1] = k .. "=" .. text:gsub("[/%s]", "_")
    end
    local id = table.concat(parts, ",")
    if seen[id] then -- a repeated random sample: keep it apart
      local k = 2
      while seen[id .. "-" .. k] do k = k + 1 end
      id = id .. "-" .. k
    end
    seen[id] = true
    runs[#runs + 1] = { id = id, values = c, sets = sets }
  end
  return runs, keys
end

-- Loads and checks the sweep, and resolves every run's experiment (so a
-- misspelt key fails before anything runs).
function M.load(file, cli_sets)
  if not core.sys.exists(file) then util.fail("sweep: cannot open '%s': no such file", file) end
  local chunk, err = loadfile(file)
  if not chunk then util.fail("%s", err) end
  local ok, s = pcall(chunk)
  if not ok then util.fail("%s: %s", file, util.error_text(s)) end
  check_sweep(s, file)
  local base_chunk, berr = loadfile(s.base)
  if not base_chunk then util.fail("%s", berr) end
  local function base_table()
    local t = base_chunk()
    if type(t) ~= "table" then util.fail("%s: the base experiment must return a table", s.base) end
    return t
  end
  local fixed = fixed_sets(s, file, cli_sets)
  local ok2, head = pcall(experiment.resolve, base_table(), s.base, fixed)
  if not ok2 then util.fail("%s: %s", file, util.error_text(head)) end
  local sweep = { file = file, name = s.name, base = s.base, devices = s.devices, fixed = fixed,
    root = head.output.dir, dir = head.output.dir .. "/" .. s.name, scale = {} }
  sweep.runs, sweep.keys = expand(s, file)
  if s.random then
    for k, f in pairs(s.random.fields) do sweep.scale[k] = f[3] or "linear" end
  end
  for _, r in ipairs(sweep.runs) do
    r.all_sets = {}
    for _, a in ipairs(fixed) do r.all_sets[#r.all_sets + 1] = a end
    for _, a in ipairs(r.sets) do r.all_sets[#r.all_sets + 1] = a end
    for _, a in ipairs({ "output.dir=" .. sweep.root, "name=" .. s.name, "run=" .. r.id }) do
      r.all_sets[#r.all_sets + 1] = a
    end
    local ok3, exp, origins = pcall(experiment.resolve, base_table(), s.base, r.all_sets)
    if not ok3 then util.fail("%s: run %s: %s", file, r.id, util.error_text(exp)) end
    local okn, why = pcall(run_dir.check_names, exp)
    if not okn then util.fail("%s: run %s: %s", file, r.id, util.error_text(why)) end
    r.exp, r.origins = exp, origins
    r.dir = sweep.dir .. "/" .. r.id
  end
  return sweep
end

-- ---- running ----

local function finished(r) return run_dir.is_complete(r.dir) end

-- The strata binary running this process, for subprocesses.
local function self_exe()
  local ok, exe = pcall(core.sys.self_exe)
  if ok and exe:match("strata") then return exe end
  return (STRATA_HOME or ".") .. "/bin/strata"
end

local function current_dir()
  local ok, d = pcall(core.sys.getcwd)
  return ok and d or "."
end

-- The argument list of one run's subprocess.
local function run_argv(exe, sweep, r, extra_sets)
  local argv = { exe, "run", sweep.base }
  for _, a in ipairs(r.all_sets) do argv[#argv + 1] = "--set" argv[#argv + 1] = a end
  for _, a in ipairs(extra_sets or {}) do argv[#argv + 1] = "--set" argv[#argv + 1] = a end
  return argv
end

-- The same as one line of a shell script (for the Slurm script, run by sbatch).
local function run_command(exe, sweep, r, extra_sets)
  local parts = {}
  for i, a in ipairs(run_argv(exe, sweep, r, extra_sets)) do
    parts[i] = (a == "--set" or a == "run") and a or shell_quote(a)
  end
  return table.concat(parts, " ")
end

-- In this process, one after another. Returns { [id] = error message } of failed runs.
-- The failure marker read by --status: <run>/failed holds the reason.
M.FAILED = "failed"
local function mark_failed(r, why)
  pcall(core.sys.mkdir_p, r.dir)
  pcall(core.sys.write_atomic, r.dir .. "/" .. M.FAILED, why .. "\n")
end

local function run_sequential(sweep, todo)
  local train = require "strata.train"
  local failed = {}
  for k, r in ipairs(todo) do
    io.stdout:write(string.format("sweep %s: run %d/%d: %s\n", sweep.name, k, #todo, r.id))
    io.stdout:flush()
    os.remove(r.dir .. "/" .. M.FAILED)
    local ok, err = pcall(train.train, r.exp, { origins = r.origins })
    if not ok then
      failed[r.id] = util.error_text(err)
      mark_failed(r, failed[r.id])
      io.stderr:write(string.format("strata: sweep %s: run %s failed: %s\n", sweep.name, r.id, failed[r.id]))
    end
    collectgarbage("collect") -- the previous run's tensors go back to the allocator
  end
  return failed
end

-- One subprocess chain per device, all at once; each device takes every
-- len(devices)-th run. A "cuda:N" device becomes CUDA_VISIBLE_DEVICES=N and
-- device=cuda:0 in its process, so each process sees only its own GPU.
local function run_parallel(sweep, todo, devices)
  local exe = self_exe()
  local logs = sweep.dir .. "/logs"
  core.sys.mkdir_p(logs)
  local chains, running = {}, {} -- per device: its runs in order; pid -> {chain, run}
  for d, dev in ipairs(devices) do
    local env, set_dev = {}, "device=" .. dev
    local idx = dev:match("^cuda:(%d+)$")
    if idx then env, set_dev = { CUDA_VISIBLE_DEVICES = idx }, "device=cuda:0" end
    local chain = { env = env, set_dev = set_dev, runs = {}, next = 1 }
    for k = d, #todo, #devices do chain.runs[#chain.runs + 1] = todo[k] end
    chains[#chains + 1] = chain
  end
  local codes = {}
  local function start_next(chain)
    local r = chain.runs[chain.next]
    if not r then return end
    chain.next = chain.next + 1
    os.remove(r.dir .. "/" .. M.FAILED)
    local ok, pid = pcall(core.sys.spawn, run_argv(exe, sweep, r, { chain.set_dev }),
      { env = chain.env, output = logs .. "/" .. r.id .. ".out" })
    if ok then
      running[pid] = { chain = chain, run = r }
    else
      codes[r.id] = tostring(pid)
      start_next(chain)
    end
  end
  io.stdout:write(string.format("sweep %s: %d runs on %s in parallel; output in %s/\n", sweep.name, #todo,
    table.concat(devices, ", "), logs))
  io.stdout:flush()
  for _, chain in ipairs(chains) do start_next(chain) end
  while next(running) do
    local pid, code = core.sys.wait()
    local job = running[pid]
    if job then
      running[pid] = nil
      codes[job.run.id] = code
      start_next(job.chain)
    end
  end
  local failed = {}
  for _, r in ipairs(todo) do
    local rc = codes[r.id]
    if rc ~= 0 then
      local last = ""
      local o = io.open(logs .. "/" .. r.id .. ".out", "r")
      if o then
        for line in o:lines() do if line:match("%S") then last = line end end
        o:close()
      end
      failed[r.id] = string.format("exit %s: %s", tostring(rc), last)
      mark_failed(r, failed[r.id])
      io.stderr:write(string.format("strata: sweep %s: run %s failed (%s)\n", sweep.name, r.id, failed[r.id]))
    end
  end
  return failed
end

-- ---- summary ----

local function split_csv(line)
  local out = {}
  for field in (line .. ","):gmatch("([^,]*),") do out[#out + 1] = field end
  return out
end

-- The header and the last data row of a CSV file as { column = text }, or nil.
local function last_row(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local header, last
  for line in f:lines() do
    line = line:gsub("\r$", "")
    if not header then header = split_csv(line) elseif line:match("%S") then last = line end
  end
  f:close()
  if not header or not last then return nil, header end
  local row, fields = {}, split_csv(last)
  for i, name in ipairs(header) do row[name] = fields[i] end
  return row, header
end

local function csv_field(s)
  s = tostring(s)
  if s:find('[,"\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

local function plot_summary(sweep, rows, metric, path, is_loss)
  local plot = require "strata.plot"
  local xkey = sweep.keys[1]
  local numeric = true
  for _, r in ipairs(sweep.runs) do numeric = numeric and type(r.values[xkey]) == "number" end
  -- One series per combination of the other swept keys.
  local series, by_label = {}, {}
  for i, r in ipairs(sweep.runs) do
    local others = {}
    for k = 2, #sweep.keys do others[#others + 1] = sweep.keys[k] .. "=" .. value_text(sweep.keys[k], r.values[sweep.keys[k]], "") end
    local label = #others > 0 and table.concat(others, ",") or metric
    if not by_label[label] then
      by_label[label] = { label = label, points = {} }
      series[#series + 1] = by_label[label]
    end
    local x = numeric and r.values[xkey] or i -- non-numeric values: the run's index
    local y = tonumber(rows[i][metric] or "")
    if y then table.insert(by_label[label].points, { x, y }) end
  end
  local xs, xticks = {}, nil
  for _, r in ipairs(sweep.runs) do if numeric then xs[#xs + 1] = r.values[xkey] end end
  local xlog = sweep.scale[xkey] == "log"
  if not sweep.scale[xkey] and numeric and #xs > 1 then
    local lo, hi = math.min(table.unpack(xs)), math.max(table.unpack(xs))
    xlog = lo > 0 and hi / lo >= 100
  end
  if sweep.scale[xkey] == nil and numeric and #xs <= 12 then xticks = xs end -- grid: a tick per value
  plot.xy({ path = path, width = 640, height = 400, title = string.format("%s: final %s%s", sweep.name, metric, is_loss and " loss" or ""),
    xlabel = xkey .. (numeric and "" or " (run index)") .. (xlog and " (log scale)" or ""), ylabel = metric,
    xlog = xlog, xticks = xticks, lines = sweep.scale[xkey] == nil, series = series })
end

-- Writes summary.csv, summary.md and the plots; returns the plot paths.
function M.summarize(sweep, failed)
  failed = failed or {}
  core.sys.mkdir_p(sweep.dir)
  local rows, eval_cols, eval_seen = {}, {}, {}
  for i, r in ipairs(sweep.runs) do
    local row = last_row(r.dir .. "/log.csv") or {}
    row.status = finished(r) and "done" or (failed[r.id] and "failed" or "incomplete")
    local ev, header = last_row(r.dir .. "/eval.csv")
    if ev then
      for _, c in ipairs(header) do
        if tonumber(ev[c]) and not eval_seen[c] and not r.values[c] then
          eval_seen[c] = true
          eval_cols[#eval_cols + 1] = c
        end
        row["eval:" .. c] = ev[c]
      end
    end
    rows[i] = row
  end
  for _, row in ipairs(rows) do
    for _, c in ipairs(eval_cols) do row[c] = row["eval:" .. c] end
  end

  local cols = { "run" }
  for _, k in ipairs(sweep.keys) do cols[#cols + 1] = k end
  cols[#cols + 1] = "status"
  -- The loss columns: every run's terms (strata.loss), as log.csv names them.
  local loss_cols, seen = { "iteration" }, {}
  for _, r in ipairs(sweep.runs) do
    for _, name in ipairs(require("strata.loss").names(r.exp)) do
      if not seen[name] then loss_cols[#loss_cols + 1], seen[name] = name, true end
    end
  end
  loss_cols[#loss_cols + 1] = "total"
  for _, c in ipairs(loss_cols) do cols[#cols + 1] = c end
  for _, c in ipairs(eval_cols) do cols[#cols + 1] = c end
  local function cell(i, c)
    local r = sweep.runs[i]
    if c == "run" then return r.id end
    if r.values[c] ~= nil then return value_text(c, r.values[c], "") end
    return rows[i][c] or ""
  end

  local csv = { table.concat(cols, ",") }
  for i = 1, #sweep.runs do
    local line = {}
    for _, c in ipairs(cols) do line[#line + 1] = csv_field(cell(i, c)) end
    csv[#csv + 1] = table.concat(line, ",")
  end
  core.sys.write_atomic(sweep.dir .. "/summary.csv", table.concat(csv, "\n") .. "\n")

  -- Plots: the total, each loss term some run logged as nonzero, the metrics.
  local plots = { total = sweep.dir .. "/plot_total.png" }
  local order, is_loss = { "total" }, { total = true }
  for _, c in ipairs(loss_cols) do
    local nonzero = false
    for _, row in ipairs(rows) do nonzero = nonzero or (tonumber(row[c] or "") or 0) ~= 0 end
    if nonzero and c ~= "iteration" and c ~= "total" and not eval_seen[c] then
      plots[c] = sweep.dir .. "/plot_" .. c .. ".png"
      order[#order + 1], is_loss[c] = c, true
    end
  end
  for _, c in ipairs(eval_cols) do
    plots[c] = sweep.dir .. "/plot_" .. c:gsub("[^%w_%-.]", "_") .. ".png"
    order[#order + 1] = c
  end
  for _, m in ipairs(order) do plot_summary(sweep, rows, m, plots[m], is_loss[m]) end

  local md = { "# Sweep " .. sweep.name, "",
    string.format("Base experiment `%s`, %d runs; fixed settings: %s.", sweep.base, #sweep.runs,
      #sweep.fixed > 0 and ("`" .. table.concat(sweep.fixed, "`, `") .. "`") or "none"),
    "Losses are the last logged row of each run's log.csv" .. (#eval_cols > 0 and "; metrics the last row of its eval.csv." or "."),
    "", "| " .. table.concat(cols, " | ") .. " |", "|" .. string.rep("---|", #cols) }
  for i = 1, #sweep.runs do
    local line = {}
    for _, c in ipairs(cols) do
      local v = cell(i, c)
      local n = tonumber(v)
      if n and c ~= "iteration" and math.type(n) ~= "integer" then v = string.format("%.6g", n) end
      line[#line + 1] = (v:gsub("|", "\\|"))
    end
    md[#md + 1] = "| " .. table.concat(line, " | ") .. " |"
  end
  md[#md + 1] = ""
  for _, m in ipairs(order) do md[#md + 1] = string.format("![%s](%s)", m, plots[m]:match("[^/]+$")) end
  local nfail = 0
  for id, msg in pairs(failed) do
    if nfail == 0 then md[#md + 1] = "" md[#md + 1] = "Failed runs:" end
    nfail = nfail + 1
    md[#md + 1] = string.format("- `%s`: %s", id, msg)
  end
  core.sys.write_atomic(sweep.dir .. "/summary.md", table.concat(md, "\n") .. "\n")
  return plots, order
end

-- ---- Slurm ----

-- gpus: GPUs per task (default 1); 0 runs each task on the CPU (device=cpu).
function M.write_slurm(sweep, gpus)
  gpus = gpus or 1
  local exe, cwd = self_exe(), current_dir()
  local path = sweep.dir .. "/sweep.slurm"
  core.sys.mkdir_p(sweep.dir .. "/slurm")
  local lines = {
    "#!/bin/bash",
    "# Sweep " .. sweep.name .. " (" .. sweep.file .. "): one run per array task, written by 'strata sweep --slurm'.",
    "# Finished runs exit at once; unfinished ones resume from their newest checkpoint.",
    "#SBATCH --job-name=strata-" .. sweep.name,
    string.format("#SBATCH --array=0-%d", #sweep.runs - 1),
    gpus > 0 and ("#SBATCH --gres=gpu:" .. gpus) or "# (no GPU: --gpus 0)",
    "#SBATCH --output=" .. (sweep.dir:sub(1, 1) == "/" and "" or cwd .. "/") .. sweep.dir .. "/slurm/%A_%a.out",
    "set -euo pipefail",
    "cd " .. shell_quote(cwd),
    'case "${SLURM_ARRAY_TASK_ID:?run this script with sbatch}" in',
  }
  local dev = gpus > 0 and "device=cuda" or "device=cpu"
  for i, r in ipairs(sweep.runs) do
    local dir = r.dir:sub(1, 1) == "/" and r.dir or cwd .. "/" .. r.dir
    lines[#lines + 1] = string.format("  %d) dir=%s; run=(%s) ;;", i - 1, shell_quote(dir), run_command(exe, sweep, r, { dev }))
  end
  lines[#lines + 1] = '  *) echo "no run for array task $SLURM_ARRAY_TASK_ID" >&2; exit 1 ;;'
  lines[#lines + 1] = "esac"
  -- A failed task leaves <run>/failed for `strata sweep --status`.
  lines[#lines + 1] = 'rm -f "$dir/failed"'
  lines[#lines + 1] = 'rc=0; "${run[@]}" || rc=$?'
  lines[#lines + 1] = 'if [ "$rc" -ne 0 ]; then'
  lines[#lines + 1] = '  mkdir -p "$dir"'
  lines[#lines + 1] = '  printf \'exit %d (Slurm job %s, array task %s)\\n\' "$rc" "${SLURM_ARRAY_JOB_ID:-?}" "$SLURM_ARRAY_TASK_ID" >"$dir/failed"'
  lines[#lines + 1] = 'fi'
  lines[#lines + 1] = 'exit "$rc"'
  core.sys.write_atomic(path, table.concat(lines, "\n") .. "\n")
  core.sys.chmod(path, tonumber("755", 8))
  return path
end

-- Hands the script to sbatch (found on $PATH, started without a shell) and
-- returns the job id. sbatch's stdout and stderr go to files in the sweep's
-- slurm/ folder, read back here: --parsable prints "ID" or "ID;CLUSTER".
function M.submit_slurm(sweep, path)
  local sbatch = core.sys.find_program("sbatch")
  if not sbatch then
    util.fail("sweep %s: cannot submit: sbatch was not found on PATH (install Slurm's client commands, e.g. Debian's slurm-client, or run 'sbatch %s' where Slurm is)",
      sweep.name, path)
  end
  local out, err = sweep.dir .. "/slurm/sbatch.out", sweep.dir .. "/slurm/sbatch.err"
  local pid = core.sys.spawn({ sbatch, "--parsable", path }, { output = out, errors = err })
  local _, code = core.sys.wait(pid)
  local function slurp(p)
    local f = io.open(p, "r")
    if not f then return "" end
    local t = f:read("a")
    f:close()
    return (t:gsub("%s+$", ""))
  end
  local said, complaint = slurp(out), slurp(err)
  if code ~= 0 then
    util.fail("sweep %s: sbatch %s failed (exit %d): %s", sweep.name, path, code,
      complaint ~= "" and complaint or (said ~= "" and said or "it printed nothing"))
  end
  local id = said:match("^(%d+)")
  if not id then
    util.fail("sweep %s: sbatch %s printed no job id (stdout: '%s', stderr: '%s')", sweep.name, path, said, complaint)
  end
  core.sys.write_atomic(sweep.dir .. "/slurm/job_id", id .. "\n")
  return id
end

-- ---- the command ----

local USAGE = "strata sweep FILE.lua [--set KEY=VALUE] [--devices D1,D2] [--slurm [--gpus N] [--submit]] [--status]"

-- `strata sweep FILE.lua [--set KEY=VALUE ...] [--devices D1,D2] [--slurm [--gpus N] [--submit]] [--status]`
function M.main(args)
  local file, cli_sets, devices, slurm, submit, status, gpus
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--gpus" then
      local v = args[i + 1]
      gpus = v and v:match("^%d+$") and tonumber(v)
      if not gpus then util.fail("sweep: --gpus needs a whole number of GPUs per task (0: run the tasks on the CPU), got '%s'", tostring(v)) end
      i = i + 2
    elseif a == "--set" or a == "--devices" then
      if not args[i + 1] then util.fail("sweep: %s needs a value", a) end
      if a == "--set" then
        cli_sets = cli_sets or {}
        cli_sets[#cli_sets + 1] = args[i + 1]
      else
        devices = {}
        for d in args[i + 1]:gmatch("[^,%s]+") do devices[#devices + 1] = d end
      end
      i = i + 2
    elseif a == "--slurm" then
      slurm, i = true, i + 1
    elseif a == "--submit" then
      submit, i = true, i + 1
    elseif a == "--status" then
      status, i = true, i + 1
    elseif a:match("^%-%-") then
      local near = util.closest(a:sub(3), { "set", "devices", "slurm", "submit", "status", "gpus" })
      util.fail("sweep: unknown option %s%s", a, near and (" (did you mean --" .. near .. "?)") or "")
    elseif file then
      util.fail("sweep: unexpected argument '%s' (one sweep file at a time)", a)
    else
      file, i = a, i + 1
    end
  end
  if not file then util.fail("sweep: which file? usage: %s", USAGE) end
  if (submit or gpus) and not slurm then util.fail("sweep: %s goes with --slurm (usage: %s)", submit and "--submit" or "--gpus", USAGE) end
  if status and (slurm or devices) then util.fail("sweep: --status only reads the run folders; give it without --slurm or --devices") end
  local sweep = M.load(file, cli_sets)
  if status then return require("strata.sweep_status").main(sweep) end
  devices = devices or sweep.devices
  -- Every run's values were checked by M.load; its input images and the
  -- devices are checked here, before any run starts (for --slurm, by each
  -- task: the files are the cluster's, which this machine may not see).
  local check = require "strata.experiment_check"
  for _, d in ipairs(devices or {}) do
    local _, want = check.experiment.device(d)
    if want then util.fail("sweep: device '%s': expected %s", tostring(d), want) end
  end
  for _, r in ipairs(sweep.runs) do
    if not slurm and not finished(r) then
      local ok, err = pcall(check.inputs, r.exp, r.origins)
      if not ok then util.fail("%s: run %s: %s", file, r.id, util.error_text(err)) end
    end
  end

  if slurm then
    local path = M.write_slurm(sweep, gpus)
    local each = (gpus or 1) == 0 and "on the CPU" or string.format("%d GPU%s each", gpus or 1, (gpus or 1) > 1 and "s" or "")
    if submit then
      local id = M.submit_slurm(sweep, path)
      print(string.format("submitted %s: Slurm job %s, an array of %d runs (%s)", path, id, #sweep.runs, each))
      print(string.format("follow it with:  %s sweep %s --status", "bin/strata", file))
      print(id)
      return 0
    end
    print(string.format("wrote %s: a Slurm job array of %d runs (%s); nothing was run", path, #sweep.runs, each))
    print(string.format("submit it with:  sbatch %s  (or strata sweep --slurm --submit)", path))
    print(string.format("then summarize with:  %s sweep %s%s  (finished runs are skipped)", "bin/strata", file,
      cli_sets and " --set ..." or ""))
    return 0
  end

  local todo = {}
  for _, r in ipairs(sweep.runs) do
    if finished(r) then
      print(string.format("sweep %s: skipping %s: finished", sweep.name, r.id))
    else
      todo[#todo + 1] = r
    end
  end
  print(string.format("sweep %s: %d runs, %d to do, results in %s/", sweep.name, #sweep.runs, #todo, sweep.dir))
  local failed = {}
  if #todo > 0 then
    if devices and #devices > 0 then failed = run_parallel(sweep, todo, devices)
    else failed = run_sequential(sweep, todo) end
  end
  local plots, order = M.summarize(sweep, failed)
  local shown = {}
  for _, m in ipairs(order) do shown[#shown + 1] = plots[m] end
  print(string.format("wrote %s/summary.csv, %s/summary.md, %s", sweep.dir, sweep.dir, table.concat(shown, ", ")))
  local ids = sorted_keys(failed)
  if #ids > 0 then
    util.fail("sweep %s: %d of %d runs failed: %s", sweep.name, #ids, #sweep.runs, table.concat(ids, "; "))
  end
  return 0
end

return M
