/* Tensors in Lua: userdata boxing an st_tensor reference.
 * C owns the memory; the userdata owns one reference, dropped by __gc.
 * Indices are 1-based, as everywhere in Lua. The arithmetic and statistics
 * methods are ops (engine/ops/tensor_ops.h) and run on the tensor's device;
 * element access (get, set, to_list) needs a CPU tensor. */
#include <stdlib.h>
#include <string.h>

#include "../error.h"
#include "../memory.h"
#include "../ops/tensor_ops.h"
#include "lstrata.h"

int lst_error(lua_State *L) {
  /* The engine's messages already name the file or argument: no Lua position prefix. */
  const char *m = st_last_error();
  lua_pushstring(L, m[0] ? m : "unknown error");
  return lua_error(L);
}

st_tensor *lst_check_tensor(lua_State *L, int idx) {
  st_tensor **p = luaL_checkudata(L, idx, LST_TENSOR_MT);
  if (!*p) luaL_argerror(L, idx, "tensor already freed");
  return *p;
}

st_tensor *lst_opt_tensor(lua_State *L, int idx) {
  return lua_isnoneornil(L, idx) ? NULL : lst_check_tensor(L, idx);
}

/* Lua's collector sees only the few bytes of each tensor's userdata, not the
 * buffer behind it, so on its own it lets megabytes of dead activations pile
 * up between cycles. Count the bytes handed to Lua and run a full collection
 * once they exceed what was live after the previous one (at least 256 MiB). */
static size_t bytes_since_gc = 0, live_after_gc = 0;

static void track_heap(lua_State *L, const st_tensor *t) {
  bytes_since_gc += (size_t)t->numel * sizeof(float);
  size_t limit = live_after_gc > ((size_t)256 << 20) ? live_after_gc : ((size_t)256 << 20);
  if (bytes_since_gc > limit) {
    lua_gc(L, LUA_GCCOLLECT);
    st_mem_stats c = st_mem_get_stats(st_cpu()), g = st_mem_get_stats(st_cuda(0));
    live_after_gc = c.in_use + g.in_use;
    bytes_since_gc = 0;
  }
}

void lst_push_tensor(lua_State *L, st_tensor *t) {
  if (!t) {
    lst_error(L);
    return;
  }
  track_heap(L, t); /* t is not reachable from Lua yet, so a collection cannot free it */
  st_tensor **p = lua_newuserdatauv(L, sizeof *p, 0);
  *p = t;
  luaL_setmetatable(L, LST_TENSOR_MT);
}

int lst_check_shape(lua_State *L, int idx, int64_t shape[ST_MAX_DIMS]) {
  luaL_checktype(L, idx, LUA_TTABLE);
  int n = (int)luaL_len(L, idx);
  if (n > ST_MAX_DIMS) luaL_argerror(L, idx, "too many dimensions");
  for (int i = 0; i < n; i++) {
    lua_geti(L, idx, i + 1);
    int isnum;
    lua_Integer v = lua_tointegerx(L, -1, &isnum);
    if (!isnum || v < 0) luaL_argerror(L, idx, "shape entries must be non-negative integers");
    shape[i] = v;
    lua_pop(L, 1);
  }
  return n;
}

void lst_push_shape(lua_State *L, int ndim, const int64_t *shape) {
  lua_createtable(L, ndim, 0);
  for (int i = 0; i < ndim; i++) {
    lua_pushinteger(L, shape[i]);
    lua_rawseti(L, -2, i + 1);
  }
}

st_device lst_opt_device(lua_State *L, int idx) {
  st_device d = st_cpu();
  if (!lua_isnoneornil(L, idx) && st_device_parse(luaL_checkstring(L, idx), &d) != 0) lst_error(L);
  return d;
}

static st_tensor *check_cpu(lua_State *L, int idx) {
  st_tensor *t = lst_check_tensor(L, idx);
  if (st_tensor_device(t).kind != ST_CPU)
    luaL_error(L, "this tensor method runs on CPU tensors; the tensor is on %s (use :to('cpu'))",
               st_device_name(st_tensor_device(t)));
  return t;
}

/* strata.empty(shape [, device]), strata.zeros(shape [, device]), strata.full(shape, v [, device]) */
static int l_empty(lua_State *L) {
  int64_t s[ST_MAX_DIMS];
  int n = lst_check_shape(L, 1, s);
  lst_push_tensor(L, st_tensor_new(n, s, lst_opt_device(L, 2)));
  return 1;
}

static int l_zeros(lua_State *L) {
  int64_t s[ST_MAX_DIMS];
  int n = lst_check_shape(L, 1, s);
  lst_push_tensor(L, st_tensor_zeros(n, s, lst_opt_device(L, 2)));
  return 1;
}

static int l_full(lua_State *L) {
  int64_t s[ST_MAX_DIMS];
  int n = lst_check_shape(L, 1, s);
  float v = (float)luaL_checknumber(L, 2);
  st_tensor *t = st_tensor_new(n, s, lst_opt_device(L, 3));
  if (t && st_tensor_fill(t, v) != 0) {
    st_tensor_release(t);
    t = NULL;
  }
  lst_push_tensor(L, t);
  return 1;
}

/* strata.from_list({...}, shape): a CPU tensor from a flat list of numbers. */
static int l_from_list(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  int64_t s[ST_MAX_DIMS];
  int n = lst_check_shape(L, 2, s);
  st_tensor *t = st_tensor_new(n, s, st_cpu());
  if (!t) return lst_error(L);
  if ((lua_Integer)t->numel != luaL_len(L, 1)) {
    int64_t want = t->numel;
    st_tensor_release(t);
    return luaL_error(L, "from_list: %d values given for a shape of %d elements", (int)luaL_len(L, 1), (int)want);
  }
  lst_push_tensor(L, t);
  float *d = st_tensor_data(t);
  for (int64_t i = 0; i < t->numel; i++) {
    lua_geti(L, 1, i + 1);
    d[i] = (float)luaL_checknumber(L, -1);
    lua_pop(L, 1);
  }
  return 1;
}

static int l_gc(lua_State *L) {
  st_tensor **p = luaL_checkudata(L, 1, LST_TENSOR_MT);
  st_tensor_release(*p);
  *p = NULL;
  return 0;
}

/* t:free(): drops this handle's reference now instead of at collection, so
 * inference can hand each activation back to the caching allocator as soon
 * as nothing reads it (the storage goes when its last view does). Using t
 * afterwards is an error ("tensor already freed"); freeing twice is harmless.
 * Also the __close metamethod: `local y <close> = ...`. */
static int l_free(lua_State *L) {
  st_tensor **p = luaL_checkudata(L, 1, LST_TENSOR_MT);
  st_tensor_release(*p);
  *p = NULL;
  return 0;
}

static int l_close(lua_State *L) {
  if (lua_isnil(L, 1)) return 0;
  return l_free(L);
}

/* t:ref() -> another handle to the same tensor, freed on its own: a module
 * keeping an activation for backward takes one, so whoever made the
 * activation can free theirs as soon as they are done with it, and the
 * memory goes back when the last handle is freed. No new memory. */
static int l_ref(lua_State *L) {
  st_tensor *t = lst_check_tensor(L, 1);
  st_tensor **p = lua_newuserdatauv(L, sizeof *p, 0);
  st_tensor_retain(t);
  *p = t;
  luaL_setmetatable(L, LST_TENSOR_MT);
  return 1;
}

/* t:is_freed() -> whether t:free() ran (tests). */
static int l_is_freed(lua_State *L) {
  st_tensor **p = luaL_checkudata(L, 1, LST_TENSOR_MT);
  lua_pushboolean(L, *p == NULL);
  return 1;
}

static int l_tostring(lua_State *L) {
  st_tensor *t = lst_check_tensor(L, 1);
  char buf[160];
  lua_pushfstring(L, "strata.Tensor%s on %s", st_shape_str(t->ndim, t->shape, buf, sizeof buf),
                  st_device_name(st_tensor_device(t)));
  return 1;
}

static int l_shape(lua_State *L) {
  st_tensor *t = lst_check_tensor(L, 1);
  lst_push_shape(L, t->ndim, t->shape);
  return 1;
}

static int l_size(lua_State *L) {
  st_tensor *t = lst_check_tensor(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2);
  if (i < 1 || i > t->ndim) return luaL_error(L, "size(%d): the tensor has %d dimensions", (int)i, t->ndim);
  lua_pushinteger(L, t->shape[i - 1]);
  return 1;
}

static int l_dim(lua_State *L) {
  lua_pushinteger(L, lst_check_tensor(L, 1)->ndim);
  return 1;
}

static int l_numel(lua_State *L) {
  lua_pushinteger(L, lst_check_tensor(L, 1)->numel);
  return 1;
}

static int l_device(lua_State *L) {
  lua_pushstring(L, st_device_name(st_tensor_device(lst_check_tensor(L, 1))));
  return 1;
}

/* Flat offset of the 1-based multi-index in arguments start.. */
static int64_t flat_index(lua_State *L, st_tensor *t, int start) {
  int nargs = lua_gettop(L) - start + 1;
  if (nargs != t->ndim) luaL_error(L, "index: %d indices given for a %d-dimensional tensor", nargs, t->ndim);
  int64_t off = 0;
  for (int i = 0; i < t->ndim; i++) {
    lua_Integer k = luaL_checkinteger(L, start + i);
    if (k < 1 || k > t->shape[i])
      luaL_error(L, "index %d is out of range 1..%d in dimension %d", (int)k, (int)t->shape[i], i + 1);
    off = off * t->shape[i] + (k - 1);
  }
  return off;
}

static int l_get(lua_State *L) {
  st_tensor *t = check_cpu(L, 1);
  lua_pushnumber(L, st_tensor_data(t)[flat_index(L, t, 2)]);
  return 1;
}

/* t:set(value, i, j, ...) */
static int l_set(lua_State *L) {
  st_tensor *t = check_cpu(L, 1);
  float v = (float)luaL_checknumber(L, 2);
  st_tensor_data(t)[flat_index(L, t, 3)] = v;
  return 0;
}

static int l_to_list(lua_State *L) {
  st_tensor *t = check_cpu(L, 1);
  const float *d = st_tensor_data(t);
  lua_createtable(L, (int)t->numel, 0);
  for (int64_t i = 0; i < t->numel; i++) {
    lua_pushnumber(L, d[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int l_clone(lua_State *L) {
  lst_push_tensor(L, st_tensor_clone(lst_check_tensor(L, 1)));
  return 1;
}

static int l_to(lua_State *L) {
  st_tensor *t = lst_check_tensor(L, 1);
  st_device d;
  if (st_device_parse(luaL_checkstring(L, 2), &d) != 0) return lst_error(L);
  if (st_device_eq(d, st_tensor_device(t))) {
    lua_settop(L, 1);
    return 1;
  }
  lst_push_tensor(L, st_tensor_to(t, d));
  return 1;
}

static int l_view(lua_State *L) {
  st_tensor *t = lst_check_tensor(L, 1);
  int64_t s[ST_MAX_DIMS];
  int n = lst_check_shape(L, 2, s);
  lst_push_tensor(L, st_tensor_view(t, n, s));
  return 1;
}

/* t:narrow(start, len): rows start..start+len-1 (1-based) of dimension 1, sharing storage. */
static int l_narrow(lua_State *L) {
  st_tensor *t = lst_check_tensor(L, 1);
  lua_Integer start = luaL_checkinteger(L, 2), len = luaL_checkinteger(L, 3);
  lst_push_tensor(L, st_tensor_narrow0(t, start - 1, len));
  return 1;
}

static int l_fill(lua_State *L) {
  st_tensor *t = lst_check_tensor(L, 1);
  if (st_tensor_fill(t, (float)luaL_checknumber(L, 2)) != 0) return lst_error(L);
  lua_settop(L, 1);
  return 1;
}

static int l_copy(lua_State *L) {
  st_tensor *t = lst_check_tensor(L, 1);
  if (st_tensor_copy(t, lst_check_tensor(L, 2)) != 0) return lst_error(L);
  lua_settop(L, 1);
  return 1;
}

/* Reductions, in double. */
static int l_sum(lua_State *L) {
  double s;
  if (st_sum(&s, lst_check_tensor(L, 1))) return lst_error(L);
  lua_pushnumber(L, s);
  return 1;
}

static int l_mean(lua_State *L) {
  double m;
  if (st_mean(&m, lst_check_tensor(L, 1))) return lst_error(L);
  lua_pushnumber(L, m);
  return 1;
}

/* min and max keep their own message for an empty tensor. */
static int min_or_max(lua_State *L, int want_max) {
  st_tensor *t = lst_check_tensor(L, 1);
  if (!t->numel) return luaL_error(L, "%s of an empty tensor", want_max ? "max" : "min");
  float lo, hi;
  if (st_min_max(&lo, &hi, t)) return lst_error(L);
  lua_pushnumber(L, want_max ? hi : lo);
  return 1;
}

static int l_min(lua_State *L) { return min_or_max(L, 0); }
static int l_max(lua_State *L) { return min_or_max(L, 1); }

/* true if every element is finite. */
static int l_all_finite(lua_State *L) {
  int all;
  if (st_all_finite(&all, lst_check_tensor(L, 1))) return lst_error(L);
  lua_pushboolean(L, all);
  return 1;
}

/* Elementwise binary arithmetic: tensor (op) tensor of the same shape, or
 * tensor (op) number, number (op) tensor; the result is on the tensor's device. */
static int arith(lua_State *L, st_arith_op op) {
  int ta = luaL_testudata(L, 1, LST_TENSOR_MT) != NULL, tb = luaL_testudata(L, 2, LST_TENSOR_MT) != NULL;
  st_tensor *a = ta ? lst_check_tensor(L, 1) : NULL, *b = tb ? lst_check_tensor(L, 2) : NULL;
  st_tensor *shape_of = a ? a : b;
  if (a && b && !st_tensor_same_shape(a, b)) {
    char s1[128], s2[128];
    return luaL_error(L, "tensor arithmetic on different shapes %s and %s", st_shape_str(a->ndim, a->shape, s1, sizeof s1),
                      st_shape_str(b->ndim, b->shape, s2, sizeof s2));
  }
  float s = a && b ? 0.0f : (float)luaL_checknumber(L, a ? 2 : 1);
  st_tensor *y = st_tensor_new(shape_of->ndim, shape_of->shape, st_tensor_device(shape_of));
  if (!y) return lst_error(L);
  int rc = a && b ? st_arith_forward(y, a, b, op) : st_arith_scalar_forward(y, shape_of, s, a == NULL, op);
  if (rc) {
    st_tensor_release(y);
    return lst_error(L);
  }
  lst_push_tensor(L, y);
  return 1;
}

static int l_add(lua_State *L) { return arith(L, ST_ARITH_ADD); }
static int l_sub(lua_State *L) { return arith(L, ST_ARITH_SUB); }
static int l_mul(lua_State *L) { return arith(L, ST_ARITH_MUL); }
static int l_div(lua_State *L) { return arith(L, ST_ARITH_DIV); }

static int l_unm(lua_State *L) {
  lua_settop(L, 1);
  lua_pushnumber(L, -1);
  return arith(L, ST_ARITH_MUL);
}

static int l_abs(lua_State *L) {
  st_tensor *t = lst_check_tensor(L, 1);
  st_tensor *y = st_tensor_new(t->ndim, t->shape, st_tensor_device(t));
  if (!y) return lst_error(L);
  if (st_abs_forward(y, t)) {
    st_tensor_release(y);
    return lst_error(L);
  }
  lst_push_tensor(L, y);
  return 1;
}

/* t:add_(other [, alpha]): t += alpha * other, in place. */
static int l_add_inplace(lua_State *L) {
  st_tensor *t = lst_check_tensor(L, 1), *o = lst_check_tensor(L, 2);
  float alpha = (float)luaL_optnumber(L, 3, 1.0);
  if (t->numel != o->numel) return luaL_error(L, "add_: element counts differ (%d and %d)", (int)t->numel, (int)o->numel);
  if (st_axpy(t, alpha, o)) return lst_error(L);
  lua_settop(L, 1);
  return 1;
}

/* dst:paste(src, row, col): copies a [C,h,w] tensor into the [C,H,W] dst with
 * its top-left corner at (row, col) (1-based); parts outside dst are cut off. */
static int l_paste(lua_State *L) {
  st_tensor *d = lst_check_tensor(L, 1), *s = lst_check_tensor(L, 2);
  lua_Integer r0 = luaL_checkinteger(L, 3) - 1, c0 = luaL_checkinteger(L, 4) - 1;
  if (d->ndim != 3 || s->ndim != 3 || d->shape[0] != s->shape[0])
    return luaL_error(L, "paste: expected [C,H,W] tensors with the same C");
  if (st_paste(d, s, r0, c0)) return lst_error(L);
  lua_settop(L, 1);
  return 1;
}

static const luaL_Reg methods[] = {
    {"shape", l_shape}, {"size", l_size},   {"dim", l_dim},         {"numel", l_numel},     {"device", l_device},
    {"get", l_get},     {"set", l_set},     {"to_list", l_to_list}, {"clone", l_clone},     {"to", l_to},
    {"view", l_view},   {"narrow", l_narrow}, {"fill", l_fill},     {"copy", l_copy},       {"sum", l_sum},
    {"mean", l_mean},   {"min", l_min},     {"max", l_max},         {"abs", l_abs},         {"add_", l_add_inplace},
    {"all_finite", l_all_finite}, {"paste", l_paste}, {"free", l_free},    {"is_freed", l_is_freed},
    {"ref", l_ref},
    {NULL, NULL}};

static const luaL_Reg meta[] = {{"__gc", l_gc},   {"__close", l_close}, {"__tostring", l_tostring}, {"__add", l_add}, {"__sub", l_sub},
                                {"__mul", l_mul}, {"__div", l_div},           {"__unm", l_unm}, {NULL, NULL}};

static const luaL_Reg functions[] = {
    {"empty", l_empty}, {"zeros", l_zeros}, {"full", l_full}, {"from_list", l_from_list}, {NULL, NULL}};

void lst_open_tensor(lua_State *L) {
  luaL_newmetatable(L, LST_TENSOR_MT);
  luaL_setfuncs(L, meta, 0);
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_setfuncs(L, functions, 0);
}
