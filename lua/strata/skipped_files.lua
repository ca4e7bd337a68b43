-- The training images the data loader could not read: the first few are
-- named in the progress output as they are met, all of them (this session's
-- and earlier sessions') are listed in <run>/skipped_files.txt, one
-- "path<TAB>reason" per line.
local core = require "strata.core"

local M = {}

local SHOW = 5 -- named in the progress output; the rest only in the file

local Tracker = {}
Tracker.__index = Tracker

function M.tracker(ds, run_dir)
  local t = setmetatable({ ds = ds, path = run_dir .. "/skipped_files.txt", seen = 0, shown = 0, known = {}, lines = {} }, Tracker)
  local f = io.open(t.path, "r") -- earlier sessions' list
  if f then
    for line in f:lines() do
      local p = line:match("^([^\t]+)")
      if p and not t.known[p] then t.known[p], t.lines[#t.lines + 1] = true, line end
    end
    f:close()
  end
  return t
end

-- Takes note of files skipped since the last call.
function Tracker:update()
  local n = self.ds:skipped()
  while self.seen < n do
    self.seen = self.seen + 1
    local path, why = self.ds:skipped_file(self.seen)
    why = why:gsub("[\r\n\t]", " ")
    if not self.known[path] then
      self.known[path] = true
      self.lines[#self.lines + 1] = path .. "\t" .. why
      self.dirty = true
    end
    if self.shown < SHOW then
      self.shown = self.shown + 1
      io.stdout:write(string.format("skipping unreadable training image %s: %s\n", path, why))
      io.stdout:flush()
    elseif self.shown == SHOW then
      self.shown = self.shown + 1
      io.stdout:write("(further unreadable images are listed in skipped_files.txt only)\n")
    end
  end
end

-- Unreadable files known to this run (all sessions).
function Tracker:count() return #self.lines end

function Tracker:write()
  self:update()
  if self.dirty then core.sys.write_atomic(self.path, table.concat(self.lines, "\n") .. "\n") end
  self.dirty = false
end

return M
