/* strata.pipe: child processes joined by a pipe (engine/io/pipe.h)
 *   p = pipe.open(argv, "r" | "w", [stderr_path])  -- argv a list; no shell
 *   p:read_frame(t) -> true, or false at the end   -- t [3,H,W] filled from rgb24
 *   p:write_frame(t)                                -- t [3,H,W] as rgb24
 *   p:read_all() -> string                          -- the rest of the child's stdout
 *   p:close() -> exit code                          -- closes our end, waits (128 + signal when killed)
 * A pipe the collector finds open is closed and its child waited for. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../io/pipe.h"
#include "../io/spawn.h"
#include "lstrata.h"

#define PIPE_MT "strata.Pipe"
#define MAX_ARGS 128

typedef struct {
  pid_t pid;
  int fd;
} lpipe;

static lpipe *check(lua_State *L) {
  lpipe *p = luaL_checkudata(L, 1, PIPE_MT);
  if (p->fd < 0) luaL_error(L, "pipe: already closed");
  return p;
}

/* Closes our end and waits; the exit code, or -1 with an error. */
static int finish(lpipe *p, int *code) {
  close(p->fd);
  p->fd = -1;
  pid_t got;
  return st_wait(p->pid, &got, code);
}

static int l_open(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  const char *mode = luaL_checkstring(L, 2);
  const char *err = luaL_optstring(L, 3, NULL);
  if (strcmp(mode, "r") && strcmp(mode, "w")) return luaL_error(L, "pipe.open: mode must be \"r\" or \"w\"");
  const char *argv[MAX_ARGS + 1];
  lua_Integer n = luaL_len(L, 1);
  if (n < 1 || n > MAX_ARGS) return luaL_error(L, "pipe.open: between 1 and %d arguments", MAX_ARGS);
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_rawgeti(L, 1, i) != LUA_TSTRING) return luaL_error(L, "pipe.open: argument %d is not a string", (int)i);
    argv[i - 1] = lua_tostring(L, -1); /* kept alive by the table */
    lua_pop(L, 1);
  }
  argv[n] = NULL;
  lpipe *p = lua_newuserdatauv(L, sizeof *p, 0);
  p->fd = -1;
  luaL_setmetatable(L, PIPE_MT);
  if (st_pipe_open(argv, mode[0] == 'r' ? ST_PIPE_READ : ST_PIPE_WRITE, err, &p->pid, &p->fd)) return lst_error(L);
  return 1;
}

static int l_read_frame(lua_State *L) {
  lpipe *p = check(L);
  int r = st_pipe_read_frame(p->fd, lst_check_tensor(L, 2));
  if (r < 0) return lst_error(L);
  lua_pushboolean(L, r == 1);
  return 1;
}

static int l_write_frame(lua_State *L) {
  lpipe *p = check(L);
  if (st_pipe_write_frame(p->fd, lst_check_tensor(L, 2))) return lst_error(L);
  return 0;
}

static int l_read_all(lua_State *L) {
  lpipe *p = check(L);
  char *buf;
  size_t n;
  if (st_pipe_read_all(p->fd, (size_t)1 << 24, &buf, &n)) return lst_error(L);
  lua_pushlstring(L, buf, n);
  free(buf);
  return 1;
}

static int l_close(lua_State *L) {
  lpipe *p = check(L);
  int code;
  if (finish(p, &code)) return lst_error(L);
  lua_pushinteger(L, code);
  return 1;
}

static int l_gc(lua_State *L) {
  lpipe *p = luaL_checkudata(L, 1, PIPE_MT);
  int code;
  if (p->fd >= 0) finish(p, &code);
  return 0;
}

void lst_open_pipe(lua_State *L) {
  static const luaL_Reg methods[] = { { "read_frame", l_read_frame }, { "write_frame", l_write_frame },
                                      { "read_all", l_read_all },     { "close", l_close },
                                      { "__gc", l_gc },               { NULL, NULL } };
  if (luaL_newmetatable(L, PIPE_MT)) {
    luaL_setfuncs(L, methods, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  static const luaL_Reg fns[] = { { "open", l_open }, { NULL, NULL } };
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "pipe");
}
