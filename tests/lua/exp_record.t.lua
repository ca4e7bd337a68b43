-- strata.exp_record: the settings record a checkpoint carries and the resume
-- comparison (lua/strata/exp_record.lua), including schedule tables and
-- function values (compared by bytecode and captured values).
local tap = require "strata.tap"
local experiment = require "strata.experiment"
local rec = require "strata.exp_record"

local function exp_with(f)
  local e = experiment.defaults()
  if f then f(e) end
  return e
end
local function keys(diffs)
  local out = {}
  for _, d in ipairs(diffs) do out[#out + 1] = d.key end
  return table.concat(out, " ")
end

local base = exp_with()
local text = rec.encode(base)
tap.is(#rec.diff(text, exp_with(), "computed"), 0, "the same experiment: no differences")
tap.ok(not text:find("schedule.iterations", 1, true) and not text:find("\nrun = ", 1, true)
  and not text:find("output.dir", 1, true), "safe keys (iterations, run, output.dir) are not in the record")
tap.ok(text:find("optim.lr = 0.001\n", 1, true) and text:find("model.channels = { 32, 64, 128 }\n", 1, true),
  "the record has one line per setting, lists inline")

local d = rec.diff(text, exp_with(function(e) e.optim.lr = 0.5; e.seed = 3; e.schedule.iterations = 99 end), "computed")
tap.is(keys(d), "optim.lr seed", "changed lr and seed are found; iterations is not compared")
tap.is(d[1].old .. " -> " .. d[1].new, "0.001 -> 0.5", "with both values")

local all = rec.diff(rec.flatten(base), exp_with(function(e) e.schedule.iterations = 99 end), "all")
tap.ok(#all == 1 and all[1].key == "schedule.iterations" and all[1].safe, "a full comparison finds the safe change, marked safe")

-- Schedules as tables.
local t1 = rec.encode(exp_with(function(e) e.optim.lr = { { 0, 1e-3 }, { 100, 1e-4 } } end))
tap.is(#rec.diff(t1, exp_with(function(e) e.optim.lr = { { 0, 1e-3 }, { 100, 1e-4 } } end), "computed"), 0,
  "the same table schedule: equal")
tap.is(keys(rec.diff(t1, exp_with(function(e) e.optim.lr = { { 0, 1e-3 }, { 200, 1e-4 } } end), "computed")),
  "optim.lr", "a table schedule with another step: differs")

-- Functions: bytecode plus captured values; the same text compiled twice is equal.
local src = "return function(it) return 0.01 * 0.5 ^ (it // 10) end"
local f1, f2 = load(src)(), load(src)()
local f3 = load("return function(it) return 0.02 * 0.5 ^ (it // 10) end")()
local function with_rate(k) return function(it) return k / it end end
local fr = rec.encode(exp_with(function(e) e.optim.lr = f1 end))
tap.ok(fr:find("optim.lr = function %x+\n"), "a function is recorded as a digest")
tap.is(#rec.diff(fr, exp_with(function(e) e.optim.lr = f2 end), "computed"), 0, "the same function text: equal")
tap.is(keys(rec.diff(fr, exp_with(function(e) e.optim.lr = f3 end), "computed")), "optim.lr", "another constant: differs")
local u = rec.encode(exp_with(function(e) e.optim.lr = with_rate(1) end))
tap.is(#rec.diff(u, exp_with(function(e) e.optim.lr = with_rate(1) end), "computed"), 0, "same captured value: equal")
tap.is(keys(rec.diff(u, exp_with(function(e) e.optim.lr = with_rate(2) end), "computed")), "optim.lr",
  "another captured value: differs")
local function rec_fn(it) return it > 0 and rec_fn(it - 1) or 0 end
tap.ok(pcall(rec.encode, exp_with(function(e) e.optim.lr = rec_fn end)), "a function that refers to itself is recorded")

-- Strings with line breaks stay on one line.
local s = rec.encode(exp_with(function(e) e.style.image = "a\nb" end))
tap.ok(s:find('style.image = "a\\nb"\n', 1, true), "a line break in a string is escaped")

tap.done()
