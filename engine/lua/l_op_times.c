/* STRATA_OP_TIMES=1: every function in strata.core's "ops" table is wrapped to
 * count its calls and wall time; at exit the totals go to stderr, slowest
 * first (profiling: which ops a training step spends its time in). Device ops
 * that run asynchronously are timed as launched, so this is for the CPU. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lstrata.h"

#define MAX_OPS 128

typedef struct {
  const char *name;
  long calls;
  double seconds;
} op_total;
static op_total ops[MAX_OPS];
static int n_ops, enabled = -1;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int by_time(const void *a, const void *b) {
  const double x = ((const op_total *)a)->seconds, y = ((const op_total *)b)->seconds;
  return x < y ? 1 : x > y ? -1 : 0;
}

static void report(void) {
  double total = 0;
  for (int i = 0; i < n_ops; i++) total += ops[i].seconds;
  qsort(ops, (size_t)n_ops, sizeof ops[0], by_time);
  fprintf(stderr, "STRATA_OP_TIMES: %.3f s in ops\n%-28s %8s %10s %6s\n", total, "op", "calls", "seconds", "%");
  for (int i = 0; i < n_ops && ops[i].calls; i++)
    fprintf(stderr, "%-28s %8ld %10.4f %6.1f\n", ops[i].name, ops[i].calls, ops[i].seconds,
            total > 0 ? 100.0 * ops[i].seconds / total : 0.0);
}

/* upvalue 1: the op; upvalue 2: its slot. Errors propagate (that call's time is lost). */
static int timed(lua_State *L) {
  const int n = lua_gettop(L), slot = (int)lua_tointeger(L, lua_upvalueindex(2));
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  const double t0 = now();
  lua_call(L, n, LUA_MULTRET);
  ops[slot].seconds += now() - t0;
  ops[slot].calls++;
  return lua_gettop(L);
}

int lst_op_times_enabled(void) {
  if (enabled < 0) {
    const char *v = getenv("STRATA_OP_TIMES");
    enabled = v && *v && *v != '0';
    if (enabled) atexit(report);
  }
  return enabled;
}

/* With a table on top of the stack: sets table[name] = the timed fn. */
void lst_set_timed_op(lua_State *L, const char *name, lua_CFunction fn) {
  int slot = -1;
  for (int i = 0; i < n_ops; i++)
    if (ops[i].name == name) slot = i;
  if (slot < 0 && n_ops < MAX_OPS) {
    slot = n_ops++;
    ops[slot].name = name;
  }
  if (slot < 0) { /* more ops than slots: register it untimed */
    lua_pushcfunction(L, fn);
  } else {
    lua_pushcfunction(L, fn);
    lua_pushinteger(L, slot);
    lua_pushcclosure(L, timed, 2);
  }
  lua_setfield(L, -2, name);
}
