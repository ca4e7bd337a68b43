/* strata.ops, training part: max pooling, Gram matrices, the losses and the
 * Adam step (engine/ops/train_ops.h) seen from Lua. Added to the "ops" table
 * that lst_open_ops made. Forward functions return new tensors or the scalar
 * loss as a number; backward functions return the input gradient; dloss
 * defaults to 1. */
#include <string.h>

#include "../error.h"
#include "../ops/train_ops.h"
#include "lstrata.h"

/* {kernel = k | {kh, kw}, stride = s | {sh, sw} (default: the kernel),
 *  pad = p | {top, bottom, left, right} | "same" (default 0; "same" is
 *  TensorFlow's: output ceil(size / stride))} */
static st_maxpool2d_params pool_params(lua_State *L, int idx) {
  enum { MISSING = -0x7fff };
  int k[2], s[2], p[4], same = 0;
  luaL_checktype(L, idx, LUA_TTABLE);
  if (lua_getfield(L, idx, "pad") == LUA_TSTRING) {
    if (strcmp(lua_tostring(L, -1), "same") != 0)
      luaL_error(L, "maxpool2d: parameter 'pad' must be a number, a table of 4 or \"same\", got \"%s\"",
                 lua_tostring(L, -1));
    same = 1;
  }
  lua_pop(L, 1);
  lst_int_field(L, idx, "kernel", k, 2, MISSING);
  if (k[0] == MISSING) luaL_error(L, "maxpool2d: parameter 'kernel' is required");
  lst_int_field(L, idx, "stride", s, 2, MISSING);
  if (s[0] == MISSING) s[0] = k[0], s[1] = k[1];
  if (!same) lst_int_field(L, idx, "pad", p, 4, MISSING);
  if (same || p[0] == MISSING) p[0] = p[1] = p[2] = p[3] = 0;
  st_maxpool2d_params r = {.kernel_h = k[0], .kernel_w = k[1], .stride_h = s[0], .stride_w = s[1],
                           .pad_top = p[0], .pad_bottom = p[1], .pad_left = p[2], .pad_right = p[3], .same = same};
  return r;
}

/* maxpool2d(x, params) -> y */
static int l_maxpool2d(lua_State *L) {
  st_tensor *x = lst_check_tensor(L, 1);
  st_maxpool2d_params p = pool_params(L, 2);
  int64_t s[4];
  if (st_maxpool2d_shape(x, &p, s) != 0) return lst_error(L);
  st_tensor *y = st_tensor_new(4, s, st_tensor_device(x));
  if (!y) return lst_error(L);
  return lst_push_result(L, st_maxpool2d_forward(y, x, &p), y);
}

/* maxpool2d_backward(dy, x, params) -> dx */
static int l_maxpool2d_backward(lua_State *L) {
  st_tensor *dy = lst_check_tensor(L, 1), *x = lst_check_tensor(L, 2);
  st_maxpool2d_params p = pool_params(L, 3);
  st_tensor *dx = lst_new_tensor(L, x->ndim, x->shape, x);
  return lst_push_result(L, st_maxpool2d_backward(dx, dy, x, &p), dx);
}

/* gram(x) -> g [N, C, C] */
static int l_gram(lua_State *L) {
  st_tensor *x = lst_check_tensor(L, 1);
  int64_t s[3];
  if (st_gram_shape(x, s) != 0) return lst_error(L);
  st_tensor *g = st_tensor_new(3, s, st_tensor_device(x));
  if (!g) return lst_error(L);
  return lst_push_result(L, st_gram_forward(g, x), g);
}

/* gram_backward(dg, x) -> dx */
static int l_gram_backward(lua_State *L) {
  st_tensor *dg = lst_check_tensor(L, 1), *x = lst_check_tensor(L, 2);
  st_tensor *dx = lst_new_tensor(L, x->ndim, x->shape, x);
  return lst_push_result(L, st_gram_backward(dx, dg, x), dx);
}

/* gram_distance(g, gs) -> loss */
static int l_gram_distance(lua_State *L) {
  st_tensor *g = lst_check_tensor(L, 1), *gs = lst_check_tensor(L, 2);
  float loss;
  if (st_gram_distance_forward(&loss, g, gs) != 0) return lst_error(L);
  lua_pushnumber(L, loss);
  return 1;
}

/* gram_distance_backward(g, gs [, dloss]) -> dg */
static int l_gram_distance_backward(lua_State *L) {
  st_tensor *g = lst_check_tensor(L, 1), *gs = lst_check_tensor(L, 2);
  float dloss = (float)luaL_optnumber(L, 3, 1.0);
  st_tensor *dg = lst_new_tensor(L, g->ndim, g->shape, g);
  return lst_push_result(L, st_gram_distance_backward(dg, NULL, dloss, g, gs), dg);
}

/* mse(a, b) -> loss */
static int l_mse(lua_State *L) {
  st_tensor *a = lst_check_tensor(L, 1), *b = lst_check_tensor(L, 2);
  float loss;
  if (st_mse_forward(&loss, a, b) != 0) return lst_error(L);
  lua_pushnumber(L, loss);
  return 1;
}

/* mse_backward(a, b [, dloss]) -> da */
static int l_mse_backward(lua_State *L) {
  st_tensor *a = lst_check_tensor(L, 1), *b = lst_check_tensor(L, 2);
  float dloss = (float)luaL_optnumber(L, 3, 1.0);
  st_tensor *da = lst_new_tensor(L, a->ndim, a->shape, a);
  return lst_push_result(L, st_mse_backward(da, NULL, dloss, a, b), da);
}

/* tv(x) -> loss */
static int l_tv(lua_State *L) {
  st_tensor *x = lst_check_tensor(L, 1);
  float loss;
  if (st_tv_forward(&loss, x) != 0) return lst_error(L);
  lua_pushnumber(L, loss);
  return 1;
}

/* tv_backward(x [, dloss]) -> dx */
static int l_tv_backward(lua_State *L) {
  st_tensor *x = lst_check_tensor(L, 1);
  float dloss = (float)luaL_optnumber(L, 2, 1.0);
  st_tensor *dx = lst_new_tensor(L, x->ndim, x->shape, x);
  return lst_push_result(L, st_tv_backward(dx, dloss, x), dx);
}

/* adam_step(param, grad, m, v, lr, beta1, beta2, eps, t): updates param, m, v in place. */
static int l_adam_step(lua_State *L) {
  st_tensor *param = lst_check_tensor(L, 1), *grad = lst_check_tensor(L, 2), *m = lst_check_tensor(L, 3),
            *v = lst_check_tensor(L, 4);
  float lr = (float)luaL_checknumber(L, 5), b1 = (float)luaL_checknumber(L, 6), b2 = (float)luaL_checknumber(L, 7),
        eps = (float)luaL_checknumber(L, 8);
  lua_Integer t = luaL_checkinteger(L, 9);
  if (st_adam_step(param, grad, m, v, lr, b1, b2, eps, (int64_t)t) != 0) return lst_error(L);
  return 0;
}

static const luaL_Reg functions[] = {{"maxpool2d", l_maxpool2d},
                                     {"maxpool2d_backward", l_maxpool2d_backward},
                                     {"gram", l_gram},
                                     {"gram_backward", l_gram_backward},
                                     {"gram_distance", l_gram_distance},
                                     {"gram_distance_backward", l_gram_distance_backward},
                                     {"mse", l_mse},
                                     {"mse_backward", l_mse_backward},
                                     {"tv", l_tv},
                                     {"tv_backward", l_tv_backward},
                                     {"adam_step", l_adam_step},
                                     {NULL, NULL}};

/* With strata.core on top of the stack: adds these functions to its "ops" table. */
void lst_open_train_ops(lua_State *L) { lst_add_ops(L, functions); }
