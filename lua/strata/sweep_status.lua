-- `strata sweep FILE --status`: each run's state read from its folder, so it
-- works the same for runs made here, by device subprocesses or by Slurm
-- tasks on other nodes sharing the folder:
--   complete     the completion marker (run_dir.MARKER) is there
--   running      its run lock is held by a live strata process
--   failed       the sweep left <run>/failed (its text is the reason)
--   interrupted  a checkpoint but no marker, and nobody holds the lock
--   not started  no checkpoint (no folder, or stopped before the first)
local core = require "strata.core"
local run_dir = require "strata.run_dir"

local M = {}

-- The highest iteration among the folder's checkpoint files, or nil.
local function newest_checkpoint(dir)
  local ok, names = pcall(core.sys.list_dir, dir .. "/checkpoints")
  if not ok or type(names) ~= "table" then return nil end
  local best
  for _, n in ipairs(names) do
    local it = n:match("^ckpt_(%d+)%.h5$")
    if it and (not best or tonumber(it) > best) then best = tonumber(it) end
  end
  return best
end

local function first_line(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local l = f:read("l") or ""
  f:close()
  return l
end

-- Whether another process holds the run lock: a non-blocking try that lets
-- go at once. Only an existing lock file is tried (no folder is created).
local function lock_holder(dir)
  local path = dir .. "/" .. run_dir.LOCK
  if not core.sys.exists(path) then return nil end
  local ok, lock, holder = pcall(core.sys.lock, path)
  if not ok then return nil end
  if lock then
    lock:release()
    return nil
  end
  return holder or 0
end

-- { state = ..., iteration = N or nil, detail = text } for one run folder.
function M.state(dir, failed_name)
  local it = newest_checkpoint(dir)
  if run_dir.is_complete(dir) then return { state = "complete", iteration = it, detail = "" } end
  local holder = lock_holder(dir)
  if holder then return { state = "running", iteration = it, detail = "lock held by pid " .. holder } end
  local why = first_line(dir .. "/" .. failed_name)
  if why then return { state = "failed", iteration = it, detail = why } end
  if it then return { state = "interrupted", iteration = it, detail = "resumes from its checkpoint when run again" } end
  return { state = "not started", detail = "" }
end

M.ORDER = { "complete", "running", "interrupted", "failed", "not started" }

function M.main(sweep)
  local failed_name = require("strata.sweep").FAILED
  local rows, counts = {}, {}
  local w = { #"run", #"state", #"iteration" }
  for _, r in ipairs(sweep.runs) do
    local s = M.state(r.dir, failed_name)
    local row = { r.id, s.state, s.iteration and tostring(s.iteration) or "-", s.detail }
    rows[#rows + 1] = row
    counts[s.state] = (counts[s.state] or 0) + 1
    for k = 1, 3 do w[k] = math.max(w[k], #row[k]) end
  end
  local fmt = string.format("%%-%ds  %%-%ds  %%%ds  %%s", w[1], w[2], w[3])
  print(string.format("sweep %s: %d runs in %s/", sweep.name, #sweep.runs, sweep.dir))
  print((string.format(fmt, "run", "state", "iteration", "detail"):gsub("%s+$", "")))
  for _, row in ipairs(rows) do print((string.format(fmt, table.unpack(row)):gsub("%s+$", ""))) end
  local parts = {}
  for _, st in ipairs(M.ORDER) do
    if counts[st] then parts[#parts + 1] = string.format("%d %s", counts[st], st) end
  end
  print(table.concat(parts, ", "))
  return 0
end

return M
