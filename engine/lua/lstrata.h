/* Shared helpers of the Lua bindings (one file per exposed type or family). */
#ifndef STRATA_LSTRATA_H
#define STRATA_LSTRATA_H

#include <lauxlib.h>
#include <lua.h>

#include "../tensor.h"

#define LST_TENSOR_MT "strata.Tensor"

/* The tensor at idx, or a Lua error naming the argument. */
st_tensor *lst_check_tensor(lua_State *L, int idx);
/* NULL when idx is nil or absent. */
st_tensor *lst_opt_tensor(lua_State *L, int idx);
/* Pushes t as userdata, taking over the caller's reference. If t is NULL,
 * raises the current st_error() message as a Lua error. */
void lst_push_tensor(lua_State *L, st_tensor *t);
/* Raises the current st_error() message as a Lua error. */
int lst_error(lua_State *L);
/* Reads a shape from a table of integers at idx; returns ndim. */
int lst_check_shape(lua_State *L, int idx, int64_t shape[ST_MAX_DIMS]);
/* Pushes a shape as a Lua table of integers. */
void lst_push_shape(lua_State *L, int ndim, const int64_t *shape);
/* Device from an optional string argument ("cpu", "cuda", "cuda:N"). */
st_device lst_opt_device(lua_State *L, int idx);

/* Registers functions of one family into the table on top of the stack. */
void lst_open_tensor(lua_State *L);
void lst_open_ops(lua_State *L);
void lst_open_train_ops(lua_State *L); /* adds to the "ops" table */
void lst_open_fcrn_ops(lua_State *L);  /* adds to the "ops" table */
void lst_open_rng(lua_State *L);
void lst_open_data(lua_State *L);
void lst_open_image(lua_State *L);
void lst_open_weights(lua_State *L);
void lst_open_sys(lua_State *L);

/* The module table "strata.core". */
int luaopen_strata_core(lua_State *L);

#endif
