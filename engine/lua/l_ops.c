/* strata.ops: the op dispatch layer (engine/ops/ops.h) seen from Lua.
 * Forward functions allocate and return their outputs; backward functions
 * return the input gradient and accumulate into parameter-gradient tensors the
 * caller passes (nil = not wanted), following ops.h's conventions. */
#include <string.h>

#include "../error.h"
#include "../ops/ops.h"
#include "lstrata.h"

static st_pad_mode check_mode(lua_State *L, const char *s) {
  if (!s || strcmp(s, "zero") == 0) return ST_PAD_ZERO;
  if (strcmp(s, "reflect") == 0) return ST_PAD_REFLECT;
  if (strcmp(s, "replicate") == 0) return ST_PAD_REPLICATE;
  luaL_error(L, "unknown padding mode '%s': expected \"zero\", \"reflect\" or \"replicate\"", s);
  return ST_PAD_ZERO;
}

/* {stride = s | {sh, sw}, pad = p | {top, bottom, left, right}, mode = "zero"|"reflect"|"replicate"} */
static st_conv2d_params conv_params(lua_State *L, int idx) {
  st_conv2d_params p;
  int s[2], pad[4];
  luaL_checktype(L, idx, LUA_TTABLE);
  lst_int_field(L, idx, "stride", s, 2, 1);
  lst_int_field(L, idx, "pad", pad, 4, 0);
  lua_getfield(L, idx, "mode");
  p.pad_mode = check_mode(L, lua_tostring(L, -1));
  lua_pop(L, 1);
  p.stride_h = s[0], p.stride_w = s[1];
  p.pad_top = pad[0], p.pad_bottom = pad[1], p.pad_left = pad[2], p.pad_right = pad[3];
  return p;
}

/* {stride = s | {sh, sw}, crop = {top, left}, out = {h, w}} */
static st_conv_transpose2d_params convt_params(lua_State *L, int idx) {
  st_conv_transpose2d_params p;
  int s[2], crop[2], out[2];
  luaL_checktype(L, idx, LUA_TTABLE);
  lst_int_field(L, idx, "stride", s, 2, 1);
  lst_int_field(L, idx, "crop", crop, 2, 0);
  lst_int_field(L, idx, "out", out, 2, -1);
  p.stride_h = s[0], p.stride_w = s[1], p.crop_top = crop[0], p.crop_left = crop[1];
  p.out_h = out[0], p.out_w = out[1];
  return p;
}

static int l_same_pads(lua_State *L) {
  int before, after;
  st_same_pads((int)luaL_checkinteger(L, 1), (int)luaL_checkinteger(L, 2), (int)luaL_checkinteger(L, 3), &before, &after);
  lua_pushinteger(L, before);
  lua_pushinteger(L, after);
  return 2;
}

/* conv2d(x, w, b|nil, params) -> y */
static int l_conv2d(lua_State *L) {
  st_tensor *x = lst_check_tensor(L, 1), *w = lst_check_tensor(L, 2), *b = lst_opt_tensor(L, 3);
  st_conv2d_params p = conv_params(L, 4);
  int64_t s[4];
  if (st_conv2d_shape(x, w, &p, s) != 0) return lst_error(L);
  st_tensor *y = lst_new_tensor(L, 4, s, x);
  return lst_push_result(L, st_conv2d_forward(y, x, w, b, &p), y);
}

/* conv2d_backward(dy, x, w, params, dw|nil, db|nil, want_dx) -> dx|nil */
static int l_conv2d_backward(lua_State *L) {
  st_tensor *dy = lst_check_tensor(L, 1), *x = lst_check_tensor(L, 2), *w = lst_check_tensor(L, 3);
  st_conv2d_params p = conv_params(L, 4);
  st_tensor *dw = lst_opt_tensor(L, 5), *db = lst_opt_tensor(L, 6);
  st_tensor *dx = lua_toboolean(L, 7) ? lst_new_tensor(L, x->ndim, x->shape, x) : NULL;
  int rc = st_conv2d_backward(dx, dw, db, dy, x, w, &p);
  return lst_push_result(L, rc, dx);
}

static int l_conv_transpose2d(lua_State *L) {
  st_tensor *x = lst_check_tensor(L, 1), *w = lst_check_tensor(L, 2), *b = lst_opt_tensor(L, 3);
  st_conv_transpose2d_params p = convt_params(L, 4);
  int64_t s[4];
  if (st_conv_transpose2d_shape(x, w, &p, s) != 0) return lst_error(L);
  st_tensor *y = lst_new_tensor(L, 4, s, x);
  return lst_push_result(L, st_conv_transpose2d_forward(y, x, w, b, &p), y);
}

static int l_conv_transpose2d_backward(lua_State *L) {
  st_tensor *dy = lst_check_tensor(L, 1), *x = lst_check_tensor(L, 2), *w = lst_check_tensor(L, 3);
  st_conv_transpose2d_params p = convt_params(L, 4);
  st_tensor *dw = lst_opt_tensor(L, 5), *db = lst_opt_tensor(L, 6);
  st_tensor *dx = lua_toboolean(L, 7) ? lst_new_tensor(L, x->ndim, x->shape, x) : NULL;
  int rc = st_conv_transpose2d_backward(dx, dw, db, dy, x, w, &p);
  return lst_push_result(L, rc, dx);
}

/* instance_norm(x, gamma, beta, eps, save_stats [, inplace]) -> y [, mean, rstd]
 * inplace (inference: x is read by nothing else) writes y over x and returns
 * x; on the CPU only, whose kernel reads each plane whole before writing it. */
static int l_instance_norm(lua_State *L) {
  st_tensor *x = lst_check_tensor(L, 1), *g = lst_check_tensor(L, 2), *b = lst_check_tensor(L, 3);
  float eps = (float)luaL_checknumber(L, 4);
  int save = lua_toboolean(L, 5);
  if (st_check_ndim(x, 4, "instance_norm input") != 0) return lst_error(L);
  if (!save && lua_toboolean(L, 6) && st_tensor_device(x).kind == ST_CPU) {
    if (st_instance_norm_forward(x, NULL, NULL, x, g, b, eps) != 0) return lst_error(L);
    lua_settop(L, 1);
    return 1;
  }
  st_tensor *y = lst_new_tensor(L, 4, x->shape, x), *mean = NULL, *rstd = NULL;
  if (save) {
    int64_t nc[2] = {x->shape[0], x->shape[1]};
    mean = st_tensor_new(2, nc, st_tensor_device(x));
    rstd = mean ? st_tensor_new(2, nc, st_tensor_device(x)) : NULL;
    if (!rstd) {
      st_tensor_release(y);
      st_tensor_release(mean);
      return lst_error(L);
    }
  }
  if (st_instance_norm_forward(y, mean, rstd, x, g, b, eps) != 0) {
    st_tensor_release(y);
    st_tensor_release(mean);
    st_tensor_release(rstd);
    return lst_error(L);
  }
  lst_push_tensor(L, y);
  if (!save) return 1;
  lst_push_tensor(L, mean);
  lst_push_tensor(L, rstd);
  return 3;
}

/* instance_norm_backward(dy, x, mean, rstd, gamma, dgamma|nil, dbeta|nil) -> dx */
static int l_instance_norm_backward(lua_State *L) {
  st_tensor *dy = lst_check_tensor(L, 1), *x = lst_check_tensor(L, 2), *mean = lst_check_tensor(L, 3),
            *rstd = lst_check_tensor(L, 4), *g = lst_check_tensor(L, 5);
  st_tensor *dg = lst_opt_tensor(L, 6), *db = lst_opt_tensor(L, 7);
  st_tensor *dx = lst_new_tensor(L, x->ndim, x->shape, x);
  return lst_push_result(L, st_instance_norm_backward(dx, dg, db, dy, x, mean, rstd, g), dx);
}

/* Unary forward ops: f(x [, inplace]) -> y */
typedef int (*unary_fn)(st_tensor *, const st_tensor *);
static int unary(lua_State *L, unary_fn f) {
  st_tensor *x = lst_check_tensor(L, 1);
  if (lua_toboolean(L, 2)) {
    if (f(x, x) != 0) return lst_error(L);
    lua_settop(L, 1);
    return 1;
  }
  st_tensor *y = lst_new_tensor(L, x->ndim, x->shape, x);
  return lst_push_result(L, f(y, x), y);
}

/* Backward of unary ops: f_backward(dy, y) -> dx */
typedef int (*unary_bwd_fn)(st_tensor *, const st_tensor *, const st_tensor *);
static int unary_bwd(lua_State *L, unary_bwd_fn f) {
  st_tensor *dy = lst_check_tensor(L, 1), *y = lst_check_tensor(L, 2);
  st_tensor *dx = lst_new_tensor(L, dy->ndim, dy->shape, dy);
  return lst_push_result(L, f(dx, dy, y), dx);
}

static int l_relu(lua_State *L) { return unary(L, st_relu_forward); }
static int l_tanh(lua_State *L) { return unary(L, st_tanh_forward); }
static int l_relu_backward(lua_State *L) { return unary_bwd(L, st_relu_backward); }
static int l_tanh_backward(lua_State *L) { return unary_bwd(L, st_tanh_backward); }

static int l_add(lua_State *L) {
  st_tensor *a = lst_check_tensor(L, 1), *b = lst_check_tensor(L, 2);
  st_tensor *y = lst_new_tensor(L, a->ndim, a->shape, a);
  return lst_push_result(L, st_add_forward(y, a, b), y);
}

/* affine(x, scale, shift [, inplace]) -> x*scale + shift */
static int l_affine(lua_State *L) {
  st_tensor *x = lst_check_tensor(L, 1);
  float scale = (float)luaL_checknumber(L, 2), shift = (float)luaL_checknumber(L, 3);
  if (lua_toboolean(L, 4)) {
    if (st_affine_forward(x, x, scale, shift) != 0) return lst_error(L);
    lua_settop(L, 1);
    return 1;
  }
  st_tensor *y = lst_new_tensor(L, x->ndim, x->shape, x);
  return lst_push_result(L, st_affine_forward(y, x, scale, shift), y);
}

static void check_pads(lua_State *L, int idx, int pad[4]) {
  luaL_checktype(L, idx, LUA_TTABLE);
  if (luaL_len(L, idx) != 4) luaL_argerror(L, idx, "pads are {top, bottom, left, right}");
  for (int i = 0; i < 4; i++) {
    lua_geti(L, idx, i + 1);
    pad[i] = (int)luaL_checkinteger(L, -1);
    lua_pop(L, 1);
  }
}

/* pad2d(x, {top, bottom, left, right}, mode) -> y */
static int l_pad2d(lua_State *L) {
  st_tensor *x = lst_check_tensor(L, 1);
  int pad[4];
  check_pads(L, 2, pad);
  st_pad_mode mode = check_mode(L, luaL_optstring(L, 3, "zero"));
  int64_t s[4];
  if (st_pad2d_shape(x, pad[0], pad[1], pad[2], pad[3], mode, s) != 0) return lst_error(L);
  st_tensor *y = lst_new_tensor(L, 4, s, x);
  return lst_push_result(L, st_pad2d_forward(y, x, pad[0], pad[1], pad[2], pad[3], mode), y);
}

/* pad2d_backward(dy, {top, bottom, left, right}, mode, x_shape) -> dx */
static int l_pad2d_backward(lua_State *L) {
  st_tensor *dy = lst_check_tensor(L, 1);
  int pad[4];
  check_pads(L, 2, pad);
  st_pad_mode mode = check_mode(L, luaL_optstring(L, 3, "zero"));
  int64_t s[ST_MAX_DIMS];
  int n = lst_check_shape(L, 4, s);
  st_tensor *dx = lst_new_tensor(L, n, s, dy);
  return lst_push_result(L, st_pad2d_backward(dx, dy, pad[0], pad[1], pad[2], pad[3], mode), dx);
}

/* resize(x, out_h, out_w) -> y ([N,C,H,W] or [C,H,W]) */
static int l_resize(lua_State *L) {
  st_tensor *x = lst_check_tensor(L, 1);
  int64_t oh = luaL_checkinteger(L, 2), ow = luaL_checkinteger(L, 3);
  if (oh < 1 || ow < 1) return luaL_error(L, "resize: output size %dx%d must be positive", (int)ow, (int)oh);
  if (x->ndim != 3 && x->ndim != 4) return luaL_error(L, "resize: expected a [C,H,W] or [N,C,H,W] tensor");
  int64_t xs[4] = {1, 1, 1, 1};
  for (int i = 0; i < x->ndim; i++) xs[4 - x->ndim + i] = x->shape[i];
  st_tensor *x4 = st_tensor_view(x, 4, xs);
  if (!x4) return lst_error(L);
  int64_t ys[4] = {xs[0], xs[1], oh, ow};
  st_tensor *y4 = st_tensor_new(4, ys, st_tensor_device(x));
  int rc = y4 ? st_resize_bilinear_forward(y4, x4) : -1;
  st_tensor_release(x4);
  if (rc != 0) {
    st_tensor_release(y4);
    return lst_error(L);
  }
  st_tensor *y = st_tensor_view(y4, x->ndim, ys + 4 - x->ndim);
  st_tensor_release(y4);
  lst_push_tensor(L, y);
  return 1;
}

static const luaL_Reg functions[] = {{"same_pads", l_same_pads},
                                     {"conv2d", l_conv2d},
                                     {"conv2d_backward", l_conv2d_backward},
                                     {"conv_transpose2d", l_conv_transpose2d},
                                     {"conv_transpose2d_backward", l_conv_transpose2d_backward},
                                     {"instance_norm", l_instance_norm},
                                     {"instance_norm_backward", l_instance_norm_backward},
                                     {"relu", l_relu},
                                     {"relu_backward", l_relu_backward},
                                     {"tanh", l_tanh},
                                     {"tanh_backward", l_tanh_backward},
                                     {"add", l_add},
                                     {"affine", l_affine},
                                     {"pad2d", l_pad2d},
                                     {"pad2d_backward", l_pad2d_backward},
                                     {"resize", l_resize},
                                     {NULL, NULL}};

void lst_open_ops(lua_State *L) {
  lst_add_ops(L, functions);
}
