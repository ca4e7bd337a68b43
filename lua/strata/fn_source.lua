-- The source text of a Lua function, so that a function in an experiment (a
-- learning-rate schedule, a loss term's value and grad) is recorded in the
-- resolved experiment.lua as code that reloads to the same function.
--
-- The text comes from the file (or string) the function was compiled from,
-- between the lines debug.getinfo gives; it is accepted only when it compiles
-- to the same bytecode as the function itself (string.dump, debug information
-- stripped) at the same lines. A function may use its arguments, its own locals and globals
-- (require included) but no local variable from outside it: such an upvalue
-- would be lost in the record, so it is an error.
local util = require "strata.util"

local M = {}

local function source_lines(source)
  local text
  if source:sub(1, 1) == "@" then
    local f = io.open(source:sub(2), "r")
    if not f then return nil end
    text = f:read("a")
    f:close()
  elseif source:sub(1, 1) ~= "=" then
    text = source -- a chunk loaded from a string names itself by its text
  else
    return nil
  end
  local lines = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  return lines
end

-- Start positions of the word `w` in line s.
local function word_positions(s, w)
  local out, i = {}, 1
  while true do
    local a = s:find("%f[%w_]" .. w .. "%f[^%w_]", i)
    if not a then return out end
    out[#out + 1] = a
    i = a + 1
  end
end

-- The function's source text ("function(...) ... end"); errors name `where`.
function M.text(f, where)
  local info = debug.getinfo(f, "Su")
  if info.what ~= "Lua" then util.fail("%s: a C function cannot be recorded in experiment.lua", where) end
  for i = 1, info.nups do
    local name = debug.getupvalue(f, i)
    if name ~= "_ENV" then
      util.fail("%s: the function uses '%s', a local variable from outside it; experiment.lua records functions "
        .. "by their source text, so a function may use only its arguments, its own locals and globals "
        .. "(write e.g. local ops = require(\"strata\").ops inside it)", where, tostring(name))
    end
  end
  local lines = info.source and source_lines(info.source)
  local first, last = info.linedefined, info.lastlinedefined
  if lines and first > 0 and lines[first] and lines[last] then
    local want = string.dump(f, true)
    for _, s in ipairs(word_positions(lines[first], "function")) do
      local head = { lines[first]:sub(s) }
      for l = first + 1, last - 1 do head[#head + 1] = lines[l] end
      for _, e in ipairs(word_positions(lines[last], "end")) do
        local body
        if first == last then
          if e > s then body = lines[first]:sub(s, e + 2) end
        else
          body = table.concat(head, "\n") .. "\n" .. lines[last]:sub(1, e + 2)
        end
        -- (the dump keeps the first and last line numbers: compile it where it stood)
        local chunk = body and load(string.rep("\n", first - 1) .. "return " .. body, "=fn_source", "t")
        if chunk then
          local ok, g = pcall(chunk)
          if ok and type(g) == "function" and string.dump(g, true) == want then return body end
        end
      end
    end
  end
  util.fail("%s: cannot recover the source text of the function defined at %s:%d (define it in the experiment "
    .. "file itself, not in a string or another chunk)", where, tostring(info.short_src), first)
end

return M
