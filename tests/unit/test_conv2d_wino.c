/* strata's AVX2 Winograd F(4x4, 3x3) conv (kernels/cpu/conv2d_wino.c): the
 * forward and both gradients against a naive double-precision conv on odd
 * sizes, paddings 0..2 on each side and channel counts that are no multiple of
 * 8, several chunks of tile rows; both gradients against central finite
 * differences of the Winograd forward itself; and the automatic choice under
 * ONEDNN_MAX_CPU_ISA=AVX2 (it runs there, bit-identical to the forced kernel;
 * native AVX-512 keeps oneDNN). Skips without AVX2 + FMA.
 *
 * Tolerance. Winograd's rounding error is larger than a direct conv's: the
 * transforms multiply by up to 8 (A) and by 1/6, 1/24 (G), and each output is
 * a signed sum of 36 products that cancel. The bound used, 1e-5 of the sum of
 * |w| |x| over an output's receptive field (the scale a conv's error grows
 * with; the largest over the outputs, see scaled_err), is ~100x fp32's
 * epsilon: F(4x4, 3x3) measures up to ~1e-6 of that scale here, a direct conv
 * ~1e-7 (printed for comparison), so 1e-5 passes the kernel with margin yet
 * fails any wrong tap, tile or transform (their errors are O(1) of the scale). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/error.h"
#include "engine/memory.h"
#include "engine/ops/ops.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/conv2d_wino.h"
#include "kernels/cpu/cpu_isa.h"
#include "tap.h"
#include "testutil.h"

typedef struct {
  int N, C, H, W, K, pt, pb, pl, pr;
} shape;

static st_conv2d_desc desc(const shape *s) {
  st_conv2d_desc d = {s->N, s->C, s->H, s->W, s->K, 3, 3, 1, 1, s->pt, s->pb, s->pl, s->pr, 0,
                      s->H + s->pt + s->pb - 2, s->W + s->pl + s->pr - 2};
  return d;
}

static float *rnd(long n) {
  float *p = malloc(sizeof(float) * (size_t)n);
  for (long i = 0; i < n; i++) p[i] = frand();
  return p;
}

/* y (double) and the scale sum |w| |x| (+ |b|) of every output. */
static void naive(const st_conv2d_desc *d, const float *x, const float *w, const float *b, double *y, double *scale) {
  for (int n = 0; n < d->N; n++)
    for (int k = 0; k < d->K; k++)
      for (int oh = 0; oh < d->OH; oh++)
        for (int ow = 0; ow < d->OW; ow++) {
          double s = b ? b[k] : 0.0, a = b ? fabs(b[k]) : 0.0;
          for (int c = 0; c < d->C; c++)
            for (int i = 0; i < 3; i++)
              for (int j = 0; j < 3; j++) {
                const int ih = oh - d->pt + i, iw = ow - d->pl + j;
                if (ih < 0 || ih >= d->H || iw < 0 || iw >= d->W) continue;
                const double t = (double)w[((k * d->C + c) * 3 + i) * 3 + j] * x[((n * d->C + c) * d->H + ih) * d->W + iw];
                s += t;
                a += fabs(t);
              }
          const long o = (((long)n * d->K + k) * d->OH + oh) * d->OW + ow;
          y[o] = s;
          scale[o] = a;
        }
}

/* dx and dw (double) of L = sum(y * dy), with their scales sum |w| |dy| and
 * sum |x| |dy|. */
static void naive_backward(const st_conv2d_desc *d, const float *dy, const float *x, const float *w, double *dx,
                           double *dxs, double *dw, double *dws) {
  const long nx = (long)d->N * d->C * d->H * d->W, nw = (long)d->K * d->C * 9;
  memset(dx, 0, sizeof(double) * (size_t)nx);
  memset(dxs, 0, sizeof(double) * (size_t)nx);
  memset(dw, 0, sizeof(double) * (size_t)nw);
  memset(dws, 0, sizeof(double) * (size_t)nw);
  for (int n = 0; n < d->N; n++)
    for (int k = 0; k < d->K; k++)
      for (int oh = 0; oh < d->OH; oh++)
        for (int ow = 0; ow < d->OW; ow++) {
          const double g = dy[(((long)n * d->K + k) * d->OH + oh) * d->OW + ow];
          for (int c = 0; c < d->C; c++)
            for (int i = 0; i < 3; i++)
              for (int j = 0; j < 3; j++) {
                const int ih = oh - d->pt + i, iw = ow - d->pl + j;
                if (ih < 0 || ih >= d->H || iw < 0 || iw >= d->W) continue;
                const long xi = (((long)n * d->C + c) * d->H + ih) * d->W + iw;
                const long wi = ((long)k * d->C + c) * 9 + i * 3 + j;
                const double tx = g * w[wi], tw = g * x[xi];
                dx[xi] += tx, dxs[xi] += fabs(tx);
                dw[wi] += tw, dws[wi] += fabs(tw);
              }
        }
}

/* max |got - ref| over the largest scale: Winograd's error in an output
 * depends on the whole tile's values, which cancel, not on that output's own
 * terms (an output with one small term can carry its neighbours' rounding). */
static double scaled_err(const float *got, const double *ref, const double *scale, long n) {
  double m = 0, s = 0;
  for (long i = 0; i < n; i++) {
    const double e = fabs(got[i] - ref[i]);
    if (!(e <= m)) m = e;
    if (scale[i] > s) s = scale[i];
  }
  return m / (s > 0 ? s : 1e-30);
}

#define TOL 1e-5

static void check_shape(const shape *s) {
  const st_conv2d_desc d = desc(s);
  const long nx = (long)d.N * d.C * d.H * d.W, nw = (long)d.K * d.C * 9, ny = (long)d.N * d.K * d.OH * d.OW;
  float *x = rnd(nx), *w = rnd(nw), *b = rnd(d.K), *dy = rnd(ny);
  float *y = malloc(sizeof(float) * (size_t)ny), *dx = malloc(sizeof(float) * (size_t)nx);
  double *yr = malloc(sizeof(double) * (size_t)ny), *ys = malloc(sizeof(double) * (size_t)ny);
  double *dxr = malloc(sizeof(double) * (size_t)nx), *dxs = malloc(sizeof(double) * (size_t)nx);
  char name[160];
  snprintf(name, sizeof name, "N%d C%d %dx%d -> K%d, pads t%d b%d l%d r%d", d.N, d.C, d.H, d.W, d.K, d.pt, d.pb, d.pl,
           d.pr);

  for (long i = 0; i < ny; i++) y[i] = NAN; /* every output must be written */
  int rc = st_wino_conv2d_forward(&d, y, x, w, b);
  naive(&d, x, w, b, yr, ys);
  double e = scaled_err(y, yr, ys, ny);
  tap_ok(rc == 0 && e <= TOL, "%s: forward matches the naive conv (err %.2g of sum |w||x|)", name, e);
  st_cpu_conv_impl = ST_CONV_DIRECT; /* for comparison: oneDNN's direct conv (im2col without oneDNN) */
  if (st_cpu_conv2d_forward(&d, y, x, w, b) == 0) tap_diag("direct conv: err %.2g", scaled_err(y, yr, ys, ny));
  st_cpu_conv_impl = ST_CONV_AUTO;

  for (long i = 0; i < nx; i++) dx[i] = NAN;
  rc = st_wino_conv2d_backward_data(&d, dx, dy, w);
  double *dwr = malloc(sizeof(double) * (size_t)nw), *dws = malloc(sizeof(double) * (size_t)nw);
  naive_backward(&d, dy, x, w, dxr, dxs, dwr, dws);
  e = scaled_err(dx, dxr, dxs, nx);
  tap_ok(rc == 0 && e <= TOL, "%s: data gradient matches the naive one (err %.2g of sum |w||dy|)", name, e);

  /* dw accumulates: start from 1 and subtract it after. */
  float *dw = malloc(sizeof(float) * (size_t)nw);
  for (long i = 0; i < nw; i++) dw[i] = 1.0f;
  rc = st_wino_conv2d_backward_weights(&d, dw, dy, x);
  for (long i = 0; i < nw; i++) dwr[i] += 1.0;
  e = scaled_err(dw, dwr, dws, nw);
  tap_ok(rc == 0 && e <= TOL, "%s: weight gradient (accumulated) matches the naive one (err %.2g of sum |x||dy|)",
         name, e);
  free(x), free(w), free(b), free(dy), free(y), free(dx), free(yr), free(ys), free(dxr), free(dxs), free(dw),
      free(dwr), free(dws);
}

/* Central differences of L = sum(conv_wino(x, w) * r) in p (x or w), every
 * step-th element from first, against the analytic gradient g; one TAP line. */
static int fd_check(const st_conv2d_desc *d, float *x, float *w, const float *r, float *y, long ny, float *p, long np,
                    long first, long step, const float *g, const char *what) {
  const float eps = 1e-2f;
  double worst = 0;
  int bad = 0, n = 0, rc = 0;
  for (long i = first; i < np; i += step, n++) {
    double l[2];
    const float old = p[i];
    for (int sgn = 0; sgn < 2; sgn++) {
      p[i] = old + (sgn ? -eps : eps);
      rc |= st_wino_conv2d_forward(d, y, x, w, NULL);
      l[sgn] = 0;
      for (long o = 0; o < ny; o++) l[sgn] += (double)y[o] * r[o];
    }
    p[i] = old;
    const double fd = (l[0] - l[1]) / (2.0 * eps), err = fabs(fd - g[i]);
    if (!(err <= 2e-3 + 1e-2 * fabs(g[i]))) bad++;
    if (err > worst) worst = err;
  }
  tap_ok(rc == 0 && bad == 0, "%s gradient matches central differences of the forward (%d points, max err %.2g)", what,
         n, worst);
  return rc;
}

/* The Winograd dx and dw against central differences of the Winograd forward. */
static void check_fd(void) {
  const shape s = {2, 5, 7, 9, 6, 1, 2, 2, 0};
  const st_conv2d_desc d = desc(&s);
  const long nx = (long)d.N * d.C * d.H * d.W, nw = (long)d.K * d.C * 9, ny = (long)d.N * d.K * d.OH * d.OW;
  float *x = rnd(nx), *w = rnd(nw), *r = rnd(ny), *y = malloc(sizeof(float) * (size_t)ny);
  float *dx = malloc(sizeof(float) * (size_t)nx), *dw = calloc((size_t)nw, sizeof(float));
  int rc = st_wino_conv2d_backward_data(&d, dx, r, w);
  rc |= st_wino_conv2d_backward_weights(&d, dw, r, x);
  tap_ok(rc == 0, "Winograd data and weight gradients run");
  fd_check(&d, x, w, r, y, ny, x, nx, 3, 7, dx, "data");
  fd_check(&d, x, w, r, y, ny, w, nw, 2, 5, dw, "weight");
  free(x), free(w), free(r), free(y), free(dx), free(dw);
}

/* Under the AVX2 cap the automatic choice runs the Winograd kernel for a VGG-like
 * layer (bit-identical to calling it); uncapped on an AVX-512 CPU it does not. */
static void check_choice(void) {
  const shape s = {1, 64, 16, 18, 72, 1, 1, 1, 1};
  const st_conv2d_desc d = desc(&s);
  const long nx = (long)d.N * d.C * d.H * d.W, nw = (long)d.K * d.C * 9, ny = (long)d.N * d.K * d.OH * d.OW;
  float *x = rnd(nx), *w = rnd(nw), *b = rnd(d.K), *y0 = malloc(sizeof(float) * (size_t)ny),
        *y1 = malloc(sizeof(float) * (size_t)ny), *dy = rnd(ny), *dx0 = malloc(sizeof(float) * (size_t)nx),
        *dx1 = malloc(sizeof(float) * (size_t)nx);
  setenv("ONEDNN_MAX_CPU_ISA", "AVX2", 1);
  st_cpu_isa_reset();
  st_cpu_conv_impl = ST_CONV_AUTO;
  int rc = st_wino_conv2d_forward(&d, y0, x, w, b) | st_cpu_conv2d_forward(&d, y1, x, w, b);
  rc |= st_wino_conv2d_backward_data(&d, dx0, dy, w) | st_cpu_conv2d_backward(&d, dx1, NULL, NULL, dy, x, w);
  float *dw0 = calloc((size_t)nw, sizeof(float)), *dw1 = calloc((size_t)nw, sizeof(float));
  rc |= st_wino_conv2d_backward_weights(&d, dw0, dy, x) | st_cpu_conv2d_backward(&d, NULL, dw1, NULL, dy, x, w);
  tap_ok(rc == 0 && !memcmp(y0, y1, sizeof(float) * (size_t)ny) && !memcmp(dx0, dx1, sizeof(float) * (size_t)nx) &&
             !memcmp(dw0, dw1, sizeof(float) * (size_t)nw),
         "ONEDNN_MAX_CPU_ISA=AVX2: conv2d's automatic choice runs the Winograd kernel (all three passes)");
  free(dw0), free(dw1);
  unsetenv("ONEDNN_MAX_CPU_ISA");
  st_cpu_isa_reset();
  if (st_cpu_isa() >= ST_ISA_AVX512) {
    rc = st_cpu_conv2d_forward(&d, y1, x, w, b);
    tap_ok(rc == 0 && memcmp(y0, y1, sizeof(float) * (size_t)ny) != 0,
           "native AVX-512: the automatic choice keeps oneDNN (results differ in rounding)");
  } else {
    tap_skip("not an AVX-512 CPU: native is the AVX2 case above");
  }
  free(x), free(w), free(b), free(y0), free(y1), free(dy), free(dx0), free(dx1);
}

/* Shapes it declines: the caller falls back. */
static void check_declines(void) {
  shape s = {1, 4, 8, 8, 4, 3, 1, 1, 1};
  st_conv2d_desc d = desc(&s);
  tap_ok(!st_wino_shape_ok(&d), "declines a pad of 3");
  s.pt = 1;
  d = desc(&s);
  d.sh = 2;
  tap_ok(!st_wino_shape_ok(&d), "declines stride 2");
  d = desc(&s);
  d.pad_mode = 1;
  tap_ok(!st_wino_shape_ok(&d), "declines reflect padding (conv2d.c pads a copy first)");
  float v = 0;
  d = desc(&s);
  d.kh = d.kw = 5;
  tap_ok(st_wino_conv2d_forward(&d, &v, &v, &v, NULL) == 1 && st_wino_conv2d_backward_data(&d, &v, &v, &v) == 1 &&
             st_wino_conv2d_backward_weights(&d, &v, &v, &v) == 1,
         "a 5x5 conv: every entry point declines (returns 1)");
}

int main(void) {
  tu_seed(0x5bd1e995u);
  if (!st_wino_available()) {
    tap_skip_all("no AVX2 + FMA on this CPU (or capped below it): the Winograd kernel cannot run");
    return 0;
  }
  const shape shapes[] = {
      {1, 1, 3, 3, 1, 0, 0, 0, 0},      /* one output */
      {2, 3, 7, 5, 4, 1, 1, 1, 1},      /* partial tiles both ways */
      {1, 5, 9, 11, 3, 0, 2, 2, 0},     /* asymmetric pads */
      {2, 7, 6, 37, 9, 2, 1, 0, 2},     /* more than one group of 8 tiles per row, tail group */
      {3, 13, 17, 70, 11, 1, 1, 1, 1},  /* 18 tiles a row: two full groups and a tail */
      {1, 64, 8, 8, 64, 1, 1, 1, 1},    /* FCRN / VGG conv5-like at depth */
      {2, 40, 20, 20, 24, 1, 1, 1, 1},  /* channels not a multiple of 8 */
  };
  for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) check_shape(&shapes[i]);
  /* Chunks of 1 and of 3 tile rows (the last chunk partial). */
  const long saved = st_wino_chunk_floats;
  const shape chunked = {2, 19, 13, 21, 10, 1, 1, 2, 1};
  st_wino_chunk_floats = 1;
  check_shape(&chunked);
  st_wino_chunk_floats = 3L * 36 * (19 + 10) * 6;
  check_shape(&chunked);
  st_wino_chunk_floats = saved;
  check_fd();
  check_choice();
  check_declines();
  /* Under the AVX2 cap as well (the kernel's code is the same; what runs around it is not). */
  setenv("ONEDNN_MAX_CPU_ISA", "AVX2", 1);
  st_cpu_isa_reset();
  check_shape(&shapes[4]);
  unsetenv("ONEDNN_MAX_CPU_ISA");
  st_cpu_isa_reset();
  return tap_done();
}
