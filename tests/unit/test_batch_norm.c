/* Batch norm with fixed statistics (CPU): forward and backward against
 * double-precision naive references, backward against central finite
 * differences, in-place use, NULL affine parameters, argument errors. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "ops/fcrn_ops.h"
#include "tap.h"
#include "testutil.h"


/* Double reference: y = (x - m) / sqrt(v + eps) * g + b; NULL g, b: 1, 0. */
static void ref_forward(double *y, const float *x, const float *m, const float *v, const float *g, const float *b,
                        int64_t N, int64_t C, int64_t HW, double eps) {
  for (int64_t p = 0; p < N * C; p++) {
    int64_t c = p % C;
    double r = 1.0 / sqrt((double)v[c] + eps), gc = g ? g[c] : 1.0, bc = b ? b[c] : 0.0;
    for (int64_t i = 0; i < HW; i++) y[p * HW + i] = ((double)x[p * HW + i] - m[c]) * r * gc + bc;
  }
}

/* Double reference backward; dg and db are assigned. */
static void ref_backward(double *dx, double *dg, double *db, const float *dy, const float *x, const float *m,
                         const float *v, const float *g, int64_t N, int64_t C, int64_t HW, double eps) {
  for (int64_t c = 0; c < C; c++) dg[c] = db[c] = 0;
  for (int64_t p = 0; p < N * C; p++) {
    int64_t c = p % C;
    double r = 1.0 / sqrt((double)v[c] + eps), gc = g ? g[c] : 1.0;
    for (int64_t i = 0; i < HW; i++) {
      double d = dy[p * HW + i];
      dx[p * HW + i] = d * gc * r;
      db[c] += d;
      dg[c] += d * ((double)x[p * HW + i] - m[c]) * r;
    }
  }
}

static int close_all(const float *got, const double *want, int64_t n, double rtol, double atol, const char *name) {
  double e = 0, m = 0;
  for (int64_t i = 0; i < n; i++) {
    e = fmax(e, fabs((double)got[i] - want[i]));
    m = fmax(m, fabs(want[i]));
  }
  double lim = rtol * m + atol;
  return tap_ok(e <= lim, "%s (max err %.3g, limit %.3g)", name, e, lim);
}

/* L = sum(y * r) in double. */
static double loss(st_tensor *y, const st_tensor *x, const st_tensor *m, const st_tensor *v, const st_tensor *g,
                   const st_tensor *b, const st_tensor *r, float eps) {
  if (st_batch_norm_forward(y, x, m, v, g, b, eps)) return NAN;
  double s = 0;
  for (int64_t i = 0; i < y->numel; i++) s += (double)st_tensor_data(y)[i] * st_tensor_data(r)[i];
  return s;
}

/* Central differences of loss() over every element of t. */
static void fd_grad(double *out, st_tensor *t, st_tensor *y, const st_tensor *x, const st_tensor *m,
                    const st_tensor *v, const st_tensor *g, const st_tensor *b, const st_tensor *r, float eps,
                    float h) {
  float *p = st_tensor_data(t);
  for (int64_t i = 0; i < t->numel; i++) {
    float keep = p[i];
    p[i] = keep + h;
    double lp = loss(y, x, m, v, g, b, r, eps);
    p[i] = keep - h;
    double lm = loss(y, x, m, v, g, b, r, eps);
    p[i] = keep;
    out[i] = (lp - lm) / ((double)(keep + h) - (double)(keep - h));
  }
}

int main(void) {
  tu_seed(0x2545F4914F6CDD1Dull);
  const int64_t N = 2, C = 5, H = 6, W = 7, HW = H * W, n = N * C * HW;
  const float eps = 1e-4f;
  st_device cpu = st_cpu();
  st_tensor *x = st_tensor_new4(N, C, H, W, cpu), *y = st_tensor_new4(N, C, H, W, cpu),
            *y2 = st_tensor_new4(N, C, H, W, cpu);
  st_tensor *m = st_tensor_new1(C, cpu), *v = st_tensor_new1(C, cpu), *g = st_tensor_new1(C, cpu),
            *b = st_tensor_new1(C, cpu);
  fill_u(x, -20.0, 30.0);
  fill_u(m, -5.0, 5.0);
  fill_u(v, 0.1, 40.0);
  fill_u(g, -1.5, 1.5);
  fill_u(b, -1.0, 1.0);
  st_tensor_data(v)[2] = 0.0f; /* a dead channel: rstd = 1/sqrt(eps) = 100 */

  /* ---- forward ---- */
  static double ry[2 * 5 * 6 * 7];
  ref_forward(ry, st_tensor_data(x), st_tensor_data(m), st_tensor_data(v), st_tensor_data(g), st_tensor_data(b), N, C,
              HW, eps);
  tap_ok(st_batch_norm_forward(y, x, m, v, g, b, eps) == 0, "forward runs");
  close_all(st_tensor_data(y), ry, n, 1e-6, 0, "forward y matches the double reference (var 0 channel included)");

  /* The _prechecked forms (statistics checked once, e.g. at load) compute the same. */
  tap_ok(st_batch_norm_check_var(v, eps, "stats") == 0, "check_var accepts variances >= 0 with eps > 0");
  tap_ok(st_batch_norm_forward_prechecked(y2, x, m, v, g, b, eps) == 0 &&
             memcmp(st_tensor_data(y2), st_tensor_data(y), n * sizeof(float)) == 0,
         "forward_prechecked gives the checked forward's result bit for bit");
  {
    st_tensor *bv = st_tensor_clone(v);
    st_tensor_data(bv)[3] = -2.0f;
    int rc = st_batch_norm_check_var(bv, eps, "file.h5: bn.running_var");
    tap_ok(rc == -1 && strstr(st_last_error(), "file.h5: bn.running_var: var[3] + eps = -2 + ") != NULL,
           "check_var names the caller's context and the channel (%s)", st_last_error());
    st_tensor_data(bv)[3] = NAN;
    tap_ok(st_batch_norm_check_var(bv, eps, "stats") == -1 && strstr(st_last_error(), "var[3]") != NULL,
           "check_var rejects a NaN variance");
    tap_ok(st_batch_norm_check_var(v, -1.0f, "stats") == -1 && strstr(st_last_error(), "eps") != NULL,
           "check_var rejects a negative eps");
    st_tensor_release(bv);
  }

  st_tensor *xi = st_tensor_clone(x);
  tap_ok(st_batch_norm_forward(xi, xi, m, v, g, b, eps) == 0 &&
             memcmp(st_tensor_data(xi), st_tensor_data(y), n * sizeof(float)) == 0,
         "in-place forward (y == x) gives the same result");

  ref_forward(ry, st_tensor_data(x), st_tensor_data(m), st_tensor_data(v), NULL, NULL, N, C, HW, eps);
  st_batch_norm_forward(y2, x, m, v, NULL, NULL, eps);
  close_all(st_tensor_data(y2), ry, n, 1e-6, 0, "NULL gamma/beta act as 1 and 0");

  /* TensorFlow's formula x * inv + (beta - mean * inv) agrees to float rounding. */
  {
    double e = 0;
    for (int64_t p = 0; p < N * C; p++) {
      int64_t c = p % C;
      float inv = (float)(1.0 / sqrt((double)st_tensor_data(v)[c] + eps)) * st_tensor_data(g)[c];
      float sh = st_tensor_data(b)[c] - st_tensor_data(m)[c] * inv;
      for (int64_t i = 0; i < HW; i++)
        e = fmax(e, fabs(st_tensor_data(x)[p * HW + i] * inv + sh - st_tensor_data(y)[p * HW + i]));
    }
    tap_ok(e < 1e-3, "TensorFlow's x*inv + (offset - mean*inv) form agrees (max diff %.3g on |y| up to ~300)", e);
  }

  /* ---- backward vs the double reference ---- */
  st_tensor *dy = st_tensor_new4(N, C, H, W, cpu), *dx = st_tensor_new4(N, C, H, W, cpu);
  st_tensor *dg = st_tensor_new1(C, cpu), *db = st_tensor_new1(C, cpu);
  fill_u(dy, -1.0, 1.0);
  st_tensor_fill(dg, 0.5f);
  st_tensor_fill(db, -0.25f);
  static double rdx[2 * 5 * 6 * 7];
  double rdg[5], rdb[5];
  ref_backward(rdx, rdg, rdb, st_tensor_data(dy), st_tensor_data(x), st_tensor_data(m), st_tensor_data(v),
               st_tensor_data(g), N, C, HW, eps);
  tap_ok(st_batch_norm_backward(dx, dg, db, dy, x, m, v, g, eps) == 0, "backward runs");
  close_all(st_tensor_data(dx), rdx, n, 1e-6, 0, "dx = dy * gamma * rstd matches the double reference");
  for (int64_t c = 0; c < C; c++) rdg[c] += 0.5, rdb[c] -= 0.25;
  close_all(st_tensor_data(dg), rdg, C, 1e-5, 1e-6, "dgamma accumulates onto its old value and matches");
  close_all(st_tensor_data(db), rdb, C, 1e-5, 1e-6, "dbeta accumulates onto its old value and matches");

  st_tensor *dx2 = st_tensor_new4(N, C, H, W, cpu), *db2 = st_tensor_zeros(1, &C, cpu);
  tap_ok(st_batch_norm_backward(dx2, NULL, NULL, dy, NULL, m, v, g, eps) == 0 &&
             memcmp(st_tensor_data(dx2), st_tensor_data(dx), n * sizeof(float)) == 0,
         "input gradient alone needs no x (frozen network)");
  tap_ok(st_batch_norm_backward(NULL, NULL, db2, dy, NULL, m, v, g, eps) == 0 &&
             fabs(st_tensor_data(db2)[3] - 0.25 - st_tensor_data(db)[3]) < 1e-5,
         "dbeta alone needs no x either");
  st_tensor *dx3 = st_tensor_new4(N, C, H, W, cpu);
  tap_ok(st_batch_norm_backward_prechecked(dx3, NULL, NULL, dy, NULL, m, v, g, eps) == 0 &&
             memcmp(st_tensor_data(dx3), st_tensor_data(dx), n * sizeof(float)) == 0,
         "backward_prechecked gives the checked backward's dx bit for bit");
  st_tensor_release(dx3);
  st_tensor *dyi = st_tensor_clone(dy);
  st_batch_norm_backward(dyi, NULL, NULL, dyi, NULL, m, v, g, eps);
  tap_ok(memcmp(st_tensor_data(dyi), st_tensor_data(dx), n * sizeof(float)) == 0, "in-place backward (dx == dy)");

  /* ---- finite differences of L = sum(y * r) ---- */
  {
    st_tensor *r = dy;
    static double fdx[2 * 5 * 6 * 7];
    double fdg[5], fdb[5];
    st_tensor_data(v)[2] = 0.5f; /* keep the x step small relative to every rstd */
    fd_grad(fdx, x, y2, x, m, v, g, b, r, eps, 1e-2f);
    fd_grad(fdg, g, y2, x, m, v, g, b, r, eps, 1e-2f);
    fd_grad(fdb, b, y2, x, m, v, g, b, r, eps, 1e-2f);
    st_tensor_fill(dg, 0.0f);
    st_tensor_fill(db, 0.0f);
    st_batch_norm_backward(dx, dg, db, r, x, m, v, g, eps);
    close_fd(fdx, st_tensor_data(dx), n, 1e-2, 1e-4, "dx");
    close_fd(fdg, st_tensor_data(dg), C, 1e-2, 1e-4, "dgamma");
    close_fd(fdb, st_tensor_data(db), C, 1e-2, 1e-4, "dbeta");
  }

  /* ---- a larger batch exercises the threaded loops ---- */
  {
    const int64_t BN = 3, BC = 64, BH = 33, BW = 29, BHW = BH * BW, bn = BN * BC * BHW;
    st_tensor *bx = st_tensor_new4(BN, BC, BH, BW, cpu), *by = st_tensor_new4(BN, BC, BH, BW, cpu);
    st_tensor *bm = st_tensor_new1(BC, cpu), *bv = st_tensor_new1(BC, cpu), *bg = st_tensor_new1(BC, cpu),
              *bb = st_tensor_new1(BC, cpu), *bdg = st_tensor_zeros(1, &BC, cpu), *bdb = st_tensor_zeros(1, &BC, cpu);
    fill_u(bx, 0, 255), fill_u(bm, 100, 150), fill_u(bv, 100, 3000), fill_u(bg, 0.5, 2), fill_u(bb, -3, 3);
    double *ref = malloc(bn * sizeof(double)), *rdxb = malloc(bn * sizeof(double)), rg[64], rb[64];
    ref_forward(ref, st_tensor_data(bx), st_tensor_data(bm), st_tensor_data(bv), st_tensor_data(bg),
                st_tensor_data(bb), BN, BC, BHW, 1e-4);
    st_batch_norm_forward(by, bx, bm, bv, bg, bb, 1e-4f);
    close_all(st_tensor_data(by), ref, bn, 1e-6, 0, "3x64x33x29 raw-pixel-sized input matches the reference");
    ref_backward(rdxb, rg, rb, st_tensor_data(bx), st_tensor_data(bx), st_tensor_data(bm), st_tensor_data(bv),
                 st_tensor_data(bg), BN, BC, BHW, 1e-4);
    st_batch_norm_backward(by, bdg, bdb, bx, bx, bm, bv, bg, 1e-4f); /* dy = x, arbitrary */
    close_all(st_tensor_data(by), rdxb, bn, 1e-6, 0, "its dx matches");
    close_all(st_tensor_data(bdg), rg, BC, 1e-5, 0, "its dgamma matches");
    close_all(st_tensor_data(bdb), rb, BC, 1e-6, 0, "its dbeta matches");
    free(ref), free(rdxb);
    st_tensor_release(bx), st_tensor_release(by), st_tensor_release(bm), st_tensor_release(bv);
    st_tensor_release(bg), st_tensor_release(bb), st_tensor_release(bdg), st_tensor_release(bdb);
  }

  /* ---- argument errors ---- */
  {
    st_tensor *bad = st_tensor_new4(N, C, H, W - 1, cpu), *badc = st_tensor_new1(C + 1, cpu);
    int rc = st_batch_norm_forward(bad, x, m, v, g, b, eps);
    tap_ok(rc == -1 && strstr(st_last_error(), "y") && strstr(st_last_error(), "[2, 5, 6, 7]") &&
               strstr(st_last_error(), "[2, 5, 6, 6]"),
           "wrong y shape: error names y, expected and actual shapes (%s)", st_last_error());
    rc = st_batch_norm_forward(y, x, m, badc, g, b, eps);
    tap_ok(rc == -1 && strstr(st_last_error(), "var") && strstr(st_last_error(), "[5]"),
           "wrong var shape is an error naming var (%s)", st_last_error());
    rc = st_batch_norm_forward(y, x, NULL, v, g, b, eps);
    tap_ok(rc == -1 && strstr(st_last_error(), "mean"), "missing mean is an error (%s)", st_last_error());
    rc = st_batch_norm_forward(y, x, m, v, g, badc, eps);
    tap_ok(rc == -1 && strstr(st_last_error(), "beta"), "wrong beta shape names beta (%s)", st_last_error());
    float keep = st_tensor_data(v)[3];
    st_tensor_data(v)[3] = -1.0f;
    rc = st_batch_norm_forward(y, x, m, v, g, b, eps);
    tap_ok(rc == -1 && strstr(st_last_error(), "var[3]"), "negative variance names its channel (%s)",
           st_last_error());
    rc = st_batch_norm_backward(dx, NULL, NULL, dy, NULL, m, v, g, eps);
    tap_ok(rc == -1 && strstr(st_last_error(), "var[3]"), "so does the backward (%s)", st_last_error());
    st_tensor_data(v)[3] = keep;
    rc = st_batch_norm_forward(y, x, m, v, g, b, -1e-3f);
    tap_ok(rc == -1 && strstr(st_last_error(), "eps"), "negative eps is an error (%s)", st_last_error());
    rc = st_batch_norm_backward(dx, dg, NULL, dy, NULL, m, v, g, eps);
    tap_ok(rc == -1 && strstr(st_last_error(), "dgamma"), "dgamma without x is an error (%s)", st_last_error());
    rc = st_batch_norm_backward(bad, NULL, NULL, dy, NULL, m, v, g, eps);
    tap_ok(rc == -1 && strstr(st_last_error(), "dx"), "wrong dx shape names dx (%s)", st_last_error());
    rc = st_batch_norm_backward(dx, badc, NULL, dy, x, m, v, g, eps);
    tap_ok(rc == -1 && strstr(st_last_error(), "dgamma"), "wrong dgamma shape names dgamma (%s)", st_last_error());
    st_tensor *x3 = st_tensor_view(x, 3, (int64_t[]){N, C, HW});
    rc = st_batch_norm_forward(y, x3, m, v, g, b, eps);
    tap_ok(rc == -1 && strstr(st_last_error(), "x"), "a 3-d x is an error (%s)", st_last_error());
    st_tensor_release(bad), st_tensor_release(badc), st_tensor_release(x3);
  }

  st_tensor_release(x), st_tensor_release(y), st_tensor_release(y2), st_tensor_release(m), st_tensor_release(v);
  st_tensor_release(g), st_tensor_release(b), st_tensor_release(xi), st_tensor_release(dy), st_tensor_release(dx);
  st_tensor_release(dg), st_tensor_release(db), st_tensor_release(dx2), st_tensor_release(db2);
  st_tensor_release(dyi);
  return tap_done();
}
