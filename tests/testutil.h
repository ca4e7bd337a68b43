/* Helpers shared by the C test programs; include after tap.h. Everything is
 * static inline, so a test pays only for what it uses. */
#ifndef STRATA_TESTUTIL_H
#define STRATA_TESTUTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/error.h"
#include "engine/tensor.h"
#include "tap.h"

/* ---- deterministic random numbers (xorshift64; each test seeds its own) ---- */

static inline uint64_t *tu_rng_state(void) {
  static uint64_t s = 0x2545F4914F6CDD1Dull;
  return &s;
}
/* Call first thing in main() so every run draws the same sequence. */
static inline void tu_seed(uint64_t seed) { *tu_rng_state() = seed; }

/* uniform [0, 1) */
static inline double urand(void) {
  uint64_t *r = tu_rng_state();
  *r ^= *r << 13, *r ^= *r >> 7, *r ^= *r << 17;
  return (double)(*r >> 11) * (1.0 / 9007199254740992.0);
}
/* uniform in [-1, 1) */
static inline float frand(void) { return (float)(urand() * 2.0 - 1.0); }

static inline void fill_u(st_tensor *t, double lo, double hi) {
  float *p = st_tensor_data(t);
  for (int64_t i = 0; i < t->numel; i++) p[i] = (float)(lo + (hi - lo) * urand());
}
/* A new CPU tensor of frand() values. */
static inline st_tensor *rand_t(int ndim, const int64_t *s) {
  st_tensor *t = st_tensor_new(ndim, s, st_cpu());
  for (int64_t i = 0; i < t->numel; i++) st_tensor_data(t)[i] = frand();
  return t;
}

/* ---- comparisons ---- */

static inline double max_abs(const double *a, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
  return m;
}
/* max |a - b| / max |b| (infinity norms); a NaN anywhere gives +inf. */
static inline double rel_err_d(const float *a, const double *b, int64_t n) {
  double e = 0, s = 0;
  for (int64_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - b[i]);
    if (!(d == d)) return INFINITY;
    e = fmax(e, d);
    s = fmax(s, fabs(b[i]));
  }
  return e / (s > 0 ? s : 1.0);
}
static inline double rel_err_f(const float *a, const float *b, int64_t n) {
  double e = 0, s = 0;
  for (int64_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - (double)b[i]);
    if (!(d == d)) return INFINITY;
    e = fmax(e, d);
    s = fmax(s, fabs((double)b[i]));
  }
  return e / (s > 0 ? s : 1.0);
}
static inline void check_rel(const char *name, const float *a, const float *b, int64_t n, double tol) {
  double e = rel_err_f(a, b, n);
  tap_ok(e < tol, "%s (rel err %.2g)", name, e);
}
static inline void check_rel_d(const char *name, const float *a, const double *b, int64_t n, double tol) {
  double e = rel_err_d(a, b, n);
  tap_ok(e < tol, "%s (rel err %.2g)", name, e);
}

/* max over i of |a - b| / (1 + |b|); a NaN sticks. */
static inline double max_err_1p(const float *a, const double *b, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; i++) {
    double e = fabs(a[i] - b[i]) / (1.0 + fabs(b[i]));
    if (!(e <= m)) m = e;
  }
  return m;
}
/* Every |a - b| <= tol * (1 + |b|). */
static inline int same_within(const st_tensor *a, const st_tensor *b, double tol) {
  for (int64_t i = 0; i < a->numel; i++)
    if (!(fabs(st_tensor_data(a)[i] - st_tensor_data(b)[i]) <= tol * (1 + fabs(st_tensor_data(b)[i])))) return 0;
  return 1;
}

/* Finite differences fd against the analytic gradient an:
 * max |fd - an| <= rtol * max |an| + atol. */
static inline int close_fd(const double *fd, const float *an, int64_t n, double rtol, double atol, const char *name) {
  double e = 0, m = 0;
  for (int64_t i = 0; i < n; i++) {
    e = fmax(e, fabs(fd[i] - an[i]));
    m = fmax(m, fabs((double)an[i]));
  }
  return tap_ok(e <= rtol * m + atol, "%s matches finite differences (max err %.3g, max |grad| %.3g)", name, e, m);
}

/* rc is -1 and the recorded error contains s1 (and s2 unless NULL); clears it. */
static inline void expect_st_error(int rc, const char *what, const char *s1, const char *s2) {
  const char *m = st_last_error();
  if (!tap_ok(rc == -1 && strstr(m, s1) && (!s2 || strstr(m, s2)), "error: %s", what))
    tap_diag("rc %d, message: %s", rc, m);
  st_clear_error();
}

/* ---- stderr capture: stderr goes to errfile between begin and end ---- */

static inline int *tu_saved_stderr(void) {
  static int fd = -1;
  return &fd;
}
static inline void tu_quiet_begin(const char *errfile) {
  fflush(stderr);
  *tu_saved_stderr() = dup(2);
  int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  dup2(fd, 2);
  close(fd);
}
/* Restores stderr; returns how many bytes were printed meanwhile. */
static inline long tu_quiet_end(const char *errfile) {
  fflush(stderr);
  dup2(*tu_saved_stderr(), 2);
  close(*tu_saved_stderr());
  struct stat sb;
  return stat(errfile, &sb) == 0 ? (long)sb.st_size : -1;
}

/* ---- a flat temporary folder ---- */

/* Unlinks every entry of dir (no subfolders), then dir itself. */
static inline void tu_remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char path[1024];
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
  closedir(d);
  rmdir(dir);
}
/* Entries of dir whose name contains `part`. */
static inline int tu_count_files(const char *dir, const char *part) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (strstr(e->d_name, part)) n++;
  if (d) closedir(d);
  return n;
}

/* ---- CUDA-vs-CPU scaffolding: define TESTUTIL_GPU before including ---- */
#ifdef TESTUTIL_GPU

static st_device gpu;

/* Every tensor a check makes is kept here and released by release_all(). */
#define MAX_KEPT 256
static st_tensor *kept[MAX_KEPT];
static int n_kept;

static inline st_tensor *keep(st_tensor *t) {
  if (!t) {
    tap_diag("tensor allocation failed: %s", st_last_error());
    exit(1);
  }
  if (n_kept == MAX_KEPT) {
    tap_diag("test bug: more than %d tensors kept", MAX_KEPT);
    exit(1);
  }
  kept[n_kept++] = t;
  return t;
}

static inline void release_all(void) {
  for (int i = 0; i < n_kept; i++) st_tensor_release(kept[i]);
  n_kept = 0;
}

/* A CPU tensor of uniform values in [lo, hi). */
static inline st_tensor *rand_cpu(int ndim, const int64_t *shape, float lo, float hi) {
  st_tensor *t = keep(st_tensor_new(ndim, shape, st_cpu()));
  for (int64_t i = 0; i < t->numel; i++) st_tensor_data(t)[i] = lo + (hi - lo) * 0.5f * (frand() + 1.0f);
  return t;
}
static inline st_tensor *on_gpu(const st_tensor *t) { return t ? keep(st_tensor_to(t, gpu)) : NULL; }
static inline st_tensor *empty4(const int64_t s[4], st_device dev) { return keep(st_tensor_new(4, s, dev)); }

/* ok when every element is bitwise equal or both are NaN. */
static inline int compare_exact(const st_tensor *g, const st_tensor *c, const char *what) {
  st_tensor *h = keep(st_tensor_to(g, st_cpu()));
  const float *a = st_tensor_data(h), *b = st_tensor_data(c);
  for (int64_t i = 0; i < c->numel; i++) {
    int same = (a[i] != a[i] && b[i] != b[i]) || memcmp(&a[i], &b[i], sizeof(float)) == 0;
    if (!same) {
      tap_ok(0, "%s", what);
      tap_diag("first difference at %lld: gpu %.9g cpu %.9g", (long long)i, a[i], b[i]);
      return 0;
    }
  }
  return tap_ok(1, "%s", what);
}

/* ok when max |gpu - cpu| <= rtol * max |cpu| (every value finite). */
static inline int compare(const st_tensor *g, const st_tensor *c, double rtol, const char *what) {
  st_tensor *h = keep(st_tensor_to(g, st_cpu()));
  const float *a = st_tensor_data(h), *b = st_tensor_data(c);
  double maxdiff = 0.0, maxref = 0.0;
  int64_t worst = 0, bad = -1;
  if (h->numel != c->numel)
    return tap_ok(0, "%s: %lld vs %lld elements", what, (long long)h->numel, (long long)c->numel);
  for (int64_t i = 0; i < c->numel; i++) {
    if (!isfinite(a[i]) || !isfinite(b[i])) {
      if (bad < 0) bad = i;
      continue;
    }
    double d = fabs((double)a[i] - (double)b[i]);
    if (d > maxdiff) {
      maxdiff = d;
      worst = i;
    }
    if (fabs((double)b[i]) > maxref) maxref = fabs((double)b[i]);
  }
  int good = bad < 0 && maxdiff <= rtol * maxref;
  if (!tap_ok(good, "%s (max diff %.3g, max |ref| %.3g)", what, maxdiff, maxref)) {
    if (bad >= 0) tap_diag("non-finite at %lld: gpu %g cpu %g", (long long)bad, a[bad], b[bad]);
    tap_diag("worst at %lld: gpu %.9g cpu %.9g", (long long)worst, a[worst], b[worst]);
  }
  return good;
}

static inline void ok_rc(int rc, const char *what) {
  if (!tap_ok(rc == 0, "%s runs", what)) tap_diag("%s", st_last_error());
}

#endif /* TESTUTIL_GPU */

#endif
