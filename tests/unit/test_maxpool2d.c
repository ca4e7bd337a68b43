/* maxpool2d: shapes and argument checks, forward/backward against a naive
 * double-precision reference (padding as -inf), finite differences, padding
 * never selected, tie-breaking, and PyTorch fixtures; TensorFlow 'SAME'
 * pooling (same = 1) against explicit pads and a PyTorch fixture on odd sizes. */
#include <math.h>
#include <string.h>

#include "engine/error.h"
#include "engine/ops/train_ops.h"
#include "engine/rng.h"
#include "fixtures/maxpool_same_fixture.h"
#include "fixtures/train_ops_fixture.h"
#include "tap.h"
#include "testutil.h"

static st_maxpool2d_params mp(int kh, int kw, int sh, int sw, int pt, int pb, int pl, int pr) {
  st_maxpool2d_params p = {kh, kw, sh, sw, pt, pb, pl, pr, 0};
  return p;
}

/* Naive reference: explicit -inf padding, first maximum in row-major order.
 * Returns the plane offset of the argmax (or -1 if the window were all padding). */
static int64_t naive_argmax(const float *x, int64_t h, int64_t w, int64_t i, int64_t j, const st_maxpool2d_params *p) {
  double m = -INFINITY;
  int64_t arg = -1;
  for (int r = 0; r < p->kernel_h; r++)
    for (int c = 0; c < p->kernel_w; c++) {
      int64_t hh = i * p->stride_h - p->pad_top + r, ww = j * p->stride_w - p->pad_left + c;
      double v = (hh < 0 || hh >= h || ww < 0 || ww >= w) ? -INFINITY : (double)x[hh * w + ww];
      if (v > m) {
        m = v;
        arg = hh * w + ww;
      }
    }
  return arg;
}

/* y and dx (given dy) in double. */
static void naive_pool(const st_tensor *x, const st_maxpool2d_params *p, const int64_t os[4], const float *dy,
                       double *y, double *dx) {
  int64_t planes = os[0] * os[1], h = x->shape[2], w = x->shape[3];
  const float *xd = st_tensor_data(x);
  if (dx) memset(dx, 0, sizeof(double) * (size_t)x->numel);
  for (int64_t q = 0; q < planes; q++)
    for (int64_t i = 0; i < os[2]; i++)
      for (int64_t j = 0; j < os[3]; j++) {
        int64_t a = naive_argmax(xd + q * h * w, h, w, i, j, p);
        int64_t o = (q * os[2] + i) * os[3] + j;
        if (y) y[o] = a < 0 ? -INFINITY : xd[q * h * w + a];
        if (dx && a >= 0) dx[q * h * w + a] += dy[o];
      }
}

/* x filled with distinct values at least 0.01 apart (a shuffled ramp), so a
 * finite-difference step of 1e-3 never changes which cell is the maximum. */
static void fill_distinct(st_rng *r, st_tensor *x) {
  int64_t n = x->numel;
  int64_t *idx = malloc(sizeof(int64_t) * (size_t)n);
  st_rng_permutation(r, idx, n);
  float *d = st_tensor_data(x);
  for (int64_t i = 0; i < n; i++) d[i] = (float)(idx[i] - n / 2) * 0.01f;
  free(idx);
}

static double loss_sum_yr(const st_tensor *y, const st_tensor *r) {
  double s = 0;
  for (int64_t i = 0; i < y->numel; i++) s += (double)st_tensor_data(y)[i] * st_tensor_data(r)[i];
  return s;
}

/* p runs the op; ref (explicit pads) the naive reference. */
static void check_config_ref(const char *name, int64_t n, int64_t c, int64_t h, int64_t w, st_maxpool2d_params p,
                             st_maxpool2d_params ref) {
  st_rng rng;
  st_rng_seed(&rng, 7 + (uint64_t)h * 31 + (uint64_t)p.kernel_h);
  st_tensor *x = st_tensor_new4(n, c, h, w, st_cpu());
  fill_distinct(&rng, x);
  int64_t os[4];
  if (!tap_ok(st_maxpool2d_shape(x, &p, os) == 0, "%s: shape", name)) {
    tap_diag("%s", st_last_error());
    st_tensor_release(x);
    return;
  }
  st_tensor *y = st_tensor_new(4, os, st_cpu()), *dy = st_tensor_new(4, os, st_cpu());
  st_tensor *dx = st_tensor_new4(n, c, h, w, st_cpu());
  st_rng_fill_normal(&rng, dy, 0.0f, 1.0f);
  double *yr = malloc(sizeof(double) * (size_t)y->numel), *dxr = malloc(sizeof(double) * (size_t)x->numel);
  naive_pool(x, &ref, os, st_tensor_data(dy), yr, dxr);

  tap_ok(st_maxpool2d_forward(y, x, &p) == 0, "%s: forward runs", name);
  /* max is exact: the value must be copied bit for bit */
  tap_ok(rel_err_d(st_tensor_data(y), yr, y->numel) == 0.0, "%s: forward equals the naive reference", name);
  tap_ok(st_maxpool2d_backward(dx, dy, x, &p) == 0, "%s: backward runs", name);
  tap_ok(rel_err_d(st_tensor_data(dx), dxr, x->numel) < 1e-6, "%s: backward matches the naive double reference",
         name);

  /* finite differences of L = sum(y * dy) */
  float *xd = st_tensor_data(x);
  double worst = 0, scale = 0;
  const float eps = 1e-3f;
  for (int64_t i = 0; i < x->numel; i++) {
    float keep = xd[i];
    xd[i] = keep + eps;
    st_maxpool2d_forward(y, x, &p);
    double lp = loss_sum_yr(y, dy);
    xd[i] = keep - eps;
    st_maxpool2d_forward(y, x, &p);
    double lm = loss_sum_yr(y, dy);
    xd[i] = keep;
    double fd = (lp - lm) / (2.0 * eps);
    worst = fmax(worst, fabs(fd - st_tensor_data(dx)[i]));
    scale = fmax(scale, fabs(fd));
  }
  tap_ok(worst <= 1e-2 * scale, "%s: backward matches finite differences (max err %.3g of %.3g)", name, worst, scale);

  free(yr);
  free(dxr);
  st_tensor_release(x);
  st_tensor_release(y);
  st_tensor_release(dy);
  st_tensor_release(dx);
}

static void check_config(const char *name, int64_t n, int64_t c, int64_t h, int64_t w, st_maxpool2d_params p) {
  check_config_ref(name, n, c, h, w, p, p);
}

static st_maxpool2d_params tf_same(int k, int s) {
  st_maxpool2d_params p = mp(k, k, s, s, 0, 0, 0, 0);
  p.same = 1;
  return p;
}

/* TF 'SAME' 2x2/2 against PyTorch (explicit -inf padding = ceil_mode) on the
 * fixture's odd and even sizes, among them 257 -> 129, 129 -> 65, 65 -> 33
 * rows (relu3_1, relu4_1, relu5_1 of a 514-row style image). */
static void check_same_fixture(void) {
  st_maxpool2d_params p = tf_same(2, 2);
  for (int k = 0; k < MPS_NCASES; k++) {
    const mps_case *f = &mps_cases[k];
    st_tensor *x = st_tensor_new4(f->n, f->c, f->h, f->w, st_cpu());
    memcpy(st_tensor_data(x), f->x, sizeof(float) * (size_t)x->numel);
    int64_t os[4];
    int shape_ok = st_maxpool2d_shape(x, &p, os) == 0 && os[2] == f->oh && os[3] == f->ow;
    tap_ok(shape_ok, "SAME 2x2/2 %s: %dx%d -> %dx%d (ceil)", f->name, f->h, f->w, f->oh, f->ow);
    if (!shape_ok) {
      st_tensor_release(x);
      continue;
    }
    st_tensor *y = st_tensor_new(4, os, st_cpu()), *dy = st_tensor_new(4, os, st_cpu());
    st_tensor *dx = st_tensor_new4(f->n, f->c, f->h, f->w, st_cpu());
    memcpy(st_tensor_data(dy), f->dy, sizeof(float) * (size_t)dy->numel);
    st_maxpool2d_forward(y, x, &p);
    tap_ok(memcmp(st_tensor_data(y), f->y, sizeof(float) * (size_t)y->numel) == 0,
           "SAME 2x2/2 %s: forward equals PyTorch ceil_mode / -inf padding exactly", f->name);
    st_maxpool2d_backward(dx, dy, x, &p);
    check_rel("SAME 2x2/2 backward = PyTorch autograd", st_tensor_data(dx), f->dx, x->numel, 1e-6);
    st_tensor_release(x);
    st_tensor_release(y);
    st_tensor_release(dy);
    st_tensor_release(dx);
  }
}

int main(void) {
  int64_t os[4];
  int rc;
  st_tensor *x = st_tensor_new4(2, 3, 7, 5, st_cpu());
  st_maxpool2d_params same = mp(3, 3, 2, 2, 0, 1, 0, 1), vgg = mp(2, 2, 2, 2, 0, 0, 0, 0);

  /* ---- shapes and argument checks ---- */
  tap_ok(st_maxpool2d_shape(x, &same, os) == 0 && os[0] == 2 && os[1] == 3 && os[2] == 3 && os[3] == 2,
         "3x3/2 pads (0,1,0,1) on 7x5 gives 3x2");
  tap_ok(st_maxpool2d_shape(x, &vgg, os) == 0 && os[2] == 3 && os[3] == 2, "2x2/2 on 7x5 gives 3x2 (floor)");
  st_tensor *x8 = st_tensor_new4(1, 1, 8, 6, st_cpu());
  tap_ok(st_maxpool2d_shape(x8, &same, os) == 0 && os[2] == 4 && os[3] == 3,
         "TF SAME 3x3/2 on 8x6 gives ceil(8/2) x ceil(6/2) = 4x3");
  st_maxpool2d_params odd = mp(2, 3, 1, 2, 1, 0, 2, 0);
  tap_ok(st_maxpool2d_shape(x, &odd, os) == 0 && os[2] == 7 && os[3] == 3, "2x3 stride (1,2) pads (1,0,2,0) gives 7x3");
  st_maxpool2d_params bad = mp(3, 3, 2, 2, 3, 0, 0, 0);
  rc = st_maxpool2d_shape(x, &bad, os);
  tap_ok(rc == -1 && strstr(st_last_error(), "pad"),
         "a pad as large as the kernel is rejected: %s", st_last_error());
  bad = mp(3, 3, 0, 2, 0, 0, 0, 0);
  rc = st_maxpool2d_shape(x, &bad, os);
  tap_ok(rc == -1 && strstr(st_last_error(), "stride"), "stride 0 is rejected");
  bad = mp(9, 3, 1, 1, 0, 0, 0, 0);
  rc = st_maxpool2d_shape(x, &bad, os);
  tap_ok(rc == -1 && strstr(st_last_error(), "kernel"), "a kernel taller than the padded input is rejected: %s",
         st_last_error());
  st_tensor *wrong = st_tensor_new4(2, 3, 4, 3, st_cpu());
  rc = st_maxpool2d_forward(wrong, x, &same);
  tap_ok(rc == -1 && strstr(st_last_error(), " y:"),
         "a wrongly shaped y is rejected naming y: %s", st_last_error());
  rc = st_maxpool2d_backward(x, wrong, x, &same);
  tap_ok(rc == -1 && strstr(st_last_error(), " dy:"),
         "a wrongly shaped dy is rejected naming dy");
  st_tensor *dy32 = st_tensor_zeros(4, (int64_t[]){2, 3, 3, 2}, st_cpu());
  tap_ok(st_maxpool2d_backward(NULL, dy32, x, &same) == 0, "a NULL dx is allowed");
  st_tensor_release(wrong);
  st_tensor_release(dy32);

  /* ---- naive reference and finite differences on odd shapes ---- */
  check_config("3x3/2 pads (0,1,0,1)", 2, 3, 7, 5, same);
  check_config("2x2/2 no pad", 2, 3, 7, 5, vgg);
  check_config("3x3/1 pads 1", 2, 3, 7, 5, mp(3, 3, 1, 1, 1, 1, 1, 1));
  check_config("2x3 stride (1,2) pads (1,0,2,0)", 1, 2, 6, 9, odd);
  check_config("3x3/2 pads (1,1,1,1) on 8x8", 1, 4, 8, 8, mp(3, 3, 2, 2, 1, 1, 1, 1));

  /* ---- TensorFlow 'SAME' (same = 1): pads from the input size ---- */
  {
    st_maxpool2d_params s22 = tf_same(2, 2), s33 = tf_same(3, 3 - 1);
    tap_ok(st_maxpool2d_shape(x, &s22, os) == 0 && os[2] == 4 && os[3] == 3, "SAME 2x2/2 on 7x5 gives 4x3 (ceil)");
    tap_ok(st_maxpool2d_shape(x8, &s22, os) == 0 && os[2] == 4 && os[3] == 3, "SAME 2x2/2 on 8x6 gives 4x3");
    st_tensor *x1 = st_tensor_new4(1, 1, 1, 1, st_cpu());
    tap_ok(st_maxpool2d_shape(x1, &s22, os) == 0 && os[2] == 1 && os[3] == 1, "SAME 2x2/2 on 1x1 gives 1x1");
    st_tensor_release(x1);
    st_maxpool2d_params both = s22;
    both.pad_bottom = 1;
    rc = st_maxpool2d_shape(x, &both, os);
    tap_ok(rc == -1 && strstr(st_last_error(), "same") && strstr(st_last_error(), "bottom 1"),
           "SAME with explicit pads is rejected: %s", st_last_error());
    /* the op's SAME equals the explicit pads TF would use, forward, backward
     * and finite differences (odd: one row/column after; 3x3 odd: one each side) */
    check_config_ref("SAME 2x2/2 on 7x5 = pads (0,1,0,1)", 2, 3, 7, 5, s22, mp(2, 2, 2, 2, 0, 1, 0, 1));
    check_config_ref("SAME 2x2/2 on 9x8 = pads (0,1,0,0)", 1, 2, 9, 8, s22, mp(2, 2, 2, 2, 0, 1, 0, 0));
    check_config_ref("SAME 2x2/2 on 6x4 = no pads", 1, 2, 6, 4, s22, vgg);
    check_config_ref("SAME 3x3/2 on 7x5 = pads (1,1,1,1)", 2, 2, 7, 5, s33, mp(3, 3, 2, 2, 1, 1, 1, 1));
    check_config_ref("SAME 3x3/2 on 8x6 = pads (0,1,0,1)", 1, 2, 8, 6, s33, same);
    check_same_fixture();
  }

  /* ---- padding is -inf: with all-negative inputs no output may be 0 (zero
   * padding) or -inf (an all-padding window) ---- */
  {
    st_maxpool2d_params p = mp(3, 3, 2, 2, 2, 2, 2, 2);
    st_tensor *xn = st_tensor_new4(2, 3, 7, 5, st_cpu());
    st_rng r;
    st_rng_seed(&r, 99);
    st_rng_fill_uniform(&r, xn, -9.0f, -1.0f);
    st_maxpool2d_shape(xn, &p, os);
    st_tensor *y = st_tensor_new(4, os, st_cpu());
    double *yr = malloc(sizeof(double) * (size_t)y->numel);
    st_maxpool2d_forward(y, xn, &p);
    naive_pool(xn, &p, os, NULL, yr, NULL);
    int neg = 1;
    for (int64_t i = 0; i < y->numel; i++) neg &= isfinite(st_tensor_data(y)[i]) && st_tensor_data(y)[i] <= -1.0f;
    tap_ok(neg, "padding is never selected (all outputs are real negative inputs)");
    tap_ok(rel_err_d(st_tensor_data(y), yr, y->numel) == 0.0, "pads of 2 on a 3x3 kernel match the reference");
    free(yr);
    st_tensor_release(y);
    st_tensor_release(xn);
  }

  /* ---- ties: the first maximum in the window gets the gradient (PyTorch) ---- */
  {
    st_tensor *xz = st_tensor_zeros(4, (int64_t[]){1, 1, 4, 4}, st_cpu());
    st_tensor *g = st_tensor_new4(1, 1, 2, 2, st_cpu()), *dxz = st_tensor_new4(1, 1, 4, 4, st_cpu());
    for (int i = 0; i < 4; i++) st_tensor_data(g)[i] = (float)(i + 1);
    st_maxpool2d_backward(dxz, g, xz, &vgg);
    const float want[16] = {1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0};
    tap_ok(memcmp(st_tensor_data(dxz), want, sizeof want) == 0, "ties in an all-zero input go to each window's top-left");
    /* overlapping windows add up */
    st_maxpool2d_params ov = mp(3, 3, 1, 1, 0, 0, 0, 0);
    st_tensor *xo = st_tensor_zeros(4, (int64_t[]){1, 1, 4, 4}, st_cpu());
    st_tensor_data(xo)[5] = 1.0f; /* (1,1) is inside all four 3x3 windows */
    st_tensor *go = st_tensor_new4(1, 1, 2, 2, st_cpu());
    st_tensor_fill(go, 0.25f);
    st_maxpool2d_backward(dxz, go, xo, &ov);
    tap_ok(st_tensor_data(dxz)[5] == 1.0f, "overlapping windows accumulate into one cell");
    st_tensor_release(xz);
    st_tensor_release(g);
    st_tensor_release(dxz);
    st_tensor_release(xo);
    st_tensor_release(go);
  }

  /* ---- NaN propagates and takes the gradient, in the 2x2 fast path and the
   * general path alike ---- */
  for (int general = 0; general <= 1; general++) {
    st_maxpool2d_params p = general ? mp(2, 2, 2, 2, 1, 1, 1, 1) : vgg;
    st_tensor *xn = st_tensor_new4(1, 1, 4, 4, st_cpu());
    for (int i = 0; i < 16; i++) st_tensor_data(xn)[i] = (float)i;
    st_tensor_data(xn)[5] = NAN; /* (1,1) */
    st_maxpool2d_shape(xn, &p, os);
    st_tensor *y = st_tensor_new(4, os, st_cpu()), *g = st_tensor_new(4, os, st_cpu());
    st_tensor *dxn = st_tensor_new4(1, 1, 4, 4, st_cpu());
    st_tensor_fill(g, 1.0f);
    st_maxpool2d_forward(y, xn, &p);
    st_maxpool2d_backward(dxn, g, xn, &p);
    int nans = 0;
    for (int64_t i = 0; i < y->numel; i++) nans += isnan(st_tensor_data(y)[i]);
    /* 2x2/2: only window (0,0) holds (1,1); padded 2x2/2 (pads 1): window (1,1) */
    tap_ok(nans == 1 && st_tensor_data(dxn)[5] == 1.0f, "%s path: a NaN propagates to its window's output and gets the gradient",
           general ? "general" : "2x2");
    st_tensor_release(xn);
    st_tensor_release(y);
    st_tensor_release(g);
    st_tensor_release(dxn);
  }

  /* ---- PyTorch fixtures ---- */
  {
    memcpy(st_tensor_data(x), trf_x, sizeof trf_x);
    st_tensor *y = st_tensor_new4(2, 3, 3, 2, st_cpu()), *dy = st_tensor_new4(2, 3, 3, 2, st_cpu());
    st_tensor *dx = st_tensor_new4(2, 3, 7, 5, st_cpu());
    st_maxpool2d_forward(y, x, &same);
    check_rel("3x3/2 pads (0,1,0,1) forward = PyTorch", st_tensor_data(y), trf_pool3_y, 36, 1e-4);
    memcpy(st_tensor_data(dy), trf_pool3_r, sizeof trf_pool3_r);
    st_maxpool2d_backward(dx, dy, x, &same);
    check_rel("3x3/2 pads (0,1,0,1) backward = PyTorch autograd", st_tensor_data(dx), trf_pool3_dx, 210, 1e-4);
    st_maxpool2d_forward(y, x, &vgg);
    check_rel("2x2/2 forward = PyTorch", st_tensor_data(y), trf_pool2_y, 36, 1e-4);
    memcpy(st_tensor_data(dy), trf_pool2_r, sizeof trf_pool2_r);
    st_maxpool2d_backward(dx, dy, x, &vgg);
    check_rel("2x2/2 backward = PyTorch autograd", st_tensor_data(dx), trf_pool2_dx, 210, 1e-4);
    st_tensor_release(y);
    st_tensor_release(dy);
    st_tensor_release(dx);
  }

  st_tensor_release(x);
  st_tensor_release(x8);
  return tap_done();
}
