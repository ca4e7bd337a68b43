/* libFuzzer target: experiment files. The input is run as a Lua experiment
 * file (text only) in a fresh Lua state with the strata library, and what it
 * returns is resolved with strata.experiment (defaults, key checks, --set
 * overrides, value checks), and merged without the value checks and
 * serialized. Lines "--set KEY=VALUE" (Lua comments) are also
 * applied as --set overrides. Any Lua error is fine; a crash, a leak,
 * undefined behaviour, or serialized text that does not load back to the same
 * values is a finding.
 *
 * The file runs sandboxed, as hostile input must: only pure functions in its
 * environment (no io, os, require, load or string patterns, which can take
 * exponential time), with fuzz_lua.h's memory and instruction limits. */
#include "fuzz_lua.h"

/* The harness, in Lua: sandbox the input, resolve what it returns. */
static const char *driver =
    "local source, sets = ...\n"
    "local experiment = require 'strata.experiment'\n"
    "local safe = { assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, pcall = pcall,\n"
    "  rawequal = rawequal, rawget = rawget, rawlen = rawlen, rawset = rawset, select = select,\n"
    "  getmetatable = getmetatable, setmetatable = setmetatable, tonumber = tonumber, tostring = tostring,\n"
    "  type = type, xpcall = xpcall, math = math, table = table, utf8 = utf8,\n"
    "  string = { byte = string.byte, char = string.char, format = string.format, len = string.len,\n"
    "             lower = string.lower, rep = string.rep, reverse = string.reverse, sub = string.sub,\n"
    "             upper = string.upper } }\n"
    "safe._G = safe\n"
    "local chunk = load(source, '=fuzz', 't', safe)\n"
    "local t = chunk and select(2, pcall(chunk))\n"
    "if type(t) ~= 'table' then t = {} end\n"
    "pcall(experiment.resolve, t, 'fuzz', sets)\n" /* the value checks: any Lua error is fine */
    "local ok, exp = pcall(experiment.merge_all, t, 'fuzz', sets)\n" /* serialize every mergeable table */
    "if not ok then return 'rejected' end\n"
    "local sok, text = pcall(experiment.serialize, exp)\n"
    "if not sok or type(text) ~= 'string' then return 'rejected' end\n"
    "local chunk = load('return ' .. text, '=serialized', 't', {})\n"
    "if not chunk then return 'unloadable: ' .. text end\n"
    "local function same(a, b)\n"
    "  if type(a) ~= 'table' or type(b) ~= 'table' then return rawequal(a, b) or (a ~= a and b ~= b) end\n"
    "  for k, v in next, a do if not same(v, rawget(b, k)) then return false end end\n"
    "  for k in next, b do if rawget(a, k) == nil then return false end end\n"
    "  return true\n"
    "end\n"
    "local okb, back = pcall(chunk)\n"
    "if okb and not same(exp, back) then return 'unloadable: loads back different: ' .. text end\n"
    "return 'ok'\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = fuzz_lua_new();
  if (!L) return 0;
  fuzz_lua_load(L, driver, "=driver");
  lua_pushlstring(L, (const char *)data, size);
  /* --set lines */
  lua_newtable(L);
  int k = 0;
  for (size_t i = 0; i < size;) {
    size_t j = i;
    while (j < size && data[j] != '\n') j++;
    if (j - i > 6 && memcmp(data + i, "--set ", 6) == 0) {
      lua_pushlstring(L, (const char *)data + i + 6, j - i - 6);
      lua_rawseti(L, -2, ++k);
    }
    i = j + 1;
  }
  int rc = fuzz_lua_run(L, 2);
  if (rc == LUA_OK) {
    /* A resolved experiment must serialize to Lua that loads back to the
     * same values: runs write it to results/.../experiment.lua. */
    const char *status = lua_tostring(L, -1);
    if (status && strncmp(status, "unloadable", 10) == 0) {
      fprintf(stderr, "fuzz_experiment: experiment.serialize gave text that does not load back:\n%s\n", status);
      abort();
    }
  }
  lua_close(L);
  return 0;
}
