/* Helpers shared by the op bindings (l_ops.c, l_train_ops.c, l_fcrn_ops.c). */
#include "lstrata.h"

st_tensor *lst_new_tensor(lua_State *L, int ndim, const int64_t *shape, const st_tensor *like) {
  st_tensor *t = st_tensor_new(ndim, shape, st_tensor_device(like));
  if (!t) lst_error(L);
  return t;
}

int lst_push_result(lua_State *L, int rc, st_tensor *y) {
  if (rc != 0) {
    st_tensor_release(y);
    return lst_error(L);
  }
  if (y) lst_push_tensor(L, y);
  else lua_pushnil(L); /* an output the caller did not ask for */
  return 1;
}

void lst_int_field(lua_State *L, int idx, const char *key, int *out, int n, int dflt) {
  lua_getfield(L, idx, key);
  if (lua_isnil(L, -1)) {
    for (int i = 0; i < n; i++) out[i] = dflt;
  } else if (lua_isinteger(L, -1)) {
    for (int i = 0; i < n; i++) out[i] = (int)lua_tointeger(L, -1);
  } else if (lua_istable(L, -1) && luaL_len(L, -1) == n) {
    for (int i = 0; i < n; i++) {
      lua_geti(L, -1, i + 1);
      if (!lua_isinteger(L, -1)) luaL_error(L, "op parameter '%s' must hold integers", key);
      out[i] = (int)lua_tointeger(L, -1);
      lua_pop(L, 1);
    }
  } else {
    luaL_error(L, "op parameter '%s' must be an integer or a list of %d integers", key, n);
  }
  lua_pop(L, 1);
}

void lst_add_ops(lua_State *L, const luaL_Reg *fns) {
  lua_getfield(L, -1, "ops");
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "ops");
  }
  if (lst_op_times_enabled()) {
    for (const luaL_Reg *f = fns; f->name; f++) lst_set_timed_op(L, f->name, f->func);
  } else {
    luaL_setfuncs(L, fns, 0);
  }
  lua_pop(L, 1);
}
