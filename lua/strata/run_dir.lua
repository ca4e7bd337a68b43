-- Run folders, results/<name>/<run>/: their names, the one-writer lock,
-- leftovers of killed writers, which checkpoint a rerun resumes from and
-- whether it may, the settings of every session, and completion.
--
--   local run <close> = run_dir.open(exp, opts)  -- validated, locked, cleaned
--   if run.complete then ... end                  -- finished earlier: nothing to do
--   run:check_resume(exp)            -- picks the checkpoint, refuses changed settings
--   local attrs = run:begin(exp, total_iters, net, adam)  -- writes experiment.lua, restores
--   ... run.record (for checkpoint.save) ...
--   run:finish(total_iters)          -- the completion marker, written last
--
-- Test hook (tests only): STRATA_TEST_KILL_AT=<stage> sends SIGKILL to this
-- process right after that stage ("final_checkpoint", "model", "sample",
-- "report"), to check that a kill at any point leaves a run that a rerun
-- completes.
local core = require "strata.core"
local util = require "strata.util"
local experiment = require "strata.experiment"
local checkpoint = require "strata.checkpoint"
local exp_record = require "strata.exp_record"

local M = {}

M.LOCK = "run.lock"
M.MARKER = "complete"
-- What a complete run holds besides the marker.
M.OUTPUTS = { "model.h5", "report.md" }

local function log_line(fmt, ...)
  io.stdout:write(string.format(fmt, ...), "\n")
  io.stdout:flush()
end

-- `name` and `run` each name one folder: no '/', not '.' or '..', not empty,
-- no control characters. Quotes, spaces and UTF-8 are fine.
function M.check_component(key, v)
  if type(v) ~= "string" then util.fail("%s: expected a folder name (a string), not a %s", key, type(v)) end
  local why
  if v == "" then why = "may not be empty"
  elseif v == "." or v == ".." then why = "may not be '" .. v .. "'"
  elseif v:find("/", 1, true) then why = "may not contain '/'"
  elseif v:find("%c") then why = string.format("may not contain control characters (byte %d)", v:byte(v:find("%c")))
  elseif #v > 255 then why = "is longer than 255 bytes"
  end
  if why then
    util.fail("%s: %q %s: it must be a single folder name (results/<name>/<run>/)", key, v, why)
  end
end

function M.check_names(exp)
  M.check_component("name", exp.name)
  M.check_component("run", exp.run)
  local dir = exp.output and exp.output.dir
  if type(dir) ~= "string" or dir == "" then util.fail("output.dir: may not be empty (it is the results folder)") end
  if dir:find("%z") then util.fail("output.dir: %q contains a NUL byte", dir) end
end

function M.path(exp) return string.format("%s/%s/%s", exp.output.dir, exp.name, exp.run) end

function M.is_complete(dir)
  for _, f in ipairs(M.OUTPUTS) do
    if not core.sys.exists(dir .. "/" .. f) then return false end
  end
  -- A run folder from before markers (no sessions/) wrote report.md last.
  return core.sys.exists(dir .. "/" .. M.MARKER) or not core.sys.exists(dir .. "/sessions")
end

function M.kill_point(stage)
  if os.getenv("STRATA_TEST_KILL_AT") == stage then core.sys.kill_self() end
end

-- Removes "<file>.tmp.<pid>" files of writers that are gone (killed while
-- writing atomically) from a folder.
local function remove_stale_temps(dir)
  local me = core.sys.getpid()
  local ok, names = pcall(core.sys.list_dir, dir) -- checkpoints/ may not exist yet
  for _, name in ipairs(ok and names or {}) do
    local pid = tonumber(name:match("%.tmp%.(%d+)$") or "")
    if pid and (pid == me or not core.sys.pid_alive(pid)) then
      os.remove(dir .. "/" .. name)
      log_line("removed %s/%s, left by a writer (pid %d) that was killed", dir, name, pid)
    end
  end
end

local Run = {}
Run.__index = Run
Run.__close = function(self) self:release() end

function Run:release()
  if self.lock then self.lock:release() end
  self.lock = nil
end

-- Validates the names, makes the folder, takes its lock (exit 1 naming the
-- holder's pid when another process has it), applies --fresh (only this run
-- folder's contents), removes killed writers' temporary files.
function M.open(exp, opts)
  opts = opts or {}
  M.check_names(exp)
  local keep = exp.schedule and exp.schedule.keep_checkpoints
  if math.type(keep) ~= "integer" or keep < 1 then
    util.fail("schedule.keep_checkpoints: expected an integer >= 1 (a run always keeps a checkpoint to resume from), got %s",
      tostring(keep))
  end
  local dir = M.path(exp)
  if opts.fresh and core.sys.is_link(dir) then
    util.fail("%s is a symbolic link; --fresh will not delete what it points to (remove the link yourself)", dir)
  end
  core.sys.mkdir_p(dir)
  local lock, holder = core.sys.lock(dir .. "/" .. M.LOCK)
  if not lock then
    util.fail("%s is in use by another strata process (pid %s, lock file %s/%s); wait for it to end, or choose another run (--set run=...)",
      dir, holder ~= 0 and tostring(holder) or "unknown", dir, M.LOCK)
  end
  local run = setmetatable({ dir = dir, lock = lock, ckpt_dir = dir .. "/checkpoints", sample_dir = dir .. "/samples" }, Run)
  if opts.fresh then
    for _, name in ipairs(core.sys.list_dir(dir)) do
      if name ~= M.LOCK then core.sys.remove_tree(dir .. "/" .. name) end
    end
  end
  for _, d in ipairs({ dir, run.ckpt_dir, run.sample_dir }) do remove_stale_temps(d) end
  if M.is_complete(dir) then
    run.complete = true
    log_line("%s is complete; nothing to do (--fresh starts over)", dir)
    return run
  end
  if core.sys.exists(dir .. "/model.h5") then
    log_line("%s has a model.h5 but did not finish writing its outputs; finishing it", dir)
  end
  core.sys.mkdir_p(run.ckpt_dir)
  core.sys.mkdir_p(run.sample_dir)
  run.record = exp_record.encode(exp)
  return run
end

-- The previous session's settings (experiment.lua), flattened, or nil.
local function previous_settings(self)
  local f = io.open(self.dir .. "/experiment.lua", "r")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  local chunk = load(text, "experiment.lua", "t", {})
  local ok, t = pcall(chunk or error)
  if ok and type(t) == "table" then return exp_record.flatten(t) end
  return nil
end

-- Chooses the checkpoint to resume from (the newest that verifies; newer
-- ones that do not are moved aside as *.bad with the reason logged) and
-- refuses it when settings that change what is computed differ.
function Run:check_resume(exp)
  local w, skipped = checkpoint.newest_good(self.ckpt_dir)
  for _, s in ipairs(skipped) do
    local bad = s.path .. ".bad"
    core.sys.rename(s.path, bad)
    log_line("skipping %s: %s (moved to %s)", s.path, s.why, bad)
  end
  if #skipped > 0 and not w then log_line("no checkpoint of %s verifies; starting from iteration 0", self.dir) end
  self.resume = w
  self.changes = {}
  if not w then return end
  if w.unverified then log_line("NOTE: %s has no checksums (written by an older strata); resuming unverified", w.path) end
  -- What is computed: against the checkpoint's own record (for a checkpoint
  -- from before records, against experiment.lua). Safe settings: against
  -- the previous session's experiment.lua, to log what changed.
  local prev = previous_settings(self)
  local old = w.attrs.experiment or prev
  if not old then
    log_line("NOTE: %s records no settings (written by an older strata); they cannot be compared", w.path)
    return
  end
  local bad = exp_record.diff(old, exp, "computed")
  if prev then
    for _, d in ipairs(exp_record.diff(prev, exp, "all")) do
      if d.safe then self.changes[#self.changes + 1] = d end
      -- A cosine schedule spans the run's length: another length changes its rates.
      local lr = exp.optim and exp.optim.lr
      local length = d.key == "schedule.iterations" or (d.key == "schedule.epochs" and exp.schedule.iterations == 0)
      if length and type(lr) == "table" and lr.kind == "cosine" then
        bad[#bad + 1] = { key = d.key, old = d.old, new = d.new .. " (optim.lr is a cosine schedule over the run's length)" }
      end
    end
  end
  if #bad > 0 then
    local lines = {}
    for _, d in ipairs(bad) do lines[#lines + 1] = string.format("  %s: was %s, now %s", d.key, d.old, d.new) end
    util.fail("cannot resume %s from %s: these settings differ from the ones it was trained with, and they change what is computed:\n%s\n"
      .. "Either start this run over with --fresh, or give the new settings another run name (--set run=...).",
      exp.name .. "/" .. exp.run, w.path, table.concat(lines, "\n"))
  end
end

-- Checks the iteration count against the checkpoint, records this session's
-- settings (experiment.lua, and sessions/session-N.lua for each session),
-- then restores the checkpoint into net and adam. Returns its attributes, or
-- nil when starting from scratch.
function Run:begin(exp, total_iters, net, adam)
  local w = self.resume
  local at = w and tonumber(w.attrs.iteration) or 0
  if w and total_iters < at then
    util.fail("schedule: this session asks for %d iterations, but %s already reached iteration %d; "
      .. "ask for at least %d, or start over with --fresh", total_iters, w.path, at, at)
  end
  for _, d in ipairs(self.changes) do log_line("setting changed since the checkpoint: %s: %s -> %s", d.key, d.old, d.new) end
  local text = "return " .. experiment.serialize(exp) .. "\n"
  core.sys.write_atomic(self.dir .. "/experiment.lua", text)
  local sessions = self.dir .. "/sessions"
  core.sys.mkdir_p(sessions)
  local n = 0
  for _, name in ipairs(core.sys.list_dir(sessions)) do
    n = math.max(n, tonumber(name:match("^session%-(%d+)%.lua$") or "") or 0)
  end
  local head = { string.format("-- session %d of %s/%s: %s", n + 1, exp.name, exp.run,
    w and string.format("resumed from %s (iteration %d)", w.path, at) or "started at iteration 0") }
  for _, d in ipairs(self.changes) do head[#head + 1] = string.format("-- changed: %s: %s -> %s", d.key, d.old, d.new) end
  core.sys.write_atomic(string.format("%s/session-%03d.lua", sessions, n + 1), table.concat(head, "\n") .. "\n" .. text)
  if not w then return nil end
  local attrs = checkpoint.restore(w, net, adam)
  self.resume = nil -- the tensors were copied; let them go
  return attrs
end

-- The completion marker: written after every output, so its presence means
-- the run is whole.
function Run:finish(total_iters)
  core.sys.write_atomic(self.dir .. "/" .. M.MARKER,
    string.format("complete at iteration %d; outputs: %s\n", total_iters, table.concat(M.OUTPUTS, ", ")))
end

return M
