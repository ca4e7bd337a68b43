/* strata.weights: HDF5 weight files and importers, as Lua tables
 *   { params = {name = tensor, ...}, order = {name, ...}, attrs = {key = value, ...}, path = ... } */
#include <string.h>

#include "../error.h"
#include "../io/import_engstrom.h"
#include "../io/import_fcrn.h"
#include "../io/import_keras_vgg19.h"
#include "../io/isolate.h"
#include "../io/weights.h"
#include "lstrata.h"

/* Converts w into the Lua table described above and frees w. */
static int push_weights(lua_State *L, st_weights *w, const char *path) {
  if (!w) return lst_error(L);
  lua_createtable(L, 0, 4);
  int n = st_weights_count(w);
  lua_createtable(L, 0, n); /* params */
  lua_createtable(L, n, 0); /* order */
  for (int i = 0; i < n; i++) {
    st_tensor *t = st_weights_at(w, i);
    st_tensor_retain(t);
    lst_push_tensor(L, t);
    lua_setfield(L, -3, st_weights_name(w, i));
    lua_pushstring(L, st_weights_name(w, i));
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -3, "order");
  lua_setfield(L, -2, "params");
  lua_createtable(L, 0, st_weights_attr_count(w));
  for (int i = 0; i < st_weights_attr_count(w); i++) {
    const char *k = st_weights_attr_key(w, i);
    lua_pushstring(L, st_weights_get_attr(w, k));
    lua_setfield(L, -2, k);
  }
  lua_setfield(L, -2, "attrs");
  lua_pushstring(L, path);
  lua_setfield(L, -2, "path");
  st_weights_free(w);
  return 1;
}

static int l_load(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  return push_weights(L, st_weights_load(path), path);
}

/* load_async(path) -> pending: the child process that parses the file is
 * forked now; pending:wait() returns what load(path) would (or raises its
 * error). Threads started in between do not exist in the child (strata
 * stylize decodes its image on one while the model loads). A pending load
 * collected unwaited is received and dropped, and its child reaped. */
static int finish_load(lua_State *L, void *work, const char *path) {
  return push_weights(L, st_load_isolated_finish(work), path);
}

static void abandon_load(void *work) { st_weights_free(st_load_isolated_finish(work)); }

static int l_load_async(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lst_pending *u = lst_new_pending(L, "weights load_async", path, finish_load, abandon_load);
  if (!(u->work = st_weights_load_start(path))) return lst_error(L);
  return 1;
}

static int l_import_engstrom(lua_State *L) {
  const char *dir = luaL_checkstring(L, 1);
  return push_weights(L, st_import_engstrom(dir), dir);
}

static int l_import_keras_vgg19(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  return push_weights(L, st_import_keras_vgg19(path), path);
}

static int l_import_fcrn(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  return push_weights(L, st_import_fcrn(path), path);
}

/* save(path, {params = {...}, order = {...}?, attrs = {...}?}); names are written in
 * `order` when given, else sorted. Tensors on a GPU are copied back. */
static int l_save(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  st_weights *w = st_weights_new();
  if (!w) return lst_error(L);
  lua_getfield(L, 2, "params");
  if (!lua_istable(L, -1)) {
    st_weights_free(w);
    return luaL_error(L, "weights.save: the table needs a 'params' table of tensors");
  }
  int params = lua_gettop(L);
  /* names: `order` if present, else the sorted keys of params */
  lua_getfield(L, 2, "order");
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
    int keys = lua_gettop(L), k = 0;
    for (lua_pushnil(L); lua_next(L, params); lua_pop(L, 1)) {
      lua_pushvalue(L, -2);
      lua_rawseti(L, keys, ++k);
    }
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_pushvalue(L, keys);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
  }
  int order = lua_gettop(L);
  int rc = 0;
  for (lua_Integer i = 1; rc == 0 && i <= luaL_len(L, order); i++) {
    lua_geti(L, order, i);
    const char *name = lua_tostring(L, -1);
    lua_getfield(L, params, name);
    st_tensor **p = luaL_testudata(L, -1, LST_TENSOR_MT);
    if (!name || !p || !*p) {
      st_weights_free(w);
      return luaL_error(L, "weights.save: parameter '%s' is not a tensor", name ? name : "?");
    }
    st_tensor *t = *p;
    int on_cpu = st_tensor_device(t).kind == ST_CPU;
    if (!on_cpu && !(t = st_tensor_to(t, st_cpu()))) rc = -1;
    if (rc == 0) rc = st_weights_set(w, name, t);
    if (!on_cpu) st_tensor_release(t);
    lua_pop(L, 2);
  }
  lua_getfield(L, 2, "attrs");
  if (rc == 0 && lua_istable(L, -1)) {
    /* Written sorted by key: lua_next's order changes from one process to the
     * next (Lua seeds its string hashes randomly), and the same weights must
     * give the same bytes. */
    int attrs = lua_gettop(L), k = 0;
    lua_newtable(L);
    int keys = lua_gettop(L);
    for (lua_pushnil(L); lua_next(L, attrs); lua_pop(L, 1)) {
      if (lua_type(L, -2) != LUA_TSTRING) {
        st_weights_free(w);
        return luaL_error(L, "weights.save: attribute keys must be strings, not %s", luaL_typename(L, -2));
      }
      lua_pushvalue(L, -2);
      lua_rawseti(L, keys, ++k);
    }
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_pushvalue(L, keys);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
    for (int i = 1; rc == 0 && i <= k; i++) {
      lua_rawgeti(L, keys, i);
      lua_pushvalue(L, -1);
      lua_rawget(L, attrs);
      const char *key = lua_tostring(L, -2), *value = luaL_tolstring(L, -1, NULL);
      rc = st_weights_set_attr(w, key, value);
      lua_pop(L, 3);
    }
  }
  if (rc == 0) rc = st_weights_save(w, path);
  st_weights_free(w);
  if (rc != 0) return lst_error(L);
  return 0;
}

static const luaL_Reg functions[] = {
    {"load", l_load}, {"load_async", l_load_async}, {"save", l_save}, {"import_engstrom", l_import_engstrom},
    {"import_keras_vgg19", l_import_keras_vgg19}, {"import_fcrn", l_import_fcrn}, {NULL, NULL}};

void lst_open_weights(lua_State *L) {
  luaL_newlib(L, functions);
  lua_setfield(L, -2, "weights");
}
