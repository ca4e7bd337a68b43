/* strata.ops, FCRN part: batch norm with fixed statistics and the
 * up-projection interleave (engine/ops/fcrn_ops.h) seen from Lua. Added to
 * the "ops" table that lst_open_ops made. Forward functions return new
 * tensors (or x itself when asked to work in place); backward functions
 * return the input gradients and accumulate into parameter-gradient tensors
 * the caller passes (nil = not wanted). */
#include "../error.h"
#include "../ops/fcrn_ops.h"
#include "lstrata.h"

/* batch_norm(x, mean, var, gamma|nil, beta|nil, eps [, inplace [, prechecked]]) -> y
 * prechecked: var was checked with batch_norm_check_var (no per-call check,
 * which on a GPU waits for the device). */
static int l_batch_norm(lua_State *L) {
  st_tensor *x = lst_check_tensor(L, 1), *mean = lst_check_tensor(L, 2), *var = lst_check_tensor(L, 3);
  st_tensor *gamma = lst_opt_tensor(L, 4), *beta = lst_opt_tensor(L, 5);
  float eps = (float)luaL_checknumber(L, 6);
  int (*fwd)(st_tensor *, const st_tensor *, const st_tensor *, const st_tensor *, const st_tensor *,
             const st_tensor *, float) = lua_toboolean(L, 8) ? st_batch_norm_forward_prechecked : st_batch_norm_forward;
  if (lua_toboolean(L, 7)) {
    if (fwd(x, x, mean, var, gamma, beta, eps) != 0) return lst_error(L);
    lua_settop(L, 1);
    return 1;
  }
  st_tensor *y = lst_new_tensor(L, x->ndim, x->shape, x);
  return lst_push_result(L, fwd(y, x, mean, var, gamma, beta, eps), y);
}

/* batch_norm_backward(dy, x|nil, mean, var, gamma|nil, eps, dgamma|nil, dbeta|nil [, prechecked]) -> dx
 * (x is needed only with dgamma) */
static int l_batch_norm_backward(lua_State *L) {
  st_tensor *dy = lst_check_tensor(L, 1), *x = lst_opt_tensor(L, 2), *mean = lst_check_tensor(L, 3),
            *var = lst_check_tensor(L, 4), *gamma = lst_opt_tensor(L, 5);
  float eps = (float)luaL_checknumber(L, 6);
  st_tensor *dgamma = lst_opt_tensor(L, 7), *dbeta = lst_opt_tensor(L, 8);
  const int pre = lua_toboolean(L, 9);
  st_tensor *dx = lst_new_tensor(L, dy->ndim, dy->shape, dy);
  int rc = pre ? st_batch_norm_backward_prechecked(dx, dgamma, dbeta, dy, x, mean, var, gamma, eps)
               : st_batch_norm_backward(dx, dgamma, dbeta, dy, x, mean, var, gamma, eps);
  return lst_push_result(L, rc, dx);
}

/* batch_norm_check_var(var, eps, what): raises "<what>: var[c] + eps = ... must be > 0" */
static int l_batch_norm_check_var(lua_State *L) {
  st_tensor *var = lst_check_tensor(L, 1);
  float eps = (float)luaL_checknumber(L, 2);
  if (st_batch_norm_check_var(var, eps, luaL_checkstring(L, 3)) != 0) return lst_error(L);
  return 0;
}

/* interleave(a, b, c, d) -> y [N, C, 2H, 2W] (a: 3x3 conv, b: 2x3, c: 3x2, d: 2x2) */
static int l_interleave(lua_State *L) {
  st_tensor *a = lst_check_tensor(L, 1), *b = lst_check_tensor(L, 2), *c = lst_check_tensor(L, 3),
            *d = lst_check_tensor(L, 4);
  int64_t s[4];
  if (st_interleave_shape(a, s) != 0) return lst_error(L);
  st_tensor *y = lst_new_tensor(L, 4, s, a);
  return lst_push_result(L, st_interleave_forward(y, a, b, c, d), y);
}

/* interleave_backward(dy) -> da, db, dc, dd */
static int l_interleave_backward(lua_State *L) {
  st_tensor *dy = lst_check_tensor(L, 1);
  if (st_check_ndim(dy, 4, "interleave_backward: dy") != 0) return lst_error(L);
  int64_t q[4] = {dy->shape[0], dy->shape[1], dy->shape[2] / 2, dy->shape[3] / 2};
  st_tensor *g[4] = {NULL, NULL, NULL, NULL};
  for (int k = 0; k < 4; k++) {
    g[k] = st_tensor_new(4, q, st_tensor_device(dy));
    if (!g[k]) break;
  }
  int rc = g[3] ? st_interleave_backward(g[0], g[1], g[2], g[3], dy) : -1;
  if (rc != 0) {
    for (int k = 0; k < 4; k++) st_tensor_release(g[k]);
    return lst_error(L);
  }
  for (int k = 0; k < 4; k++) lst_push_tensor(L, g[k]);
  return 4;
}

static const luaL_Reg functions[] = {{"batch_norm", l_batch_norm},
                                     {"batch_norm_backward", l_batch_norm_backward},
                                     {"batch_norm_check_var", l_batch_norm_check_var},
                                     {"interleave", l_interleave},
                                     {"interleave_backward", l_interleave_backward},
                                     {NULL, NULL}};

/* With strata.core on top of the stack: adds these functions to its "ops" table. */
void lst_open_fcrn_ops(lua_State *L) { lst_add_ops(L, functions); }
