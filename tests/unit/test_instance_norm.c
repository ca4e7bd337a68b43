/* Instance norm (CPU): forward and backward against double-precision naive
 * references, backward against central finite differences, precision with a
 * large mean offset, argument errors. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "ops/ops.h"
#include "tap.h"
#include "testutil.h"

static double nrand(void) { return sqrt(-2.0 * log(1.0 - urand())) * cos(6.283185307179586 * urand()); }

/* Double-precision reference: two-pass mean and biased variance. */
static void ref_forward(double *y, double *mean, double *rstd, const float *x, const float *g, const float *b,
                        int64_t N, int64_t C, int64_t HW, double eps) {
  for (int64_t p = 0; p < N * C; p++) {
    const float *xp = x + p * HW;
    double m = 0, v = 0;
    for (int64_t i = 0; i < HW; i++) m += xp[i];
    m /= HW;
    for (int64_t i = 0; i < HW; i++) v += (xp[i] - m) * (xp[i] - m);
    v /= HW;
    double r = 1.0 / sqrt(v + eps), gc = g ? g[p % C] : 1, bc = b ? b[p % C] : 0;
    if (mean) mean[p] = m;
    if (rstd) rstd[p] = r;
    if (y)
      for (int64_t i = 0; i < HW; i++) y[p * HW + i] = gc * (xp[i] - m) * r + bc;
  }
}

/* Double-precision reference backward (dgamma, dbeta assigned here). */
static void ref_backward(double *dx, double *dg, double *db, const float *dy, const float *x, const float *g,
                         int64_t N, int64_t C, int64_t HW, double eps) {
  for (int64_t c = 0; c < C; c++) dg[c] = db[c] = 0;
  for (int64_t p = 0; p < N * C; p++) {
    const float *xp = x + p * HW, *dyp = dy + p * HW;
    double m, r;
    ref_forward(NULL, &m, &r, xp, NULL, NULL, 1, 1, HW, eps);
    double sdy = 0, sdyx = 0;
    for (int64_t i = 0; i < HW; i++) {
      sdy += dyp[i];
      sdyx += dyp[i] * (xp[i] - m) * r;
    }
    dg[p % C] += sdyx;
    db[p % C] += sdy;
    double gc = g ? g[p % C] : 1;
    for (int64_t i = 0; i < HW; i++)
      dx[p * HW + i] = gc * r * (dyp[i] - sdy / HW - (xp[i] - m) * r * sdyx / HW);
  }
}

/* L = sum(y * r) in double, y from the op under test. */
static double loss(st_tensor *y, const st_tensor *x, const st_tensor *g, const st_tensor *b, const st_tensor *r,
                   float eps) {
  if (st_instance_norm_forward(y, NULL, NULL, x, g, b, eps)) return NAN;
  double s = 0;
  for (int64_t i = 0; i < y->numel; i++) s += (double)st_tensor_data(y)[i] * st_tensor_data(r)[i];
  return s;
}

/* Central differences of loss() over every element of t (x, gamma or beta). */
static void fd_grad(double *out, st_tensor *t, st_tensor *y, const st_tensor *x, const st_tensor *g,
                    const st_tensor *b, const st_tensor *r, float eps, float h) {
  float *p = st_tensor_data(t);
  for (int64_t i = 0; i < t->numel; i++) {
    float keep = p[i];
    p[i] = keep + h;
    double lp = loss(y, x, g, b, r, eps);
    p[i] = keep - h;
    double lm = loss(y, x, g, b, r, eps);
    p[i] = keep;
    out[i] = (lp - lm) / (2.0 * ((double)(keep + h) - (double)keep));
  }
}

/* max |got - want| <= rtol * max |want| + atol, reported. */
static int close_all(const float *got, const double *want, int64_t n, double rtol, double atol, const char *name) {
  double e = 0;
  for (int64_t i = 0; i < n; i++) e = fmax(e, fabs((double)got[i] - want[i]));
  double lim = rtol * max_abs(want, n) + atol;
  if (!tap_ok(e <= lim, "%s (max err %.3g, limit %.3g)", name, e, lim)) tap_diag("failed");
  return e <= lim;
}

int main(void) {
  tu_seed(0x9E3779B97F4A7C15ull);
  const int64_t N = 2, C = 3, H = 7, W = 5, HW = H * W, n = N * C * HW;
  const float eps = 1e-3f;
  st_device cpu = st_cpu();
  st_tensor *x = st_tensor_new4(N, C, H, W, cpu), *y = st_tensor_new4(N, C, H, W, cpu);
  st_tensor *y2 = st_tensor_new4(N, C, H, W, cpu), *g = st_tensor_new1(C, cpu), *b = st_tensor_new1(C, cpu);
  int64_t nc[2] = {N, C};
  st_tensor *mean = st_tensor_new(2, nc, cpu), *rstd = st_tensor_new(2, nc, cpu);
  fill_u(x, -2.0, 3.0);
  fill_u(g, 0.5, 1.5);
  fill_u(b, -1.0, 1.0);
  /* Different scales per plane, so planes are not alike. */
  for (int64_t p = 0; p < N * C; p++)
    for (int64_t i = 0; i < HW; i++) st_tensor_data(x)[p * HW + i] *= (float)(0.3 + p);

  /* ---- forward ---- */
  double ry[n], rm[N * C], rr[N * C];
  ref_forward(ry, rm, rr, st_tensor_data(x), st_tensor_data(g), st_tensor_data(b), N, C, HW, eps);
  tap_ok(st_instance_norm_forward(y, mean, rstd, x, g, b, eps) == 0, "forward runs");
  close_all(st_tensor_data(y), ry, n, 1e-6, 1e-6, "forward y matches the double reference");
  close_all(st_tensor_data(mean), rm, N * C, 1e-6, 1e-7, "saved mean matches");
  close_all(st_tensor_data(rstd), rr, N * C, 1e-6, 0, "saved rstd matches");

  st_instance_norm_forward(y2, NULL, NULL, x, g, b, eps);
  tap_ok(memcmp(st_tensor_data(y), st_tensor_data(y2), n * sizeof(float)) == 0, "NULL mean/rstd gives the same y");

  st_tensor *ones = st_tensor_new1(C, cpu), *zeros = st_tensor_zeros(1, &C, cpu);
  st_tensor_fill(ones, 1.0f);
  st_instance_norm_forward(y, NULL, NULL, x, ones, zeros, eps);
  st_instance_norm_forward(y2, NULL, NULL, x, NULL, NULL, eps);
  tap_ok(memcmp(st_tensor_data(y), st_tensor_data(y2), n * sizeof(float)) == 0,
         "NULL gamma/beta act as gamma=1, beta=0");

  st_instance_norm_forward(y, NULL, NULL, x, g, b, eps);
  st_tensor *xi = st_tensor_clone(x);
  tap_ok(st_instance_norm_forward(xi, NULL, NULL, xi, g, b, eps) == 0 &&
             memcmp(st_tensor_data(xi), st_tensor_data(y), n * sizeof(float)) == 0,
         "in-place forward (y == x) gives the same result");

  /* ---- backward vs double reference ---- */
  st_tensor *dy = st_tensor_new4(N, C, H, W, cpu), *dx = st_tensor_new4(N, C, H, W, cpu);
  st_tensor *dg = st_tensor_new1(C, cpu), *db = st_tensor_new1(C, cpu);
  fill_u(dy, -1.0, 1.0);
  st_tensor_fill(dg, 0.5f);
  st_tensor_fill(db, -0.25f);
  st_instance_norm_forward(y, mean, rstd, x, g, b, eps);
  double rdx[n], rdg[C], rdb[C];
  ref_backward(rdx, rdg, rdb, st_tensor_data(dy), st_tensor_data(x), st_tensor_data(g), N, C, HW, eps);
  tap_ok(st_instance_norm_backward(dx, dg, db, dy, x, mean, rstd, g) == 0, "backward runs");
  close_all(st_tensor_data(dx), rdx, n, 1e-4, 1e-6, "dx matches the double reference");
  for (int64_t c = 0; c < C; c++) rdg[c] += 0.5, rdb[c] -= 0.25;
  close_all(st_tensor_data(dg), rdg, C, 1e-4, 1e-6, "dgamma accumulates onto its old value and matches");
  close_all(st_tensor_data(db), rdb, C, 1e-4, 1e-6, "dbeta accumulates onto its old value and matches");

  st_tensor *dx2 = st_tensor_new4(N, C, H, W, cpu), *dg2 = st_tensor_zeros(1, &C, cpu);
  st_instance_norm_backward(dx2, NULL, NULL, dy, x, mean, rstd, g);
  st_instance_norm_backward(NULL, dg2, NULL, dy, x, mean, rstd, g);
  tap_ok(memcmp(st_tensor_data(dx2), st_tensor_data(dx), n * sizeof(float)) == 0 &&
             fabs(st_tensor_data(dg2)[1] + 0.5 - st_tensor_data(dg)[1]) < 1e-5,
         "NULL gradients are skipped without changing the others");
  st_tensor *dyi = st_tensor_clone(dy);
  st_instance_norm_backward(dyi, NULL, NULL, dyi, x, mean, rstd, g);
  tap_ok(memcmp(st_tensor_data(dyi), st_tensor_data(dx), n * sizeof(float)) == 0, "in-place backward (dx == dy)");

  /* ---- finite differences of L = sum(y * r) ---- */
  {
    st_tensor *r = dy; /* random weights */
    const float h = 1e-2f;
    double fdx[n], fdg[C], fdb[C];
    fd_grad(fdx, x, y2, x, g, b, r, eps, h);
    fd_grad(fdg, g, y2, x, g, b, r, eps, h);
    fd_grad(fdb, b, y2, x, g, b, r, eps, h);
    st_tensor_fill(dg, 0.0f);
    st_tensor_fill(db, 0.0f);
    st_instance_norm_forward(y, mean, rstd, x, g, b, eps);
    st_instance_norm_backward(dx, dg, db, r, x, mean, rstd, g);
    close_fd(fdx, st_tensor_data(dx), n, 1e-2, 1e-3, "dx");
    close_fd(fdg, st_tensor_data(dg), C, 1e-2, 1e-3, "dgamma");
    close_fd(fdb, st_tensor_data(db), C, 1e-2, 1e-3, "dbeta");
  }

  /* ---- a large offset: mean 1000, std 1, 337k-pixel planes ---- */
  {
    const int64_t LH = 480, LW = 703, LHW = LH * LW;
    st_tensor *lx = st_tensor_new4(1, 2, LH, LW, cpu), *ly = st_tensor_new4(1, 2, LH, LW, cpu);
    int64_t l2[2] = {1, 2};
    st_tensor *lm = st_tensor_new(2, l2, cpu), *lr = st_tensor_new(2, l2, cpu);
    float *px = st_tensor_data(lx);
    for (int64_t i = 0; i < lx->numel; i++) px[i] = (float)(1000.0 + nrand());
    double *ly_ref = malloc(lx->numel * sizeof(double)), lm_ref[2], lr_ref[2];
    ref_forward(ly_ref, lm_ref, lr_ref, px, NULL, NULL, 1, 2, LHW, 1e-5);
    st_instance_norm_forward(ly, lm, lr, lx, NULL, NULL, 1e-5f);
    close_all(st_tensor_data(ly), ly_ref, lx->numel, 0, 2e-6, "offset 1000: y keeps float precision");
    close_all(st_tensor_data(lm), lm_ref, 2, 1e-7, 0, "offset 1000: mean to float precision");
    close_all(st_tensor_data(lr), lr_ref, 2, 1e-6, 0, "offset 1000: rstd to float precision");
    /* For contrast, what single-precision sum / sum of squares would give. */
    float s = 0, ss = 0;
    for (int64_t i = 0; i < LHW; i++) s += px[i], ss += px[i] * px[i];
    float fm = s / LHW, fv = ss / LHW - fm * fm;
    tap_diag("float accumulation would give mean err %.3g and variance %.4g (true %.6f)", fabs(fm - lm_ref[0]), fv,
             1.0 / (lr_ref[0] * lr_ref[0]) - 1e-5);

    st_tensor *ldy = st_tensor_new4(1, 2, LH, LW, cpu), *ldx = st_tensor_new4(1, 2, LH, LW, cpu);
    st_tensor *ldg = st_tensor_zeros(1, (int64_t[]){2}, cpu), *ldb = st_tensor_zeros(1, (int64_t[]){2}, cpu);
    fill_u(ldy, -1.0, 1.0);
    double *ldx_ref = malloc(lx->numel * sizeof(double)), ldg_ref[2], ldb_ref[2];
    ref_backward(ldx_ref, ldg_ref, ldb_ref, st_tensor_data(ldy), px, NULL, 1, 2, LHW, 1e-5);
    st_instance_norm_backward(ldx, ldg, ldb, ldy, lx, lm, lr, NULL);
    close_all(st_tensor_data(ldx), ldx_ref, lx->numel, 1e-4, 0, "offset 1000: dx matches the double reference");
    close_all(st_tensor_data(ldg), ldg_ref, 2, 1e-4, 0, "offset 1000: dgamma matches");
    close_all(st_tensor_data(ldb), ldb_ref, 2, 1e-5, 0, "offset 1000: dbeta matches");
    free(ly_ref);
    free(ldx_ref);
    st_tensor_release(lx), st_tensor_release(ly), st_tensor_release(lm), st_tensor_release(lr);
    st_tensor_release(ldy), st_tensor_release(ldx), st_tensor_release(ldg), st_tensor_release(ldb);
  }

  /* ---- argument errors ---- */
  {
    st_tensor *bad = st_tensor_new4(N, C, H, W - 1, cpu), *badc = st_tensor_new1(C + 1, cpu);
    st_clear_error();
    int rc = st_instance_norm_forward(bad, NULL, NULL, x, g, b, eps);
    tap_ok(rc == -1 && strstr(st_last_error(), "y") && strstr(st_last_error(), "[2, 3, 7, 5]") &&
               strstr(st_last_error(), "[2, 3, 7, 4]"),
           "wrong y shape: error names y, expected and actual shapes (%s)", st_last_error());
    rc = st_instance_norm_forward(y, NULL, NULL, x, badc, b, eps);
    tap_ok(rc == -1 && strstr(st_last_error(), "gamma") && strstr(st_last_error(), "[3]"),
           "wrong gamma shape is an error naming gamma (%s)", st_last_error());
    rc = st_instance_norm_forward(y, badc, NULL, x, g, b, eps);
    tap_ok(rc == -1 && strstr(st_last_error(), "mean"), "wrong mean shape is an error naming mean (%s)",
           st_last_error());
    rc = st_instance_norm_backward(dx, dg, db, dy, x, NULL, rstd, g);
    tap_ok(rc == -1 && strstr(st_last_error(), "mean"), "backward without the saved mean is an error (%s)",
           st_last_error());
    rc = st_instance_norm_backward(dx, dg, db, bad, x, mean, rstd, g);
    tap_ok(rc == -1 && strstr(st_last_error(), "dy"), "wrong dy shape is an error naming dy (%s)", st_last_error());
    rc = st_instance_norm_backward(dx, badc, db, dy, x, mean, rstd, g);
    tap_ok(rc == -1 && strstr(st_last_error(), "dgamma"), "wrong dgamma shape is an error naming dgamma (%s)",
           st_last_error());
    st_tensor *x3 = st_tensor_view(x, 3, (int64_t[]){N, C, HW});
    rc = st_instance_norm_forward(y, NULL, NULL, x3, g, b, eps);
    tap_ok(rc == -1 && strstr(st_last_error(), "x"), "a 3-d x is an error (%s)", st_last_error());
    rc = st_instance_norm_forward(y, NULL, NULL, x, g, b, -1.0f);
    tap_ok(rc == -1 && strstr(st_last_error(), "eps"), "negative eps is an error (%s)", st_last_error());
    st_tensor_release(bad), st_tensor_release(badc), st_tensor_release(x3);
  }

  st_tensor_release(x), st_tensor_release(y), st_tensor_release(y2), st_tensor_release(g), st_tensor_release(b);
  st_tensor_release(mean), st_tensor_release(rstd), st_tensor_release(ones), st_tensor_release(zeros);
  st_tensor_release(xi), st_tensor_release(dy), st_tensor_release(dx), st_tensor_release(dg), st_tensor_release(db);
  st_tensor_release(dx2), st_tensor_release(dg2), st_tensor_release(dyi);
  return tap_done();
}
