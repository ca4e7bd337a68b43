-- STRATA_STAGE_TIMES=1: where a command's wall time goes, stage by stage, on
-- stderr at its end (`strata stylize` marks its stages: model loaded, image
-- read, forward pass, image written). Times count from bin/strata's main();
-- what came before it (exec, dynamic loading, the libraries' constructors) is
-- read from /proc/self/stat, in 10 ms steps. Each stage also shows its CPU
-- seconds (all threads) and minor page faults; the first stage's include
-- those before main(). Profiling only: a mark costs a clock read and a
-- getrusage, nothing when the variable is unset. The last line gives the wall
-- clock at the last stage's end, so a caller can time the command from its
-- own start to, say, the image written (bench/run.sh).
local core = require "strata.core"

local M = {}

local setting = os.getenv("STRATA_STAGE_TIMES")
M.enabled = setting ~= nil and setting ~= "" and setting ~= "0"
local marks = {}

-- Records that the stage `name` ended now.
function M.mark(name)
  if M.enabled then
    local cpu, faults = core.sys.usage()
    marks[#marks + 1] = { name = name, t = core.sys.since_main(), cpu = cpu, faults = faults,
      wall = core.sys.wall_clock() }
  end
end

-- The stages as text: one line each, its duration and the time since main().
function M.text(title)
  local lines = { string.format("strata stage times (%s), seconds: stage, since main(); the stage's CPU seconds and "
    .. "page faults", title) }
  local before = core.sys.before_main()
  if before then
    lines[#lines + 1] = string.format("  %-34s %7.3f  (process start to main, 10 ms steps)", "exec and dynamic loading", before)
  end
  local prev = { t = 0, cpu = 0, faults = 0 }
  for _, m in ipairs(marks) do
    lines[#lines + 1] = string.format("  %-34s %7.3f  %7.3f  %7.3f %7d", m.name, m.t - prev.t, m.t, m.cpu - prev.cpu,
      m.faults - prev.faults)
    prev = m
  end
  if #marks > 0 then
    lines[#lines + 1] = string.format("  (the last stage ended at %.6f: wall clock, seconds since the epoch)", prev.wall)
  end
  return table.concat(lines, "\n") .. "\n"
end

-- Writes M.text to stderr when enabled.
function M.report(title)
  if M.enabled then io.stderr:write(M.text(title)) end
end

return M
