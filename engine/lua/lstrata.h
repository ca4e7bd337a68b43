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

/* A Lua handle on work started in C and finished later (engine/lua/l_pending.c):
 * pending:wait() calls finish(L, work, path), which pushes the result (or
 * raises); collected unwaited, abandon(work) runs. lst_new_pending pushes the
 * handle with work NULL; the caller then starts the work and sets ->work. */
typedef int (*lst_finish_fn)(lua_State *L, void *work, const char *path);
typedef void (*lst_abandon_fn)(void *work);
typedef struct {
  void *work;
  char *path;
  const char *what; /* for "<what>: already waited for" */
  lst_finish_fn finish;
  lst_abandon_fn abandon;
} lst_pending;
lst_pending *lst_new_pending(lua_State *L, const char *what, const char *path, lst_finish_fn finish,
                             lst_abandon_fn abandon);
/* Reads a shape from a table of integers at idx; returns ndim. */
int lst_check_shape(lua_State *L, int idx, int64_t shape[ST_MAX_DIMS]);
/* Pushes a shape as a Lua table of integers. */
void lst_push_shape(lua_State *L, int ndim, const int64_t *shape);
/* Device from an optional string argument ("cpu", "cuda", "cuda:N"). */
st_device lst_opt_device(lua_State *L, int idx);

/* For op bindings: a new tensor of this shape on `like`'s device, or a Lua error. */
st_tensor *lst_new_tensor(lua_State *L, int ndim, const int64_t *shape, const st_tensor *like);
/* Pushes y (taking its reference; nil when y is NULL) when rc == 0, else
 * releases it and raises. */
int lst_push_result(lua_State *L, int rc, st_tensor *y);
/* Field `key` of the parameter table at idx as n integers: one integer is
 * repeated, a list must hold exactly n; absent, all n are `dflt`. */
void lst_int_field(lua_State *L, int idx, const char *key, int *out, int n, int dflt);
/* With strata.core on top of the stack, adds fns to its "ops" table. */
void lst_add_ops(lua_State *L, const luaL_Reg *fns);
/* STRATA_OP_TIMES (l_op_times.c): whether ops are timed; registering one timed. */
/* Called first thing in bin/strata's main (after its re-exec): the origin of
 * strata.sys.since_main(). */
void lst_mark_main(void);
int lst_op_times_enabled(void);
void lst_set_timed_op(lua_State *L, const char *name, lua_CFunction fn);

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
void lst_add_sys_run(lua_State *L); /* adds to the "sys" table on top of the stack */
void lst_open_onnx(lua_State *L);
void lst_open_npy(lua_State *L);
void lst_open_pipe(lua_State *L);
void lst_open_colour(lua_State *L); /* adds to the "ops" table */

/* The module table "strata.core". */
int luaopen_strata_core(lua_State *L);

#endif
