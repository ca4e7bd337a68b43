/* strata.data: training images from a folder (engine/io/dataset.h).
 *
 *   local ds = strata.data.open(dir, size, batch, seed)
 *   ds:count()             -- image files listed (unreadable ones included)
 *   ds:path(i)             -- i-th file in sorted order, 1-based
 *   ds:batches()           -- batches per epoch, floor(count / batch)
 *   ds:seek(epoch, k)      -- next :next() delivers batch k of epoch `epoch`; both 0-based
 *   ds:next()              -- tensor [batch, 3, size, size] (CPU, 0..255), epoch, k (0-based)
 *   ds:skipped()           -- distinct unreadable files skipped so far, last message ("" if none)
 *   ds:skipped_file(i)     -- the i-th of them (1-based, first met first): path, message
 *   ds:close()             -- stops the prefetch thread now (also done by __gc)
 *
 * The userdata owns the dataset; its prefetch thread never calls Lua. */
#include "../error.h"
#include "../io/dataset.h"
#include "lstrata.h"

#define LST_DATASET_MT "strata.Dataset"

static st_dataset *check_ds(lua_State *L) {
  st_dataset **p = luaL_checkudata(L, 1, LST_DATASET_MT);
  if (!*p) luaL_argerror(L, 1, "dataset already closed");
  return *p;
}

static int check_int(lua_State *L, int idx, const char *what) {
  lua_Integer v = luaL_checkinteger(L, idx);
  if (v < 1 || v > 1 << 30) return luaL_error(L, "strata.data.open: %s must be a positive integer, got %I", what, v);
  return (int)v;
}

/* open(dir, size, batch, seed) */
static int l_open(lua_State *L) {
  const char *dir = luaL_checkstring(L, 1);
  int size = check_int(L, 2, "size");
  int batch = check_int(L, 3, "batch");
  uint64_t seed = (uint64_t)luaL_checkinteger(L, 4);
  st_dataset **p = lua_newuserdatauv(L, sizeof *p, 0);
  *p = NULL;
  luaL_setmetatable(L, LST_DATASET_MT);
  if (!(*p = st_dataset_open(dir, size, batch, seed))) return lst_error(L);
  return 1;
}

static int l_count(lua_State *L) {
  lua_pushinteger(L, st_dataset_count(check_ds(L)));
  return 1;
}

static int l_batches(lua_State *L) {
  lua_pushinteger(L, st_dataset_batches_per_epoch(check_ds(L)));
  return 1;
}

static int l_path(lua_State *L) {
  st_dataset *d = check_ds(L);
  lua_Integer i = luaL_checkinteger(L, 2);
  if (i < 1 || i > st_dataset_count(d))
    return luaL_error(L, "dataset:path(%I): index outside 1..%I", i, (lua_Integer)st_dataset_count(d));
  lua_pushstring(L, st_dataset_path(d, i - 1));
  return 1;
}

static int l_seek(lua_State *L) {
  st_dataset *d = check_ds(L);
  if (st_dataset_seek(d, luaL_checkinteger(L, 2), luaL_checkinteger(L, 3)) != 0) return lst_error(L);
  return 0;
}

static int l_next(lua_State *L) {
  st_dataset *d = check_ds(L);
  const int b = st_dataset_batch_size(d), n = st_dataset_image_size(d);
  st_tensor *out = st_tensor_new4(b, 3, n, n, st_cpu());
  if (!out) return lst_error(L);
  int64_t epoch, k;
  if (st_dataset_next(d, out, &epoch, &k) != 0) {
    st_tensor_release(out);
    return lst_error(L);
  }
  lst_push_tensor(L, out);
  lua_pushinteger(L, epoch);
  lua_pushinteger(L, k);
  return 3;
}

static int l_skipped(lua_State *L) {
  st_dataset *d = check_ds(L);
  lua_pushinteger(L, st_dataset_skipped(d));
  lua_pushstring(L, st_dataset_last_skip_message(d));
  return 2;
}

static int l_skipped_file(lua_State *L) {
  st_dataset *d = check_ds(L);
  lua_Integer i = luaL_checkinteger(L, 2);
  const char *path = st_dataset_skipped_path(d, i - 1);
  if (!path) return luaL_error(L, "dataset:skipped_file(%I): index outside 1..%I", i, (lua_Integer)st_dataset_skipped(d));
  lua_pushstring(L, path);
  lua_pushstring(L, st_dataset_skipped_message(d, i - 1));
  return 2;
}

static int l_close(lua_State *L) {
  st_dataset **p = luaL_checkudata(L, 1, LST_DATASET_MT);
  st_dataset_close(*p);
  *p = NULL;
  return 0;
}

static const luaL_Reg methods[] = {{"count", l_count}, {"batches", l_batches}, {"path", l_path},
                                   {"seek", l_seek},   {"next", l_next},       {"skipped", l_skipped},
                                   {"skipped_file", l_skipped_file}, {"close", l_close}, {NULL, NULL}};

static const luaL_Reg functions[] = {{"open", l_open}, {NULL, NULL}};

void lst_open_data(lua_State *L) {
  if (luaL_newmetatable(L, LST_DATASET_MT)) {
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, l_close);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1);
  luaL_newlib(L, functions);
  lua_setfield(L, -2, "data");
}
