/* strata.sys, the part that manages runs without a shell: folders, renames,
 * the run-folder lock, child processes and checksums (engine/io/fsops.h,
 * spawn.h, checksum.h).
 *
 *   sys.remove_tree(path)        -- rm -r that never follows a link out of the tree
 *   sys.rename(from, to), sys.chmod(path, mode), sys.is_link(path)
 *   sys.lock(path)               -- a lock object (:release(), also on close/gc), or nil, holder_pid
 *   sys.spawn(argv, {env = {K = V}, output = path, errors = path}) -- pid
 *                                (errors: stderr apart from stdout; default with it)
 *   sys.find_program(name)       -- its path from $PATH, or nil
 *   sys.wait([pid])              -- pid, exit code (128 + signal when killed)
 *   sys.self_exe(), sys.getcwd(), sys.getpid(), sys.pid_alive(pid)
 *   sys.sha256(string | CPU tensor) -- hex digest (a tensor: its float32 bytes)
 *   sys.kill_self()              -- SIGKILL to this process (test hooks only)
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../error.h"
#include "../io/checksum.h"
#include "../io/fsops.h"
#include "../io/spawn.h"
#include "lstrata.h"

#define LST_LOCK_MT "strata.Lock"

static int l_remove_tree(lua_State *L) {
  if (st_fs_remove_tree(luaL_checkstring(L, 1)) != 0) return lst_error(L);
  return 0;
}

static int l_rename(lua_State *L) {
  if (st_fs_rename(luaL_checkstring(L, 1), luaL_checkstring(L, 2)) != 0) return lst_error(L);
  return 0;
}

static int l_is_link(lua_State *L) {
  struct stat st;
  lua_pushboolean(L, lstat(luaL_checkstring(L, 1), &st) == 0 && S_ISLNK(st.st_mode));
  return 1;
}

static int l_chmod(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  if (chmod(path, (mode_t)luaL_checkinteger(L, 2)) != 0)
    return luaL_error(L, "cannot change the mode of '%s': %s", path, strerror(errno));
  return 0;
}

/* ---- the lock ---- */

static int l_lock_release(lua_State *L) {
  int *fd = luaL_checkudata(L, 1, LST_LOCK_MT);
  if (*fd >= 0) close(*fd);
  *fd = -1;
  return 0;
}

static int l_lock(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int *fd = lua_newuserdatauv(L, sizeof *fd, 0);
  *fd = -1;
  luaL_setmetatable(L, LST_LOCK_MT);
  long holder;
  int rc = st_fs_lock(path, fd, &holder);
  if (rc < 0) return lst_error(L);
  if (rc == 1) {
    lua_pushnil(L);
    lua_pushinteger(L, holder);
    return 2;
  }
  return 1;
}

/* ---- processes ---- */

/* Strings handed to C stay referenced by the tables on the Lua stack for the
 * whole call, so their pointers remain valid. */
static int l_spawn(lua_State *L) {
  lua_settop(L, 2); /* what is pushed below stays above the arguments */
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer n = luaL_len(L, 1);
  if (n < 1) return luaL_error(L, "sys.spawn: empty argument list");
  const char **argv = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *argv, 0);
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_rawgeti(L, 1, i) != LUA_TSTRING) return luaL_error(L, "sys.spawn: argument %d is not a string", (int)i);
    argv[i - 1] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  argv[n] = NULL;
  const char *out = NULL, *err = NULL;
  const char **env = NULL;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    if (lua_getfield(L, 2, "output") == LUA_TSTRING) out = lua_tostring(L, -1); /* stays on the stack */
    if (lua_getfield(L, 2, "errors") == LUA_TSTRING) err = lua_tostring(L, -1);
    if (lua_getfield(L, 2, "env") == LUA_TTABLE) {
      int envt = lua_gettop(L);
      lua_newtable(L); /* "K=V" strings, anchored here */
      int strs = lua_gettop(L), m = 0;
      lua_pushnil(L);
      while (lua_next(L, envt)) {
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
          return luaL_error(L, "sys.spawn: env must map names to strings");
        lua_pushvalue(L, -2);
        lua_pushliteral(L, "=");
        lua_pushvalue(L, -3);
        lua_concat(L, 3);
        lua_rawseti(L, strs, ++m);
        lua_pop(L, 1);
      }
      env = lua_newuserdatauv(L, (size_t)(m + 1) * sizeof *env, 0);
      for (int k = 1; k <= m; k++) {
        lua_rawgeti(L, strs, k);
        env[k - 1] = lua_tostring(L, -1);
        lua_pop(L, 1);
      }
      env[m] = NULL;
    }
  }
  pid_t pid;
  if (st_spawn(argv, env, out, err, &pid) != 0) return lst_error(L);
  lua_pushinteger(L, pid);
  return 1;
}

static int l_wait(lua_State *L) {
  pid_t got;
  int code;
  if (st_wait((pid_t)luaL_optinteger(L, 1, -1), &got, &code) != 0) return lst_error(L);
  lua_pushinteger(L, got);
  lua_pushinteger(L, code);
  return 2;
}

static int l_find_program(lua_State *L) {
  char buf[PATH_MAX];
  if (st_find_program(luaL_checkstring(L, 1), buf, sizeof buf) != 0) return 0;
  lua_pushstring(L, buf);
  return 1;
}

static int l_self_exe(lua_State *L) {
  char buf[PATH_MAX];
  if (st_self_exe(buf, sizeof buf) != 0) return lst_error(L);
  lua_pushstring(L, buf);
  return 1;
}

static int l_getcwd(lua_State *L) {
  char buf[PATH_MAX];
  if (!getcwd(buf, sizeof buf)) return luaL_error(L, "cannot read the current folder: %s", strerror(errno));
  lua_pushstring(L, buf);
  return 1;
}

static int l_getpid(lua_State *L) {
  lua_pushinteger(L, getpid());
  return 1;
}

/* Whether a process with this pid exists (EPERM: it does, someone else's). */
static int l_pid_alive(lua_State *L) {
  lua_Integer pid = luaL_checkinteger(L, 1);
  lua_pushboolean(L, pid > 0 && pid <= INT_MAX && (kill((pid_t)pid, 0) == 0 || errno == EPERM));
  return 1;
}

static int l_kill_self(lua_State *L) {
  (void)L;
  raise(SIGKILL);
  return 0;
}

static int l_sha256(lua_State *L) {
  char hex[65];
  const void *data;
  size_t n;
  if (lua_type(L, 1) == LUA_TSTRING) {
    data = lua_tolstring(L, 1, &n);
  } else {
    st_tensor *t = lst_check_tensor(L, 1);
    if (st_tensor_device(t).kind != ST_CPU) return luaL_error(L, "sys.sha256: the tensor must be on the CPU");
    data = st_tensor_data(t);
    n = (size_t)t->numel * sizeof(float);
  }
  if (st_sha256_hex(data, n, hex) != 0) return lst_error(L);
  lua_pushstring(L, hex);
  return 1;
}

static const luaL_Reg functions[] = {
    {"remove_tree", l_remove_tree},
    {"rename", l_rename},     {"chmod", l_chmod},             {"lock", l_lock},
    {"spawn", l_spawn},       {"wait", l_wait},               {"self_exe", l_self_exe},
    {"getcwd", l_getcwd},     {"getpid", l_getpid},           {"pid_alive", l_pid_alive},
    {"sha256", l_sha256},     {"kill_self", l_kill_self},     {"is_link", l_is_link},
    {"find_program", l_find_program},
    {NULL, NULL}};

void lst_add_sys_run(lua_State *L) {
  if (luaL_newmetatable(L, LST_LOCK_MT)) {
    lua_newtable(L);
    lua_pushcfunction(L, l_lock_release);
    lua_setfield(L, -2, "release");
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_lock_release);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, l_lock_release);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1);
  luaL_setfuncs(L, functions, 0);
}
