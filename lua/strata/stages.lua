-- STRATA_STAGE_TIMES=1: where a command's wall time goes, stage by stage, on
-- stderr at its end (`strata stylize` marks its stages: model loaded, image
-- read, forward pass, image written). Times count from bin/strata's main();
-- what came before it (exec, dynamic loading, the re-exec of engine/main.c)
-- is read from /proc/self/stat, in 10 ms steps. Profiling only: a mark costs
-- one clock read, nothing when the variable is unset.
local core = require "strata.core"

local M = {}

local setting = os.getenv("STRATA_STAGE_TIMES")
M.enabled = setting ~= nil and setting ~= "" and setting ~= "0"
local marks = {}

-- Records that the stage `name` ended now.
function M.mark(name)
  if M.enabled then marks[#marks + 1] = { name = name, t = core.sys.since_main() } end
end

-- The stages as text: one line each, its duration and the time since main().
function M.text(title)
  local lines = { string.format("strata stage times (%s), seconds: stage, since main()", title) }
  local before = core.sys.before_main()
  if before then
    lines[#lines + 1] = string.format("  %-34s %7.3f  (process start to main, 10 ms steps)", "exec and dynamic loading", before)
  end
  local prev = 0
  for _, m in ipairs(marks) do
    lines[#lines + 1] = string.format("  %-34s %7.3f  %7.3f", m.name, m.t - prev, m.t)
    prev = m.t
  end
  return table.concat(lines, "\n") .. "\n"
end

-- Writes M.text to stderr when enabled.
function M.report(title)
  if M.enabled then io.stderr:write(M.text(title)) end
end

return M
