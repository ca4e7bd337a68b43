/* conv2d: forward against a naive direct convolution, backward against a
 * naive double-precision backward and central finite differences, tiling,
 * gradient accumulation, NULL gradients, argument errors, TF 'SAME' pads;
 * every case under each implementation (im2col, oneDNN direct and Winograd
 * when built with oneDNN, the few-output-channel kernel, the automatic
 * choice), bit-identical repeats, and the ISA profiles: under
 * ONEDNN_MAX_CPU_ISA=AVX2 the few-channel kernel runs its AVX2 version (checked
 * against the naive reference and finite differences), under SSE41 none. */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "engine/error.h"
#include "engine/ops/ops.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/conv2d_few.h"
#include "kernels/cpu/cpu_isa.h"
#include "kernels/cpu/dnnl_conv.h"
#include "kernels/cpu/im2col.h"
#include "tap.h"
#include "testutil.h"


typedef struct {
  const char *name;
  int N, C, H, W, K, kh, kw, sh, sw, pt, pb, pl, pr;
  st_pad_mode mode;
  int bias;
} cfg;

static int out_h(const cfg *c) { return (c->H + c->pt + c->pb - c->kh) / c->sh + 1; }
static int out_w(const cfg *c) { return (c->W + c->pl + c->pr - c->kw) / c->sw + 1; }
static st_conv2d_params params(const cfg *c) {
  st_conv2d_params p = {c->sh, c->sw, c->pt, c->pb, c->pl, c->pr, c->mode};
  return p;
}

/* Index into the unpadded input for padded position t - before, or -1 for a zero. */
static int src(int t, int n, st_pad_mode mode) {
  if (t >= 0 && t < n) return t;
  if (mode == ST_PAD_ZERO) return -1;
  if (mode == ST_PAD_REFLECT) return t < 0 ? -t : 2 * (n - 1) - t;
  return t < 0 ? 0 : n - 1;
}

/* The 7 nested loops, in double. */
static void naive_forward(const cfg *c, const float *x, const float *w, const float *b, double *y) {
  int OH = out_h(c), OW = out_w(c);
  for (int n = 0; n < c->N; n++)
    for (int k = 0; k < c->K; k++)
      for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++) {
          double s = b ? b[k] : 0.0;
          for (int ch = 0; ch < c->C; ch++)
            for (int i = 0; i < c->kh; i++)
              for (int j = 0; j < c->kw; j++) {
                int ih = src(oh * c->sh - c->pt + i, c->H, c->mode), iw = src(ow * c->sw - c->pl + j, c->W, c->mode);
                if (ih < 0 || iw < 0) continue;
                s += (double)w[((k * c->C + ch) * c->kh + i) * c->kw + j] *
                     x[((n * c->C + ch) * c->H + ih) * c->W + iw];
              }
          y[((n * c->K + k) * OH + oh) * OW + ow] = s;
        }
}

static void naive_backward(const cfg *c, const float *dy, const float *x, const float *w, double *dx, double *dw,
                           double *db) {
  int OH = out_h(c), OW = out_w(c);
  memset(dx, 0, sizeof(double) * (size_t)(c->N * c->C * c->H * c->W));
  memset(dw, 0, sizeof(double) * (size_t)(c->K * c->C * c->kh * c->kw));
  memset(db, 0, sizeof(double) * (size_t)c->K);
  for (int n = 0; n < c->N; n++)
    for (int k = 0; k < c->K; k++)
      for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++) {
          double g = dy[((n * c->K + k) * OH + oh) * OW + ow];
          db[k] += g;
          for (int ch = 0; ch < c->C; ch++)
            for (int i = 0; i < c->kh; i++)
              for (int j = 0; j < c->kw; j++) {
                int ih = src(oh * c->sh - c->pt + i, c->H, c->mode), iw = src(ow * c->sw - c->pl + j, c->W, c->mode);
                if (ih < 0 || iw < 0) continue;
                int xi = ((n * c->C + ch) * c->H + ih) * c->W + iw, wi = ((k * c->C + ch) * c->kh + i) * c->kw + j;
                dx[xi] += g * w[wi];
                dw[wi] += g * x[xi];
              }
        }
}

/* L = sum(y * r) with the op under test. */
static double loss(const cfg *c, st_tensor *y, st_tensor *x, st_tensor *w, st_tensor *b, const st_tensor *r) {
  st_conv2d_params p = params(c);
  if (st_conv2d_forward(y, x, w, b, &p) != 0) return NAN;
  double s = 0;
  for (int64_t i = 0; i < y->numel; i++) s += (double)st_tensor_data(y)[i] * st_tensor_data(r)[i];
  return s;
}

/* Central differences on up to `samples` elements of t against the analytic gradient g. */
static int fd_check(const cfg *c, st_tensor *t, const float *g, int samples, st_tensor *y, st_tensor *x,
                    st_tensor *w, st_tensor *b, const st_tensor *r, double *worst) {
  const float eps = 1e-2f;
  int bad = 0;
  int64_t step = t->numel / samples + 1;
  for (int64_t i = (int64_t)((frand() + 1) * 0.5 * (double)step) % step; i < t->numel; i += step) {
    float *v = st_tensor_data(t) + i, old = *v;
    *v = old + eps;
    double lp = loss(c, y, x, w, b, r);
    *v = old - eps;
    double lm = loss(c, y, x, w, b, r);
    *v = old;
    double fd = (lp - lm) / (2.0 * eps), e = fabs(fd - g[i]);
    if (!(e <= 2e-3 + 1e-2 * fabs(g[i]))) bad++;
    if (!(e <= *worst)) *worst = e;
  }
  return bad == 0;
}

static void check_case(const cfg *c, int with_fd) {
  int64_t xs[4] = {c->N, c->C, c->H, c->W}, ws[4] = {c->K, c->C, c->kh, c->kw}, bs[1] = {c->K};
  int64_t ys[4] = {c->N, c->K, out_h(c), out_w(c)}, got[4];
  st_tensor *x = rand_t(4, xs), *w = rand_t(4, ws), *b = c->bias ? rand_t(1, bs) : NULL;
  st_tensor *y = st_tensor_new(4, ys, st_cpu()), *r = rand_t(4, ys);
  st_conv2d_params p = params(c);

  int rc = st_conv2d_shape(x, w, &p, got);
  tap_ok(rc == 0 && !memcmp(got, ys, sizeof ys), "%s: shape [%lld, %lld, %lld, %lld]", c->name, (long long)ys[0],
         (long long)ys[1], (long long)ys[2], (long long)ys[3]);

  double *yr = malloc(sizeof(double) * (size_t)y->numel);
  naive_forward(c, st_tensor_data(x), st_tensor_data(w), b ? st_tensor_data(b) : NULL, yr);
  st_tensor_fill(y, NAN);
  rc = st_conv2d_forward(y, x, w, b, &p);
  double e = max_err_1p(st_tensor_data(y), yr, y->numel);
  /* strata's Winograd rounds ~10x coarser than a direct conv (its transforms'
   * constants; tests/unit/test_conv2d_wino.c bounds it against sum |w||x|):
   * ~7e-5 of 1 + |y| at 32 channels here, so it gets 3x the margin. */
  const double tol = st_cpu_conv_effective_impl() == ST_CONV_WINO ? 3e-4 : 1e-4;
  if (!tap_ok(rc == 0 && e <= tol, "%s: forward matches naive (max rel err %.2g)", c->name, e) && rc)
    tap_diag("%s", st_last_error());

  /* Backward with dy = r, so dx/dw/db are the gradients of L = sum(y * r). dx
   * starts as NaN (it must be overwritten); dw and db start at zero (accumulated). */
  st_tensor *dx = st_tensor_new(4, xs, st_cpu()), *dw = st_tensor_zeros(4, ws, st_cpu());
  st_tensor *db = st_tensor_zeros(1, bs, st_cpu());
  st_tensor_fill(dx, NAN);
  rc = st_conv2d_backward(dx, dw, db, r, x, w, &p);
  double *dxr = malloc(sizeof(double) * (size_t)x->numel), *dwr = malloc(sizeof(double) * (size_t)w->numel),
         dbr[64];
  naive_backward(c, st_tensor_data(r), st_tensor_data(x), st_tensor_data(w), dxr, dwr, dbr);
  double ex = max_err_1p(st_tensor_data(dx), dxr, x->numel), ew = max_err_1p(st_tensor_data(dw), dwr, w->numel),
         eb = max_err_1p(st_tensor_data(db), dbr, c->K);
  if (!tap_ok(rc == 0 && ex <= tol && ew <= tol && eb <= 1e-4,
              "%s: backward matches naive double (dx %.2g, dw %.2g, db %.2g)", c->name, ex, ew, eb) &&
      rc)
    tap_diag("%s", st_last_error());

  if (with_fd) {
    double wx = 0, ww = 0, wb = 0;
    int okx = fd_check(c, x, st_tensor_data(dx), 24, y, x, w, b, r, &wx);
    int okw = fd_check(c, w, st_tensor_data(dw), 24, y, x, w, b, r, &ww);
    int okb = !b || fd_check(c, b, st_tensor_data(db), c->K, y, x, w, b, r, &wb);
    tap_ok(okx && okw && okb, "%s: dx, dw%s match finite differences (max abs err %.2g, %.2g, %.2g)", c->name,
           b ? ", db" : "", wx, ww, wb);
  }
  free(yr);
  free(dxr);
  free(dwr);
  st_tensor_release(x);
  st_tensor_release(w);
  st_tensor_release(b);
  st_tensor_release(y);
  st_tensor_release(r);
  st_tensor_release(dx);
  st_tensor_release(dw);
  st_tensor_release(db);
}

/* dw/db accumulate across calls; dx is assigned; NULL gradients are skipped. */
static void check_accumulate_and_null(void) {
  cfg c = {"acc", 2, 3, 7, 5, 4, 3, 3, 2, 1, 1, 0, 2, 1, ST_PAD_REFLECT, 1};
  int64_t xs[4] = {2, 3, 7, 5}, ws[4] = {4, 3, 3, 3}, bs[1] = {4}, ys[4] = {2, 4, out_h(&c), out_w(&c)};
  st_conv2d_params p = params(&c);
  st_tensor *x = rand_t(4, xs), *w = rand_t(4, ws), *dy = rand_t(4, ys);
  st_tensor *dx1 = st_tensor_new(4, xs, st_cpu()), *dw1 = st_tensor_zeros(4, ws, st_cpu()),
            *db1 = st_tensor_zeros(1, bs, st_cpu());
  st_conv2d_backward(dx1, dw1, db1, dy, x, w, &p);

  st_tensor *dx = st_tensor_new(4, xs, st_cpu()), *dw = rand_t(4, ws), *db = rand_t(1, bs);
  st_tensor *dw0 = st_tensor_clone(dw), *db0 = st_tensor_clone(db);
  int rc = st_conv2d_backward(dx, dw, db, dy, x, w, &p) | st_conv2d_backward(dx, dw, db, dy, x, w, &p);
  int good = rc == 0;
  for (int64_t i = 0; i < dw->numel; i++)
    good &= fabs(st_tensor_data(dw)[i] - (st_tensor_data(dw0)[i] + 2 * st_tensor_data(dw1)[i])) <=
            1e-4 * (1 + fabs(st_tensor_data(dw1)[i]));
  for (int64_t i = 0; i < db->numel; i++)
    good &= fabs(st_tensor_data(db)[i] - (st_tensor_data(db0)[i] + 2 * st_tensor_data(db1)[i])) <=
            1e-4 * (1 + fabs(st_tensor_data(db1)[i]));
  tap_ok(good, "backward twice: dw and db accumulate (w0 + 2g), not overwrite");
  tap_ok(same_within(dx, dx1, 1e-6), "backward twice: dx is assigned, not accumulated");

  st_tensor *dxa = st_tensor_new(4, xs, st_cpu()), *dwa = st_tensor_zeros(4, ws, st_cpu()),
            *dba = st_tensor_zeros(1, bs, st_cpu());
  rc = st_conv2d_backward(dxa, NULL, NULL, dy, x, w, &p);
  tap_ok(rc == 0 && same_within(dxa, dx1, 1e-6), "backward with only dx");
  rc = st_conv2d_backward(NULL, dwa, NULL, dy, x, w, &p);
  tap_ok(rc == 0 && same_within(dwa, dw1, 1e-6), "backward with only dw");
  rc = st_conv2d_backward(NULL, NULL, dba, dy, x, w, &p);
  tap_ok(rc == 0 && same_within(dba, db1, 1e-6), "backward with only db");
  tap_ok(st_conv2d_backward(NULL, NULL, NULL, dy, x, w, &p) == 0, "backward with no gradients at all");

  st_tensor *all[] = {x, w, dy, dx1, dw1, db1, dx, dw, db, dw0, db0, dxa, dwa, dba};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) st_tensor_release(all[i]);
}

static void check_errors(void) {
  int64_t xs[4] = {2, 3, 7, 5}, ws[4] = {4, 3, 3, 3}, ys[4] = {2, 4, 7, 5}, x3[3] = {3, 7, 5}, w2[4] = {4, 2, 3, 3};
  int64_t w9[4] = {4, 3, 9, 9}, b5[1] = {5}, bad_y[4] = {2, 4, 5, 3};
  st_conv2d_params p = {1, 1, 1, 1, 1, 1, ST_PAD_ZERO}, p0 = {1, 1, 0, 0, 0, 0, ST_PAD_ZERO};
  st_tensor *x = rand_t(4, xs), *w = rand_t(4, ws), *y = st_tensor_new(4, ys, st_cpu());
  st_tensor *xbad = rand_t(3, x3), *wc = rand_t(4, w2), *wbig = rand_t(4, w9), *b = rand_t(1, b5);
  st_tensor *ybad = st_tensor_new(4, bad_y, st_cpu()), *dwbad = rand_t(4, w2);
  int64_t out[4];

  expect_st_error(st_conv2d_forward(y, xbad, w, NULL, &p), "x not 4-D", "conv2d x", "[3, 7, 5]");
  expect_st_error(st_conv2d_forward(y, x, wc, NULL, &p), "C of x differs from w", "[2, 3, 7, 5]", "[4, 2, 3, 3]");
  expect_st_error(st_conv2d_forward(ybad, x, w, NULL, &p), "y of the wrong shape", "conv2d forward y",
               "expected shape [2, 4, 7, 5], got [2, 4, 5, 3]");
  expect_st_error(st_conv2d_forward(y, x, w, b, &p), "bias of the wrong length", "conv2d forward b",
               "expected shape [4], got [5]");
  expect_st_error(st_conv2d_shape(x, wbig, &p0, out), "kernel larger than the input", "9x9", "negative");
  st_conv2d_params pr = {1, 1, 7, 0, 0, 0, ST_PAD_REFLECT};
  expect_st_error(st_conv2d_shape(x, w, &pr, out), "reflect pad not smaller than the input", "reflect", NULL);
  st_conv2d_params ps = {0, 1, 0, 0, 0, 0, ST_PAD_ZERO};
  expect_st_error(st_conv2d_shape(x, w, &ps, out), "stride 0", "stride", NULL);
  st_conv2d_params pn = {1, 1, -1, 0, 0, 0, ST_PAD_ZERO};
  expect_st_error(st_conv2d_shape(x, w, &pn, out), "negative pad", "negative", NULL);
  expect_st_error(st_conv2d_backward(NULL, NULL, NULL, ybad, x, w, &p), "dy of the wrong shape", "conv2d backward dy",
               "[2, 4, 7, 5]");
  expect_st_error(st_conv2d_backward(NULL, dwbad, NULL, y, x, w, &p), "dw of the wrong shape", "conv2d backward dw",
               "[4, 3, 3, 3]");
  expect_st_error(st_conv2d_backward(ybad, NULL, NULL, y, x, w, &p), "dx of the wrong shape", "conv2d backward dx",
               "[2, 3, 7, 5]");
  expect_st_error(st_conv2d_backward(NULL, NULL, b, y, x, w, &p), "db of the wrong length", "conv2d backward db", "[4]");

  st_tensor *all[] = {x, w, y, xbad, wc, wbig, b, ybad, dwbad};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) st_tensor_release(all[i]);
}

static void check_same_pads(void) {
  struct { int in, k, s, b, a; } t[] = {{256, 3, 2, 0, 1}, {237, 3, 2, 1, 1}, {474, 9, 1, 4, 4}, {8, 3, 2, 0, 1},
                                        {7, 1, 2, 0, 0},   {5, 3, 1, 1, 1}};
  for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
    int b = -9, a = -9;
    st_same_pads(t[i].in, t[i].k, t[i].s, &b, &a);
    tap_ok(b == t[i].b && a == t[i].a, "st_same_pads(in %d, k %d, s %d) = (%d, %d), expected (%d, %d)", t[i].in,
           t[i].k, t[i].s, b, a, t[i].b, t[i].a);
  }
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Not asserted: the speed of a typical residual-block conv (automatic choice). */
static void timing(void) {
  int64_t xs[4] = {1, 128, 64, 64}, ws[4] = {128, 128, 3, 3};
  st_tensor *x = rand_t(4, xs), *w = rand_t(4, ws), *y = st_tensor_new(4, xs, st_cpu());
  st_tensor *dx = st_tensor_new(4, xs, st_cpu()), *dw = st_tensor_zeros(4, ws, st_cpu());
  st_conv2d_params p = {1, 1, 1, 1, 1, 1, ST_PAD_ZERO};
  double flop = 2.0 * 128 * 128 * 9 * 64 * 64;
  st_conv2d_forward(y, x, w, NULL, &p); /* warm-up: oneDNN builds its primitives on first use */
  st_conv2d_backward(dx, dw, NULL, y, x, w, &p);
  int reps = 5;
  double t0 = now();
  for (int i = 0; i < reps; i++) st_conv2d_forward(y, x, w, NULL, &p);
  double tf = (now() - t0) / reps;
  t0 = now();
  for (int i = 0; i < reps; i++) st_conv2d_backward(dx, dw, NULL, y, x, w, &p);
  double tb = (now() - t0) / reps;
  tap_diag("conv2d 128->128 3x3 on 1x128x64x64: forward %.2f ms (%.1f GFLOP/s), backward dx+dw %.2f ms (%.1f GFLOP/s)",
           tf * 1e3, flop / tf * 1e-9, tb * 1e3, 2 * flop / tb * 1e-9);
  st_tensor_release(x);
  st_tensor_release(w);
  st_tensor_release(y);
  st_tensor_release(dx);
  st_tensor_release(dw);
}

/* The same inputs give bit-identical outputs and gradients on every call
 * (training runs must resume exactly), here on a shape where the automatic
 * choice takes oneDNN's Winograd. */
static void check_repeatable(void) {
  int64_t xs[4] = {2, 32, 16, 16}, ws[4] = {32, 32, 3, 3};
  st_conv2d_params p = {1, 1, 1, 1, 1, 1, ST_PAD_ZERO};
  st_tensor *x = rand_t(4, xs), *w = rand_t(4, ws), *dy = rand_t(4, xs);
  st_tensor *y[2], *dx[2], *dw[2];
  int rc = 0;
  for (int i = 0; i < 2; i++) {
    y[i] = st_tensor_new(4, xs, st_cpu());
    dx[i] = st_tensor_new(4, xs, st_cpu());
    dw[i] = st_tensor_zeros(4, ws, st_cpu());
    rc |= st_conv2d_forward(y[i], x, w, NULL, &p) | st_conv2d_backward(dx[i], dw[i], NULL, dy, x, w, &p);
  }
  tap_ok(rc == 0 && !memcmp(st_tensor_data(y[0]), st_tensor_data(y[1]), sizeof(float) * (size_t)y[0]->numel) &&
             !memcmp(st_tensor_data(dx[0]), st_tensor_data(dx[1]), sizeof(float) * (size_t)dx[0]->numel) &&
             !memcmp(st_tensor_data(dw[0]), st_tensor_data(dw[1]), sizeof(float) * (size_t)dw[0]->numel),
         "repeated forward and backward are bit-identical");
  for (int i = 0; i < 2; i++) {
    st_tensor_release(y[i]);
    st_tensor_release(dx[i]);
    st_tensor_release(dw[i]);
  }
  st_tensor_release(x);
  st_tensor_release(w);
  st_tensor_release(dy);
}

/* The few-channel cases (K <= 4 or C <= 4, stride 1) under an ISA cap. */
static void run_few_cases(const cfg *cases, int ncases, const char *profile) {
  for (int m = 0; m < 2; m++) {
    st_cpu_conv_impl = m ? ST_CONV_FEW : ST_CONV_AUTO;
    for (int i = 0; i < ncases; i++) {
      if (cases[i].sh != 1 || cases[i].sw != 1 || (cases[i].K > 4 && cases[i].C > 4)) continue;
      cfg t = cases[i];
      char name[200];
      snprintf(name, sizeof name, "[%s, %s] %s", profile, m ? "few-channel kernel" : "auto", cases[i].name);
      t.name = name;
      check_case(&t, !m);
    }
  }
  st_cpu_conv_impl = ST_CONV_AUTO;
}

/* ONEDNN_MAX_CPU_ISA caps strata's own kernels as it caps oneDNN's. */
static void check_isa_profiles(const cfg *cases, int ncases) {
  unsetenv("ONEDNN_MAX_CPU_ISA");
  unsetenv("DNNL_MAX_CPU_ISA");
  st_cpu_isa_reset();
  const st_cpu_isa_level native = st_cpu_isa();
  const char *few = st_cpu_conv_few_isa();
  tap_diag("native ISA: %s; few-channel kernel: %s", st_cpu_isa_name(native), few ? few : "none");
  tap_ok(native < ST_ISA_AVX2 ? few == NULL : few && !strcmp(few, st_cpu_isa_name(native)),
         "uncapped, the few-channel kernel runs the native ISA's version");

  setenv("ONEDNN_MAX_CPU_ISA", "AVX2", 1);
  st_cpu_isa_reset();
  few = st_cpu_conv_few_isa();
  tap_ok(st_cpu_isa() <= ST_ISA_AVX2, "ONEDNN_MAX_CPU_ISA=AVX2 caps the ISA at avx2 (got %s)",
         st_cpu_isa_name(st_cpu_isa()));
  if (native >= ST_ISA_AVX2) {
    tap_ok(few && !strcmp(few, "avx2"), "ONEDNN_MAX_CPU_ISA=AVX2: the few-channel kernel runs its AVX2 version (%s)",
           few ? few : "none");
    run_few_cases(cases, ncases, "AVX2");
  } else {
    tap_skip("the CPU has no AVX2 + FMA: the AVX2 version cannot run here");
  }

  unsetenv("ONEDNN_MAX_CPU_ISA");
  setenv("DNNL_MAX_CPU_ISA", "avx2_vnni", 1); /* the older name, any case */
  st_cpu_isa_reset();
  tap_ok(st_cpu_isa() == (native < ST_ISA_AVX2 ? native : ST_ISA_AVX2), "DNNL_MAX_CPU_ISA=avx2_vnni caps at avx2");

  unsetenv("DNNL_MAX_CPU_ISA");
  setenv("ONEDNN_MAX_CPU_ISA", "SSE41", 1);
  st_cpu_isa_reset();
  tap_ok(st_cpu_isa() == ST_ISA_BASE && st_cpu_conv_few_isa() == NULL,
         "ONEDNN_MAX_CPU_ISA=SSE41: no few-channel kernel");
  run_few_cases(cases, ncases, "SSE41"); /* auto falls back to oneDNN / im2col */

  unsetenv("ONEDNN_MAX_CPU_ISA");
  st_cpu_isa_reset();
  tap_ok(st_cpu_isa() == native, "unset again: the native ISA");
}

int main(void) {
  tu_seed(0x9e3779b97f4a7c15ull);
  int sb, sa, lb, la; /* TF 'SAME' stride 2 on an even-sized input: pad 0 before, 1 after */
  st_same_pads(8, 3, 2, &sb, &sa);
  st_same_pads(6, 3, 2, &lb, &la);
  const cfg cases[] = {
      {"1x1", 2, 3, 7, 5, 4, 1, 1, 1, 1, 0, 0, 0, 0, ST_PAD_ZERO, 1},
      {"1x1 stride 2", 2, 3, 7, 5, 4, 1, 1, 2, 2, 0, 0, 0, 0, ST_PAD_ZERO, 0},
      {"3x3 pad 1", 2, 3, 7, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, ST_PAD_ZERO, 1},
      {"3x3 no pad", 2, 3, 7, 5, 4, 3, 3, 1, 1, 0, 0, 0, 0, ST_PAD_ZERO, 0},
      {"2x3 stride 2 asymmetric pads", 2, 3, 7, 5, 4, 2, 3, 2, 2, 0, 1, 2, 1, ST_PAD_ZERO, 1},
      {"3x3 stride (2,1) asymmetric pads", 2, 3, 7, 5, 4, 3, 3, 2, 1, 2, 0, 0, 1, ST_PAD_ZERO, 0},
      {"9x9 pad 4", 2, 3, 7, 5, 4, 9, 9, 1, 1, 4, 4, 4, 4, ST_PAD_ZERO, 1},
      {"3x3 stride 2 TF SAME (8x6)", 2, 3, 8, 6, 4, 3, 3, 2, 2, sb, sa, lb, la, ST_PAD_ZERO, 0},
      {"3x3 reflect 1", 2, 3, 7, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, ST_PAD_REFLECT, 1},
      {"9x9 reflect 4", 2, 3, 7, 5, 4, 9, 9, 1, 1, 4, 4, 4, 4, ST_PAD_REFLECT, 0},
      {"3x2 stride 2 reflect asymmetric", 2, 3, 7, 5, 4, 3, 2, 2, 2, 2, 0, 1, 3, ST_PAD_REFLECT, 1},
      {"3x3 replicate asymmetric", 2, 3, 7, 5, 4, 3, 3, 2, 1, 3, 1, 0, 2, ST_PAD_REPLICATE, 1},
      /* Few output channels: the dual lowering (GEMM then col2im). */
      {"dual 3x3 pad 1, 8->2", 2, 8, 7, 5, 2, 3, 3, 1, 1, 1, 1, 1, 1, ST_PAD_ZERO, 1},
      {"dual 9x9 pad 4, 8->3", 2, 8, 7, 5, 3, 9, 9, 1, 1, 4, 4, 4, 4, ST_PAD_ZERO, 0},
      {"dual 2x3 asymmetric pads, 8->1", 2, 8, 7, 5, 1, 2, 3, 1, 1, 0, 1, 2, 0, ST_PAD_ZERO, 1},
      {"dual 3x3 pads wider than the kernel, 8->2", 2, 8, 7, 5, 2, 3, 3, 1, 1, 3, 0, 0, 4, ST_PAD_ZERO, 1},
      {"dual 9x9 reflect 4, 16->1", 2, 16, 7, 5, 1, 9, 9, 1, 1, 4, 4, 4, 4, ST_PAD_REFLECT, 1},
      {"dual 3x3 replicate asymmetric, 8->2", 2, 8, 7, 5, 2, 3, 3, 1, 1, 2, 0, 1, 3, ST_PAD_REPLICATE, 0},
      /* Channel counts oneDNN blocks by 16 (automatic: Winograd for the 3x3
       * stride-1 ones with at least 16x16 outputs, direct on smaller maps). */
      {"wide 3x3 pad 1, 32->32", 2, 32, 12, 10, 32, 3, 3, 1, 1, 1, 1, 1, 1, ST_PAD_ZERO, 1},
      {"wide 3x3 pad 1, 16->16, 16x16 map", 1, 16, 16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, ST_PAD_ZERO, 0},
      {"wide 3x3 pad 1, 20->24 (partial blocks)", 1, 20, 9, 11, 24, 3, 3, 1, 1, 1, 1, 1, 1, ST_PAD_ZERO, 0},
      {"wide 3x3 stride 2 TF SAME, 16->24", 2, 16, 8, 6, 24, 3, 3, 2, 2, sb, sa, lb, la, ST_PAD_ZERO, 0},
      {"wide 3x3 reflect 1, 16->16", 1, 16, 7, 9, 16, 3, 3, 1, 1, 1, 1, 1, 1, ST_PAD_REFLECT, 1},
      {"wide 1x1, 16->32", 2, 16, 5, 7, 32, 1, 1, 1, 1, 0, 0, 0, 0, ST_PAD_ZERO, 1},
      /* The transformer's last conv: few outputs, rows wider than one block of 128. */
      {"few 9x9 pad 4, 32->3, 150 wide", 1, 32, 3, 150, 3, 9, 9, 1, 1, 4, 4, 4, 4, ST_PAD_ZERO, 1},
      {"few 5x5 reflect 2, 16->4, 37 wide", 2, 16, 4, 37, 4, 5, 5, 1, 1, 2, 2, 2, 2, ST_PAD_REFLECT, 0},
      {"few 3x3 pad 1, 8->1, 70 wide", 1, 8, 5, 70, 1, 3, 3, 1, 1, 1, 1, 1, 1, ST_PAD_ZERO, 1},
      {"few 7x7 pads 3/2, 6->2, 53 wide", 2, 6, 6, 53, 2, 7, 7, 1, 1, 3, 2, 2, 3, ST_PAD_ZERO, 1},
      {"few 9x9 pad 4, 3->64 (conv1_1-like data gradient), 40 wide", 1, 3, 5, 40, 64, 9, 9, 1, 1, 4, 4, 4, 4,
       ST_PAD_ZERO, 0},
  };
  const int ncases = (int)(sizeof cases / sizeof *cases);
  tap_ok(sb == 0 && sa == 1, "TF SAME case uses pads (0, 1)");
  tap_diag("oneDNN in this build: %s", st_dnnl_enabled() ? "yes" : "no (its forced cases run im2col)");

  /* Every case under every implementation; finite differences under the automatic choice. */
  const struct { int impl; const char *name; } impls[] = {{ST_CONV_AUTO, "auto"},
                                                         {ST_CONV_IM2COL, "im2col"},
                                                         {ST_CONV_DIRECT, "oneDNN direct"},
                                                         {ST_CONV_WINOGRAD, "oneDNN Winograd"},
                                                         {ST_CONV_FEW, "few-channel kernel"},
                                                         {ST_CONV_WINO, "strata Winograd"}};
  for (size_t m = 0; m < sizeof impls / sizeof *impls; m++) {
    st_cpu_conv_impl = impls[m].impl;
    for (int i = 0; i < ncases; i++) {
      cfg t = cases[i];
      char name[160];
      snprintf(name, sizeof name, "[%s] %s", impls[m].name, cases[i].name);
      t.name = name;
      check_case(&t, impls[m].impl == ST_CONV_AUTO || impls[m].impl == ST_CONV_WINO);
    }
  }

  /* Tiny column budgets force one, then a few, grid rows per tile (the last tile partial). */
  st_cpu_conv_impl = ST_CONV_IM2COL;
  long saved = st_cpu_col_budget;
  for (int rows = 1; rows <= 2; rows++) {
    for (int i = 0; i < ncases; i++) {
      const cfg *c = &cases[i];
      st_cpu_col_budget = rows == 1 ? 1 : (long)rows * c->C * c->kh * c->kw * out_w(c);
      cfg t = *c;
      char name[160];
      snprintf(name, sizeof name, "[im2col] %s, %d row tiles", c->name, rows);
      t.name = name;
      check_case(&t, 0);
    }
  }
  st_cpu_col_budget = saved;

  for (size_t m = 0; m < sizeof impls / sizeof *impls; m++) {
    st_cpu_conv_impl = impls[m].impl;
    check_accumulate_and_null();
  }
  st_cpu_conv_impl = ST_CONV_AUTO;
  check_isa_profiles(cases, ncases);
  check_repeatable();
  check_errors();
  check_same_pads();
  timing();
  return tap_done();
}
