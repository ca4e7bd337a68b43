/* Minimal TAP producer for C tests (prove reads its output). */
#ifndef STRATA_TAP_H
#define STRATA_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n = 0, tap_failed = 0;

static inline void tap_plan(int n) { printf("1..%d\n", n); }

/* Skips the whole file: "1..0 # SKIP reason". */
static inline void tap_skip_all(const char *reason) {
  printf("1..0 # SKIP %s\n", reason);
  exit(0);
}

static inline int tap_ok(int cond, const char *fmt, ...) {
  va_list ap;
  tap_n++;
  printf("%sok %d - ", cond ? "" : "not ", tap_n);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  if (!cond) tap_failed++;
  fflush(stdout);
  return cond;
}

static inline void tap_skip(const char *reason) {
  tap_n++;
  printf("ok %d # SKIP %s\n", tap_n, reason);
}

static inline void tap_diag(const char *fmt, ...) {
  va_list ap;
  printf("# ");
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
}

/* |a - b| <= atol + rtol * |b| */
static inline int tap_close(double a, double b, double atol, double rtol, const char *name) {
  int good = isfinite(a) && fabs(a - b) <= atol + rtol * fabs(b);
  if (!tap_ok(good, "%s", name)) tap_diag("got %.9g, expected %.9g", a, b);
  return good;
}

/* Call at the end when no plan was printed first; returns the exit status. */
static inline int tap_done(void) {
  printf("1..%d\n", tap_n);
  return tap_failed ? 1 : 0;
}

#endif
