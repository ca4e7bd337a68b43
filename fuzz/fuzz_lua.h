/* Shared by the libFuzzer targets that drive strata's Lua library: a fresh
 * Lua state per input with the strata library, at most 64 MiB of Lua memory
 * and a budget of Lua instructions, so that every input ends quickly. */
#ifndef STRATA_FUZZ_LUA_H
#define STRATA_FUZZ_LUA_H

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/lua/lstrata.h"

#define FUZZ_LUA_MEMORY ((size_t)64 << 20)
#define FUZZ_LUA_BUDGET 2000000L /* Lua VM instructions, checked every 1000 */

static size_t fuzz_lua_bytes;
static long fuzz_lua_instructions;

static void *fuzz_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  size_t old = ptr ? osize : 0; /* without ptr, osize is a type tag */
  if (nsize == 0) {
    free(ptr);
    fuzz_lua_bytes -= old;
    return NULL;
  }
  if (nsize > old && fuzz_lua_bytes - old + nsize > FUZZ_LUA_MEMORY) return NULL;
  void *p = realloc(ptr, nsize);
  if (p) fuzz_lua_bytes = fuzz_lua_bytes - old + nsize;
  return p;
}

static void fuzz_lua_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  fuzz_lua_instructions += 1000;
  if (fuzz_lua_instructions > FUZZ_LUA_BUDGET) luaL_error(L, "fuzz: instruction budget spent");
}

/* A new state with the standard libraries, strata.core and package.path on
 * $STRATA_HOME/lua (else ./lua); NULL when out of memory. */
static inline lua_State *fuzz_lua_new(void) {
  fuzz_lua_bytes = 0;
  fuzz_lua_instructions = 0;
  lua_State *L = lua_newstate(fuzz_lua_alloc, NULL);
  if (!L) return NULL;
  luaL_openlibs(L);
  luaL_requiref(L, "strata.core", luaopen_strata_core, 0);
  lua_pop(L, 1);
  const char *home = getenv("STRATA_HOME");
  if (!home || !*home) home = ".";
  lua_getglobal(L, "package");
  lua_pushfstring(L, "%s/lua/?.lua;%s/lua/?/init.lua", home, home);
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);
  return L;
}

/* Loads the harness chunk `driver` (aborting when it does not compile: the
 * harness is broken, not the input); push its arguments next, then call
 * fuzz_lua_run. */
static inline void fuzz_lua_load(lua_State *L, const char *driver, const char *name) {
  if (luaL_loadbufferx(L, driver, strlen(driver), name, "t") != LUA_OK) {
    fprintf(stderr, "%s: %s\n", name, lua_tostring(L, -1));
    abort();
  }
}

/* Runs the loaded chunk with nargs arguments under the instruction budget;
 * the status of lua_pcall, its one result (or error) on the stack. */
static inline int fuzz_lua_run(lua_State *L, int nargs) {
  lua_sethook(L, fuzz_lua_hook, LUA_MASKCOUNT, 1000);
  return lua_pcall(L, nargs, 1, 0);
}

/* A harness may report that strata's library broke a promise (not the
 * input's fault) by returning a string starting "BUG:"; that aborts. */
static inline void fuzz_lua_check(lua_State *L, int rc, const char *target) {
  const char *s = lua_tostring(L, -1);
  if (rc == LUA_OK && s && strncmp(s, "BUG:", 4) == 0) {
    fprintf(stderr, "%s: %s\n", target, s);
    abort();
  }
}

#endif
