/* bin/strata: embeds Lua 5.4 and hands the command line to lua/strata/cli.lua.
 *
 * The Lua library is found in $STRATA_HOME/lua, else next to the binary
 * (<bin>/../lua). Errors print one line "strata: <message>" and exit 1; with
 * STRATA_DEBUG=1 they also print the Lua traceback. */
#include <lauxlib.h>
#include <libgen.h>
#include <limits.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/cpu/blas_threads.h"
#include "lua/lstrata.h"
#include "memory.h"

/* The error's text: strata.util.error_text (lua/strata/util.lua) describes
 * a table error value and moves a library-internal position to the end; with
 * STRATA_DEBUG=1 the Lua traceback follows. The raw text if that fails. */
static int message_handler(lua_State *L) {
  const char *debug = getenv("STRATA_DEBUG");
  int verbose = debug && *debug && strcmp(debug, "0") != 0;
  const char *msg = NULL;
  int top = lua_gettop(L);
  luaL_where(L, 2); /* the code that called error(), for a value without a position */
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "strata.util") == LUA_TTABLE && lua_getfield(L, -1, "error_text") == LUA_TFUNCTION) {
    lua_pushvalue(L, 1);
    lua_pushvalue(L, top + 1);
    lua_pushboolean(L, verbose);
    if (lua_pcall(L, 3, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) msg = lua_tostring(L, -1);
  }
  if (!msg) msg = lua_tostring(L, 1);
  if (!msg) msg = luaL_tolstring(L, 1, NULL);
  if (verbose) luaL_traceback(L, L, msg, 1);
  else lua_pushstring(L, msg);
  return 1;
}

/* The directory holding lua/strata, as an absolute path. */
static void find_home(char *out, size_t n) {
  const char *env = getenv("STRATA_HOME");
  if (env && *env) {
    snprintf(out, n, "%s", env);
    return;
  }
  char exe[PATH_MAX];
  ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (k <= 0) {
    snprintf(out, n, ".");
    return;
  }
  exe[k] = '\0';
  snprintf(out, n, "%s/..", dirname(exe)); /* <home>/bin/strata */
}

int main(int argc, char **argv) {
  /* libgomp's spin count was set before libgomp loaded, and OpenBLAS held
   * to one thread until its first call: engine/omp_env.c. */
  lst_mark_main(); /* STRATA_STAGE_TIMES counts from here */
  st_blas_threads_init();
  /* Test hook: STRATA_FAIL_ALLOC_AFTER=N runs out of memory at the N-th
   * allocation of tensor memory (tests/bad_input/train_failures.t.sh). */
  const char *fail_alloc = getenv("STRATA_FAIL_ALLOC_AFTER");
  if (fail_alloc && *fail_alloc) st_mem_fail_after(atol(fail_alloc));

  lua_State *L = luaL_newstate();
  if (!L) {
    fprintf(stderr, "strata: cannot create the Lua state (out of memory)\n");
    return 1;
  }
  luaL_openlibs(L);
  luaL_requiref(L, "strata.core", luaopen_strata_core, 0);
  lua_pop(L, 1);

  char home[PATH_MAX], path[3 * PATH_MAX];
  find_home(home, sizeof home);
  lua_getglobal(L, "package");
  snprintf(path, sizeof path, "%s/lua/?.lua;%s/lua/?/init.lua;", home, home);
  lua_getfield(L, -1, "path");
  lua_pushfstring(L, "%s%s", path, lua_tostring(L, -1));
  lua_setfield(L, -3, "path");
  lua_pop(L, 2);
  lua_pushstring(L, home);
  lua_setglobal(L, "STRATA_HOME");

  lua_pushcfunction(L, message_handler);
  lua_getglobal(L, "require");
  lua_pushstring(L, "strata.cli");
  int rc = lua_pcall(L, 1, 1, 1);
  if (rc == LUA_OK) {
    lua_getfield(L, -1, "main");
    lua_createtable(L, argc, 0);
    for (int i = 1; i < argc; i++) {
      lua_pushstring(L, argv[i]);
      lua_rawseti(L, -2, i);
    }
    rc = lua_pcall(L, 1, 1, 1);
  }
  int status = 0;
  if (rc != LUA_OK) {
    fprintf(stderr, "strata: %s\n", lua_tostring(L, -1));
    status = 1;
  } else if (lua_isinteger(L, -1)) {
    status = (int)lua_tointeger(L, -1);
  }
  fflush(stdout);
  lua_close(L);
  return status;
}
