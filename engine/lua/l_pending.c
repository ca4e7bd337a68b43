/* Work started in C and finished later, as a Lua handle (image.read_async,
 * weights.load_async): pending:wait() finishes it once and returns its
 * result or raises its error; a handle collected unwaited abandons the work
 * (waits for it and drops the result). */
#include <stdlib.h>
#include <string.h>

#include "lstrata.h"

#define PENDING_MT "strata.Pending"

static int l_wait(lua_State *L) {
  lst_pending *u = luaL_checkudata(L, 1, PENDING_MT);
  if (!u->work) return luaL_error(L, "%s: already waited for", u->what);
  void *work = u->work;
  u->work = NULL;
  return u->finish(L, work, u->path);
}

static int l_gc(lua_State *L) {
  lst_pending *u = luaL_checkudata(L, 1, PENDING_MT);
  if (u->work) u->abandon(u->work);
  u->work = NULL;
  free(u->path);
  u->path = NULL;
  return 0;
}

lst_pending *lst_new_pending(lua_State *L, const char *what, const char *path, lst_finish_fn finish,
                             lst_abandon_fn abandon) {
  if (luaL_newmetatable(L, PENDING_MT)) {
    static const luaL_Reg methods[] = {{"wait", l_wait}, {"__gc", l_gc}, {NULL, NULL}};
    luaL_setfuncs(L, methods, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  lst_pending *u = lua_newuserdatauv(L, sizeof *u, 0);
  memset(u, 0, sizeof *u);
  luaL_setmetatable(L, PENDING_MT);
  u->what = what;
  u->finish = finish;
  u->abandon = abandon;
  if (!(u->path = strdup(path))) luaL_error(L, "%s: out of memory", path);
  return u;
}
