/* strata.onnx.write(path, model): writes an ONNX file from a Lua description
 *   { name = "graph", opset = 13, metadata = {key = value},
 *     inputs  = {{name = "image", dims = {1, 3, "height", "width"}}, ...},
 *     outputs = {{name = ..., dims = ...}},
 *     initializers = {{name = ..., tensor = T} or {name = ..., int64 = {...}}, ...},
 *     nodes = {{op = "Conv", name = ..., inputs = {...}, outputs = {...},
 *               attrs = {key = integer | float | string | {integers}}}, ...} }
 * Attributes are written in key order, so the same model gives the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "../io/onnx.h"
#include "lstrata.h"

#define ONNX_BUILDER_MT "strata.onnx_builder"
#define MAX_IO 16

static int builder_gc(lua_State *L) {
  st_onnx **m = luaL_checkudata(L, 1, ONNX_BUILDER_MT);
  st_onnx_free(*m);
  *m = NULL;
  return 0;
}

/* t[key] at the table on idx, which must be a table; pushed. */
static void field_table(lua_State *L, int idx, const char *key, const char *where) {
  if (lua_getfield(L, idx, key) != LUA_TTABLE) luaL_error(L, "onnx.write: %s: '%s' must be a table", where, key);
}

static const char *field_string(lua_State *L, int idx, const char *key, const char *where) {
  lua_getfield(L, idx, key);
  const char *s = lua_tostring(L, -1);
  if (!s) luaL_error(L, "onnx.write: %s: '%s' must be a string", where, key);
  lua_pop(L, 1); /* still referenced by the table */
  return s;
}

/* Reads a list of strings (at most MAX_IO) from the table on top; returns the count. */
static int string_list(lua_State *L, const char **out, const char *what) {
  int n = (int)luaL_len(L, -1);
  if (n > MAX_IO) luaL_error(L, "onnx.write: %s: more than %d names", what, MAX_IO);
  for (int i = 0; i < n; i++) {
    lua_geti(L, -1, i + 1);
    out[i] = lua_tostring(L, -1);
    if (!out[i]) luaL_error(L, "onnx.write: %s: entry %d is not a string", what, i + 1);
    lua_pop(L, 1);
  }
  return n;
}

static void add_values(lua_State *L, st_onnx *m, int model, int is_output) {
  const char *key = is_output ? "outputs" : "inputs";
  field_table(L, model, key, "model");
  for (lua_Integer i = 1, n = luaL_len(L, -1); i <= n; i++) {
    lua_geti(L, -1, i);
    int v = lua_gettop(L);
    const char *name = field_string(L, v, "name", key);
    field_table(L, v, "dims", name);
    int nd = (int)luaL_len(L, -1);
    if (nd > ST_MAX_DIMS) luaL_error(L, "onnx.write: %s: more than %d dims", name, ST_MAX_DIMS);
    int64_t dims[ST_MAX_DIMS];
    const char *params[ST_MAX_DIMS];
    for (int d = 0; d < nd; d++) {
      lua_geti(L, -1, d + 1);
      int isnum;
      dims[d] = lua_tointegerx(L, -1, &isnum);
      params[d] = isnum ? NULL : lua_tostring(L, -1);
      if (!isnum && !params[d]) luaL_error(L, "onnx.write: %s: dim %d is neither an integer nor a name", name, d + 1);
      if (!isnum) dims[d] = 0;
      lua_pop(L, 1);
    }
    if (st_onnx_value(m, is_output, name, nd, dims, params)) lst_error(L);
    lua_settop(L, v - 1);
  }
  lua_pop(L, 1);
}

static void add_initializers(lua_State *L, st_onnx *m, int model) {
  if (lua_getfield(L, model, "initializers") == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  for (lua_Integer i = 1, n = luaL_len(L, -1); i <= n; i++) {
    lua_geti(L, -1, i);
    int v = lua_gettop(L);
    const char *name = field_string(L, v, "name", "initializer");
    int rc;
    if (lua_getfield(L, v, "tensor") != LUA_TNIL) {
      rc = st_onnx_initializer(m, name, lst_check_tensor(L, -1));
    } else {
      field_table(L, v, "int64", name);
      int k = (int)luaL_len(L, -1);
      int64_t *vals = lua_newuserdatauv(L, (k ? k : 1) * sizeof *vals, 0); /* freed by Lua's GC */
      for (int j = 0; j < k; j++) {
        lua_geti(L, -2, j + 1);
        int isint;
        vals[j] = lua_tointegerx(L, -1, &isint);
        if (!isint) luaL_error(L, "onnx.write: initializer %s: int64 entry %d is not an integer", name, j + 1);
        lua_pop(L, 1);
      }
      rc = st_onnx_initializer_int64(m, name, k, vals);
    }
    if (rc) lst_error(L);
    lua_settop(L, v - 1);
  }
  lua_pop(L, 1);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* The attributes table on top of the stack, for the node just added. */
static void add_attrs(lua_State *L, st_onnx *m, const char *node) {
  int t = lua_gettop(L);
  const char *keys[64];
  int n = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "onnx.write: node %s: attribute names must be strings", node);
    if (n == 64) luaL_error(L, "onnx.write: node %s: too many attributes", node);
    keys[n++] = lua_tostring(L, -1);
  }
  qsort(keys, n, sizeof *keys, cmp_str);
  for (int i = 0; i < n; i++) {
    lua_getfield(L, t, keys[i]);
    int rc;
    if (lua_isinteger(L, -1)) {
      rc = st_onnx_attr_int(m, keys[i], lua_tointeger(L, -1));
    } else if (lua_type(L, -1) == LUA_TNUMBER) {
      rc = st_onnx_attr_float(m, keys[i], (float)lua_tonumber(L, -1));
    } else if (lua_type(L, -1) == LUA_TSTRING) {
      rc = st_onnx_attr_string(m, keys[i], lua_tostring(L, -1));
    } else if (lua_istable(L, -1)) {
      int k = (int)luaL_len(L, -1);
      int64_t v[ST_MAX_DIMS * 2];
      if (k > ST_MAX_DIMS * 2) luaL_error(L, "onnx.write: node %s: attribute %s is too long", node, keys[i]);
      for (int j = 0; j < k; j++) {
        lua_geti(L, -1, j + 1);
        int isint;
        v[j] = lua_tointegerx(L, -1, &isint);
        if (!isint) luaL_error(L, "onnx.write: node %s: attribute %s: entry %d is not an integer", node, keys[i], j + 1);
        lua_pop(L, 1);
      }
      rc = st_onnx_attr_ints(m, keys[i], k, v);
    } else {
      return (void)luaL_error(L, "onnx.write: node %s: attribute %s has an unsupported type (%s)", node, keys[i],
                              luaL_typename(L, -1));
    }
    if (rc) lst_error(L);
    lua_pop(L, 1);
  }
}

static void add_nodes(lua_State *L, st_onnx *m, int model) {
  field_table(L, model, "nodes", "model");
  for (lua_Integer i = 1, n = luaL_len(L, -1); i <= n; i++) {
    lua_geti(L, -1, i);
    int v = lua_gettop(L);
    const char *op = field_string(L, v, "op", "node");
    const char *name = field_string(L, v, "name", op);
    const char *in[MAX_IO], *out[MAX_IO];
    field_table(L, v, "inputs", name);
    int nin = string_list(L, in, name);
    field_table(L, v, "outputs", name);
    int nout = string_list(L, out, name);
    if (st_onnx_node(m, op, name, nin, in, nout, out)) lst_error(L);
    if (lua_getfield(L, v, "attrs") == LUA_TTABLE) add_attrs(L, m, name);
    lua_settop(L, v - 1);
  }
  lua_pop(L, 1);
}

static int l_write(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_getfield(L, 2, "opset");
  int opset = (int)luaL_optinteger(L, -1, 13);
  lua_pop(L, 1);
  lua_getfield(L, 2, "name");
  const char *gname = luaL_optstring(L, -1, "graph");
  st_onnx **m = lua_newuserdatauv(L, sizeof *m, 0);
  *m = NULL;
  luaL_setmetatable(L, ONNX_BUILDER_MT);
  if (!(*m = st_onnx_new(gname, opset))) return lst_error(L);
  if (lua_getfield(L, 2, "metadata") == LUA_TTABLE) {
    /* sorted keys, for reproducible bytes */
    int t = lua_gettop(L);
    const char *keys[64];
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
      lua_pop(L, 1);
      if (n == 64) return luaL_error(L, "onnx.write: more than 64 metadata entries");
      keys[n++] = luaL_checkstring(L, -1);
    }
    qsort(keys, n, sizeof *keys, cmp_str);
    for (int i = 0; i < n; i++) {
      lua_getfield(L, t, keys[i]);
      if (st_onnx_meta(*m, keys[i], luaL_checkstring(L, -1))) return lst_error(L);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  add_values(L, *m, 2, 0);
  add_initializers(L, *m, 2);
  add_nodes(L, *m, 2);
  add_values(L, *m, 2, 1);
  if (st_onnx_save(*m, path)) return lst_error(L);
  st_onnx_free(*m);
  *m = NULL;
  return 0;
}

void lst_open_onnx(lua_State *L) {
  if (luaL_newmetatable(L, ONNX_BUILDER_MT)) {
    lua_pushcfunction(L, builder_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  static const luaL_Reg fns[] = { { "write", l_write }, { NULL, NULL } };
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "onnx");
}
