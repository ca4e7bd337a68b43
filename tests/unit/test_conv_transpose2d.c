/* conv_transpose2d: forward against a naive scatter, backward against a naive
 * double-precision backward and central finite differences, tiling, the TF
 * 'SAME' stride-2 window, the adjoint relation with conv2d, accumulation,
 * NULL gradients and argument errors; every case under the automatic choice
 * (oneDNN's deconvolution when built with it) and under forced im2col. */
#include <stdint.h>
#include <string.h>

#include "engine/error.h"
#include "engine/ops/ops.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/im2col.h"
#include "tap.h"
#include "testutil.h"


typedef struct {
  const char *name;
  int N, Ci, H, W, Co, kh, kw, sh, sw, ct, cl, OH, OW;
  int bias;
} cfg;

static st_conv_transpose2d_params params(const cfg *c) {
  st_conv_transpose2d_params p = {c->sh, c->sw, c->ct, c->cl, c->OH, c->OW};
  return p;
}

/* Output position (r, q) of input (ih, iw) under tap (i, j); 0 when outside y. */
static int target(const cfg *c, int ih, int iw, int i, int j, int *r, int *q) {
  *r = ih * c->sh + i - c->ct;
  *q = iw * c->sw + j - c->cl;
  return *r >= 0 && *r < c->OH && *q >= 0 && *q < c->OW;
}

static void naive_forward(const cfg *c, const float *x, const float *w, const float *b, double *y) {
  for (int n = 0; n < c->N; n++)
    for (int co = 0; co < c->Co; co++)
      for (int i = 0; i < c->OH * c->OW; i++) y[(n * c->Co + co) * c->OH * c->OW + i] = b ? b[co] : 0.0;
  for (int n = 0; n < c->N; n++)
    for (int ci = 0; ci < c->Ci; ci++)
      for (int ih = 0; ih < c->H; ih++)
        for (int iw = 0; iw < c->W; iw++)
          for (int co = 0; co < c->Co; co++)
            for (int i = 0; i < c->kh; i++)
              for (int j = 0; j < c->kw; j++) {
                int r, q;
                if (!target(c, ih, iw, i, j, &r, &q)) continue;
                y[((n * c->Co + co) * c->OH + r) * c->OW + q] += (double)x[((n * c->Ci + ci) * c->H + ih) * c->W + iw] *
                                                                 w[((ci * c->Co + co) * c->kh + i) * c->kw + j];
              }
}

static void naive_backward(const cfg *c, const float *dy, const float *x, const float *w, double *dx, double *dw,
                           double *db) {
  memset(dx, 0, sizeof(double) * (size_t)(c->N * c->Ci * c->H * c->W));
  memset(dw, 0, sizeof(double) * (size_t)(c->Ci * c->Co * c->kh * c->kw));
  memset(db, 0, sizeof(double) * (size_t)c->Co);
  for (int n = 0; n < c->N; n++)
    for (int co = 0; co < c->Co; co++)
      for (int i = 0; i < c->OH * c->OW; i++) db[co] += dy[(n * c->Co + co) * c->OH * c->OW + i];
  for (int n = 0; n < c->N; n++)
    for (int ci = 0; ci < c->Ci; ci++)
      for (int ih = 0; ih < c->H; ih++)
        for (int iw = 0; iw < c->W; iw++)
          for (int co = 0; co < c->Co; co++)
            for (int i = 0; i < c->kh; i++)
              for (int j = 0; j < c->kw; j++) {
                int r, q;
                if (!target(c, ih, iw, i, j, &r, &q)) continue;
                double g = dy[((n * c->Co + co) * c->OH + r) * c->OW + q];
                int xi = ((n * c->Ci + ci) * c->H + ih) * c->W + iw, wi = ((ci * c->Co + co) * c->kh + i) * c->kw + j;
                dx[xi] += g * w[wi];
                dw[wi] += g * x[xi];
              }
}

static double loss(const cfg *c, st_tensor *y, st_tensor *x, st_tensor *w, st_tensor *b, const st_tensor *r) {
  st_conv_transpose2d_params p = params(c);
  if (st_conv_transpose2d_forward(y, x, w, b, &p) != 0) return NAN;
  double s = 0;
  for (int64_t i = 0; i < y->numel; i++) s += (double)st_tensor_data(y)[i] * st_tensor_data(r)[i];
  return s;
}

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
  int64_t xs[4] = {c->N, c->Ci, c->H, c->W}, ws[4] = {c->Ci, c->Co, c->kh, c->kw}, bs[1] = {c->Co};
  int64_t ys[4] = {c->N, c->Co, c->OH, c->OW}, got[4];
  st_tensor *x = rand_t(4, xs), *w = rand_t(4, ws), *b = c->bias ? rand_t(1, bs) : NULL;
  st_tensor *y = st_tensor_new(4, ys, st_cpu()), *r = rand_t(4, ys);
  st_conv_transpose2d_params p = params(c);

  int rc = st_conv_transpose2d_shape(x, w, &p, got);
  tap_ok(rc == 0 && !memcmp(got, ys, sizeof ys), "%s: shape [%d, %d, %d, %d]", c->name, c->N, c->Co, c->OH, c->OW);

  double *yr = malloc(sizeof(double) * (size_t)y->numel);
  naive_forward(c, st_tensor_data(x), st_tensor_data(w), b ? st_tensor_data(b) : NULL, yr);
  st_tensor_fill(y, NAN);
  rc = st_conv_transpose2d_forward(y, x, w, b, &p);
  double e = max_err_1p(st_tensor_data(y), yr, y->numel);
  if (!tap_ok(rc == 0 && e <= 1e-4, "%s: forward matches naive (max rel err %.2g)", c->name, e) && rc)
    tap_diag("%s", st_last_error());

  st_tensor *dx = st_tensor_new(4, xs, st_cpu()), *dw = st_tensor_zeros(4, ws, st_cpu());
  st_tensor *db = st_tensor_zeros(1, bs, st_cpu());
  st_tensor_fill(dx, NAN); /* must be overwritten */
  rc = st_conv_transpose2d_backward(dx, dw, db, r, x, w, &p);
  double *dxr = malloc(sizeof(double) * (size_t)x->numel), *dwr = malloc(sizeof(double) * (size_t)w->numel),
         dbr[64];
  naive_backward(c, st_tensor_data(r), st_tensor_data(x), st_tensor_data(w), dxr, dwr, dbr);
  double ex = max_err_1p(st_tensor_data(dx), dxr, x->numel), ew = max_err_1p(st_tensor_data(dw), dwr, w->numel),
         eb = max_err_1p(st_tensor_data(db), dbr, c->Co);
  if (!tap_ok(rc == 0 && ex <= 1e-4 && ew <= 1e-4 && eb <= 1e-4,
              "%s: backward matches naive double (dx %.2g, dw %.2g, db %.2g)", c->name, ex, ew, eb) &&
      rc)
    tap_diag("%s", st_last_error());

  if (with_fd) {
    double wx = 0, ww = 0, wb = 0;
    int okx = fd_check(c, x, st_tensor_data(dx), 24, y, x, w, b, r, &wx);
    int okw = fd_check(c, w, st_tensor_data(dw), 24, y, x, w, b, r, &ww);
    int okb = !b || fd_check(c, b, st_tensor_data(db), c->Co, y, x, w, b, r, &wb);
    tap_ok(okx && okw && okb, "%s: dx, dw%s match finite differences (max abs err %.2g, %.2g, %.2g)", c->name,
           b ? ", db" : "", wx, ww, wb);
  }
  free(yr);
  free(dxr);
  free(dwr);
  st_tensor *all[] = {x, w, b, y, r, dx, dw, db};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) st_tensor_release(all[i]);
}

/* TF 'SAME' stride 2, k 3: the 2H x 2W output is the full (2H+1) x (2W+1) one
 * without its last row and column. */
static void check_tf_same(void) {
  const int H = 5, W = 4;
  int64_t xs[4] = {2, 3, H, W}, ws[4] = {3, 4, 3, 3}, ss[4] = {2, 4, 2 * H, 2 * W}, fs[4] = {2, 4, 2 * H + 1, 2 * W + 1};
  st_tensor *x = rand_t(4, xs), *w = rand_t(4, ws), *ys = st_tensor_new(4, ss, st_cpu()),
            *yf = st_tensor_new(4, fs, st_cpu());
  st_conv_transpose2d_params psame = {2, 2, 0, 0, 2 * H, 2 * W}, pfull = {2, 2, 0, 0, 2 * H + 1, 2 * W + 1};
  int rc = st_conv_transpose2d_forward(ys, x, w, NULL, &psame) | st_conv_transpose2d_forward(yf, x, w, NULL, &pfull);
  double m = 0;
  for (int p = 0; p < 2 * 4; p++)
    for (int r = 0; r < 2 * H; r++)
      for (int q = 0; q < 2 * W; q++) {
        double a = st_tensor_data(ys)[(p * 2 * H + r) * 2 * W + q];
        double b = st_tensor_data(yf)[(p * (2 * H + 1) + r) * (2 * W + 1) + q];
        if (!(fabs(a - b) <= m)) m = fabs(a - b);
      }
  tap_ok(rc == 0 && m <= 1e-6, "TF SAME stride 2: %dx%d -> %dx%d equals the full %dx%d output minus its last row and "
                               "column (max diff %.2g)",
         H, W, 2 * H, 2 * W, 2 * H + 1, 2 * W + 1, m);
  st_tensor *all[] = {x, w, ys, yf};
  for (size_t i = 0; i < 4; i++) st_tensor_release(all[i]);
}

/* <conv_transpose2d(x), z> = <x, conv2d(z)> for the conv2d it is the adjoint
 * of (same weight read as OIHW [Cin, Cout, kh, kw], pads before = crop). */
static void check_adjoint(void) {
  const int H = 5, W = 4;
  int64_t xs[4] = {2, 3, H, W}, ws[4] = {3, 4, 3, 3}, zs[4] = {2, 4, 2 * H, 2 * W};
  st_tensor *x = rand_t(4, xs), *w = rand_t(4, ws), *z = rand_t(4, zs);
  st_tensor *y = st_tensor_new(4, zs, st_cpu()), *cz = st_tensor_new(4, xs, st_cpu());
  st_conv_transpose2d_params pt = {2, 2, 0, 0, 2 * H, 2 * W};
  st_conv2d_params pc = {2, 2, 0, 0, 0, 0, ST_PAD_ZERO};
  st_same_pads(2 * H, 3, 2, &pc.pad_top, &pc.pad_bottom);
  st_same_pads(2 * W, 3, 2, &pc.pad_left, &pc.pad_right);
  int rc = st_conv_transpose2d_forward(y, x, w, NULL, &pt) | st_conv2d_forward(cz, z, w, NULL, &pc);
  double a = 0, b = 0, scale = 0; /* scale: the sum of |terms|, what float rounding is relative to */
  for (int64_t i = 0; i < y->numel; i++) {
    a += (double)st_tensor_data(y)[i] * st_tensor_data(z)[i];
    scale += fabs((double)st_tensor_data(y)[i] * st_tensor_data(z)[i]);
  }
  for (int64_t i = 0; i < x->numel; i++) b += (double)st_tensor_data(x)[i] * st_tensor_data(cz)[i];
  tap_ok(rc == 0 && fabs(a - b) <= 1e-5 * scale,
         "adjoint of conv2d: <convT(x), z> = %.7g, <x, conv2d(z)> = %.7g", a, b);
  st_tensor *all[] = {x, w, z, y, cz};
  for (size_t i = 0; i < 5; i++) st_tensor_release(all[i]);
}

static void check_accumulate_and_null(void) {
  int64_t xs[4] = {2, 3, 5, 4}, ws[4] = {3, 4, 3, 3}, bs[1] = {4}, ys[4] = {2, 4, 10, 8};
  st_conv_transpose2d_params p = {2, 2, 0, 0, 10, 8};
  st_tensor *x = rand_t(4, xs), *w = rand_t(4, ws), *dy = rand_t(4, ys);
  st_tensor *dx1 = st_tensor_new(4, xs, st_cpu()), *dw1 = st_tensor_zeros(4, ws, st_cpu()),
            *db1 = st_tensor_zeros(1, bs, st_cpu());
  st_conv_transpose2d_backward(dx1, dw1, db1, dy, x, w, &p);

  st_tensor *dx = st_tensor_new(4, xs, st_cpu()), *dw = rand_t(4, ws), *db = rand_t(1, bs);
  st_tensor *dw0 = st_tensor_clone(dw), *db0 = st_tensor_clone(db);
  int rc = st_conv_transpose2d_backward(dx, dw, db, dy, x, w, &p) | st_conv_transpose2d_backward(dx, dw, db, dy, x, w, &p);
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
  rc = st_conv_transpose2d_backward(dxa, NULL, NULL, dy, x, w, &p);
  tap_ok(rc == 0 && same_within(dxa, dx1, 1e-6), "backward with only dx");
  rc = st_conv_transpose2d_backward(NULL, dwa, NULL, dy, x, w, &p);
  tap_ok(rc == 0 && same_within(dwa, dw1, 1e-6), "backward with only dw");
  rc = st_conv_transpose2d_backward(NULL, NULL, dba, dy, x, w, &p);
  tap_ok(rc == 0 && same_within(dba, db1, 1e-6), "backward with only db");
  tap_ok(st_conv_transpose2d_backward(NULL, NULL, NULL, dy, x, w, &p) == 0, "backward with no gradients at all");
  st_tensor *all[] = {x, w, dy, dx1, dw1, db1, dx, dw, db, dw0, db0, dxa, dwa, dba};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) st_tensor_release(all[i]);
}

static void check_errors(void) {
  int64_t xs[4] = {2, 3, 5, 4}, ws[4] = {3, 4, 3, 3}, ys[4] = {2, 4, 10, 8}, x3[3] = {3, 5, 4}, w2[4] = {2, 4, 3, 3};
  int64_t b5[1] = {5}, bad_y[4] = {2, 4, 9, 8};
  st_conv_transpose2d_params p = {2, 2, 0, 0, 10, 8};
  st_tensor *x = rand_t(4, xs), *w = rand_t(4, ws), *y = st_tensor_new(4, ys, st_cpu());
  st_tensor *xbad = rand_t(3, x3), *wc = rand_t(4, w2), *b = rand_t(1, b5), *ybad = st_tensor_new(4, bad_y, st_cpu());
  int64_t out[4];
  expect_st_error(st_conv_transpose2d_forward(y, xbad, w, NULL, &p), "x not 4-D", "conv_transpose2d x", "[3, 5, 4]");
  expect_st_error(st_conv_transpose2d_forward(y, x, wc, NULL, &p), "Cin of x differs from w", "[2, 3, 5, 4]",
               "[2, 4, 3, 3]");
  expect_st_error(st_conv_transpose2d_forward(ybad, x, w, NULL, &p), "y of the wrong shape", "conv_transpose2d forward y",
               "expected shape [2, 4, 10, 8], got [2, 4, 9, 8]");
  expect_st_error(st_conv_transpose2d_forward(y, x, w, b, &p), "bias of the wrong length", "conv_transpose2d forward b",
               "expected shape [4], got [5]");
  st_conv_transpose2d_params p0 = {2, 2, 0, 0, 0, 8};
  expect_st_error(st_conv_transpose2d_shape(x, w, &p0, out), "output height 0", "out_h 0", NULL);
  st_conv_transpose2d_params pn = {2, 2, 0, 0, -3, 8};
  expect_st_error(st_conv_transpose2d_shape(x, w, &pn, out), "negative output height", "out_h -3", NULL);
  st_conv_transpose2d_params ps = {0, 2, 0, 0, 10, 8};
  expect_st_error(st_conv_transpose2d_shape(x, w, &ps, out), "stride 0", "stride", NULL);
  st_conv_transpose2d_params pc = {2, 2, -1, 0, 10, 8};
  expect_st_error(st_conv_transpose2d_shape(x, w, &pc, out), "negative crop", "crop", NULL);
  expect_st_error(st_conv_transpose2d_backward(NULL, NULL, NULL, ybad, x, w, &p), "dy of the wrong shape",
               "conv_transpose2d backward dy", "[2, 4, 10, 8]");
  expect_st_error(st_conv_transpose2d_backward(NULL, wc, NULL, y, x, w, &p), "dw of the wrong shape",
               "conv_transpose2d backward dw", "[3, 4, 3, 3]");
  expect_st_error(st_conv_transpose2d_backward(y, NULL, NULL, y, x, w, &p), "dx of the wrong shape",
               "conv_transpose2d backward dx", "[2, 3, 5, 4]");
  expect_st_error(st_conv_transpose2d_backward(NULL, NULL, b, y, x, w, &p), "db of the wrong length",
               "conv_transpose2d backward db", "[4]");
  st_tensor *all[] = {x, w, y, xbad, wc, b, ybad};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) st_tensor_release(all[i]);
}

int main(void) {
  tu_seed(0x2545f4914f6cdd1dull);
  const cfg cases[] = {
      {"3x3 stride 2 TF SAME", 2, 3, 5, 4, 4, 3, 3, 2, 2, 0, 0, 10, 8, 1},
      {"3x3 stride 2 full", 2, 3, 5, 4, 4, 3, 3, 2, 2, 0, 0, 11, 9, 0},
      {"3x3 stride 1 crop 1", 2, 3, 5, 4, 4, 3, 3, 1, 1, 1, 1, 5, 4, 1},
      {"4x4 stride 2 crop 1 (PyTorch padding 1)", 2, 3, 5, 4, 4, 4, 4, 2, 2, 1, 1, 10, 8, 0},
      {"2x3 stride (2,1) crop (1,0)", 2, 3, 5, 4, 4, 2, 3, 2, 1, 1, 0, 8, 6, 1},
      {"3x3 stride 2, rows past the full output", 2, 3, 5, 4, 4, 3, 3, 2, 2, 0, 0, 13, 10, 1},
      {"3x3 stride 3 crop (2,1), gaps", 2, 3, 5, 4, 4, 3, 3, 3, 3, 2, 1, 12, 9, 0},
      {"1x1", 2, 3, 5, 4, 4, 1, 1, 1, 1, 0, 0, 5, 4, 1},
      {"9x9 stride 1 crop 4", 2, 3, 7, 5, 4, 9, 9, 1, 1, 4, 4, 7, 5, 0},
      {"3x3 stride 2, 2->6 channels", 2, 2, 5, 4, 6, 3, 3, 2, 2, 0, 0, 10, 8, 1},
      /* Channel counts oneDNN blocks by 16 (the transformer's upsampling convs). */
      {"wide 3x3 stride 2 TF SAME, 32->16", 2, 32, 6, 5, 16, 3, 3, 2, 2, 0, 0, 12, 10, 1},
      {"wide 3x3 stride 2 full, 20->24", 1, 20, 4, 6, 24, 3, 3, 2, 2, 0, 0, 9, 13, 0},
  };
  const int ncases = (int)(sizeof cases / sizeof *cases);
  const struct { int impl; const char *name; } impls[] = {{ST_CONV_AUTO, "auto"}, {ST_CONV_IM2COL, "im2col"}};
  for (size_t m = 0; m < sizeof impls / sizeof *impls; m++) {
    st_cpu_conv_impl = impls[m].impl;
    for (int i = 0; i < ncases; i++) {
      cfg t = cases[i];
      char name[160];
      snprintf(name, sizeof name, "[%s] %s", impls[m].name, cases[i].name);
      t.name = name;
      check_case(&t, impls[m].impl == ST_CONV_AUTO);
    }
  }

  /* Tiny column budgets: one input row per tile, then two (the last tile partial). */
  st_cpu_conv_impl = ST_CONV_IM2COL;
  long saved = st_cpu_col_budget;
  for (int rows = 1; rows <= 2; rows++)
    for (int i = 0; i < ncases; i++) {
      const cfg *c = &cases[i];
      st_cpu_col_budget = (long)rows * c->Co * c->kh * c->kw * c->W;
      cfg t = *c;
      char name[160];
      snprintf(name, sizeof name, "[im2col] %s, %d row tiles", c->name, rows);
      t.name = name;
      check_case(&t, 0);
    }
  st_cpu_col_budget = saved;

  for (size_t m = 0; m < sizeof impls / sizeof *impls; m++) {
    st_cpu_conv_impl = impls[m].impl;
    check_tf_same();
    check_adjoint();
    check_accumulate_and_null();
  }
  st_cpu_conv_impl = ST_CONV_AUTO;
  check_errors();
  return tap_done();
}
