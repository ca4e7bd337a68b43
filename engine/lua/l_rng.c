/* strata.rng(seed): seeded random numbers (engine/rng.h) as a Lua object.
 * The userdata holds the whole generator state, so :state() / :set_state()
 * checkpoint and resume a stream exactly. Fill methods end in '_' (they
 * overwrite the tensor in place) and return it. */
#include "../error.h"
#include "../rng.h"
#include "lstrata.h"

#define LST_RNG_MT "strata.Rng"

static st_rng *check_rng(lua_State *L) { return luaL_checkudata(L, 1, LST_RNG_MT); }

/* strata.rng(seed) -> Rng; any Lua integer (negative ones as their 64-bit pattern). */
static int l_new(lua_State *L) {
  lua_Integer seed = luaL_checkinteger(L, 1);
  st_rng *r = lua_newuserdatauv(L, sizeof *r, 0);
  st_rng_seed(r, (uint64_t)seed);
  luaL_setmetatable(L, LST_RNG_MT);
  return 1;
}

typedef int (*fill_fn)(st_rng *, st_tensor *, float, float);

/* rng:<fill>_(t, a, b) -> t */
static int fill(lua_State *L, fill_fn f, double a, double b) {
  st_rng *r = check_rng(L);
  st_tensor *t = lst_check_tensor(L, 2);
  if (f(r, t, (float)luaL_optnumber(L, 3, a), (float)luaL_optnumber(L, 4, b)) != 0) return lst_error(L);
  lua_settop(L, 2);
  return 1;
}

static int l_normal(lua_State *L) { return fill(L, st_rng_fill_normal, 0.0, 1.0); }
static int l_truncated_normal(lua_State *L) { return fill(L, st_rng_fill_truncated_normal, 0.0, 1.0); }
static int l_uniform_fill(lua_State *L) { return fill(L, st_rng_fill_uniform, 0.0, 1.0); }

/* rng:uniform() -> number in [0, 1) */
static int l_uniform(lua_State *L) {
  lua_pushnumber(L, st_rng_uniform(check_rng(L)));
  return 1;
}

/* rng:permutation(n) -> {i1, ..., in}: a random order of 1..n */
static int l_permutation(lua_State *L) {
  st_rng *r = check_rng(L);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, n >= 0 && n <= (lua_Integer)1 << 31, 2, "permutation size must be in [0, 2^31]");
  /* Scratch as userdata, so a memory error while building the list leaks nothing. */
  int64_t *idx = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *idx, 0);
  st_rng_permutation(r, idx, (int64_t)n);
  lua_createtable(L, (int)n, 0);
  for (lua_Integer i = 0; i < n; i++) {
    lua_pushinteger(L, idx[i] + 1);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* rng:state() -> 64 hex digits */
static int l_state(lua_State *L) {
  char buf[ST_RNG_STATE_CHARS];
  lua_pushstring(L, st_rng_state_str(check_rng(L), buf, sizeof buf));
  return 1;
}

/* rng:set_state(hex) -> rng */
static int l_set_state(lua_State *L) {
  st_rng *r = check_rng(L), tmp;
  if (st_rng_state_parse(&tmp, luaL_checkstring(L, 2)) != 0) return lst_error(L);
  *r = tmp;
  lua_settop(L, 1);
  return 1;
}

static int l_tostring(lua_State *L) {
  char buf[ST_RNG_STATE_CHARS];
  lua_pushfstring(L, "strata.Rng(%s)", st_rng_state_str(check_rng(L), buf, sizeof buf));
  return 1;
}

static const luaL_Reg methods[] = {{"normal_", l_normal},
                                   {"truncated_normal_", l_truncated_normal},
                                   {"uniform_", l_uniform_fill},
                                   {"uniform", l_uniform},
                                   {"permutation", l_permutation},
                                   {"state", l_state},
                                   {"set_state", l_set_state},
                                   {NULL, NULL}};

/* Sets field "rng" of the table on top of the stack to the constructor. */
void lst_open_rng(lua_State *L) {
  if (luaL_newmetatable(L, LST_RNG_MT)) {
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_new);
  lua_setfield(L, -2, "rng");
}
