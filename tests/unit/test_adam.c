/* Adam: three steps against the formula evaluated by hand in double, the
 * first-step size, a large tensor (the threaded path), argument checks, and
 * torch.optim.Adam fixtures (eps 1e-3 and tiny gradients, so the place where
 * eps enters is tested). */
#include <math.h>
#include <string.h>

#include "engine/error.h"
#include "engine/ops/train_ops.h"
#include "engine/rng.h"
#include "fixtures/train_ops_fixture.h"
#include "tap.h"
#include "testutil.h"

/* One step of torch.optim.Adam in double. */
static void ref_step(double *p, const double *g, double *m, double *v, int64_t n, double lr, double b1, double b2,
                     double eps, int64_t t) {
  double bc1 = 1 - pow(b1, (double)t), bc2 = 1 - pow(b2, (double)t);
  for (int64_t i = 0; i < n; i++) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    double mhat = m[i] / bc1, vhat = v[i] / bc2;
    p[i] -= lr * mhat / (sqrt(vhat) + eps);
  }
}

/* max |(a - a0) - (b - b0)| / max |b - b0|: compares the updates, not the
 * parameters, so the test sees errors much smaller than the parameters. */
static double update_err(const float *a, const double *b, const double *b0, int64_t n) {
  double e = 0, s = 0;
  for (int64_t i = 0; i < n; i++) {
    double d = fabs(((double)a[i] - b0[i]) - (b[i] - b0[i]));
    if (!(d == d)) return INFINITY;
    e = fmax(e, d);
    s = fmax(s, fabs(b[i] - b0[i]));
  }
  return e / (s > 0 ? s : 1.0);
}

static void run_case(const char *name, int64_t n, float lr, float b1, float b2, float eps, uint64_t seed) {
  st_rng rng;
  st_rng_seed(&rng, seed);
  st_tensor *p = st_tensor_new1(n, st_cpu()), *g = st_tensor_new1(n, st_cpu());
  st_tensor *m = st_tensor_zeros(1, &n, st_cpu()), *v = st_tensor_zeros(1, &n, st_cpu());
  /* parameters of the size of a few updates, so that float storage of the
   * parameter does not hide the error of the update itself */
  st_rng_fill_normal(&rng, p, 0, 3 * lr);
  double *pr = malloc(sizeof(double) * (size_t)n), *p0 = malloc(sizeof(double) * (size_t)n);
  double *gr = malloc(sizeof(double) * (size_t)n), *mr = calloc((size_t)n, sizeof(double));
  double *vr = calloc((size_t)n, sizeof(double)), *zero = calloc((size_t)n, sizeof(double));
  for (int64_t i = 0; i < n; i++) pr[i] = p0[i] = st_tensor_data(p)[i];
  double worst = 0;
  int ok = 1;
  for (int64_t t = 1; t <= 3; t++) {
    st_rng_fill_normal(&rng, g, 0, 1);
    float *gd = st_tensor_data(g);
    for (int64_t i = 0; i < n; i++) {
      if (i % 3 == 1) gd[i] *= 1e-4f; /* some gradients near eps */
      gr[i] = gd[i];
    }
    ok &= st_adam_step(p, g, m, v, lr, b1, b2, eps, t) == 0;
    ref_step(pr, gr, mr, vr, n, lr, b1, b2, eps, t);
    worst = fmax(worst, update_err(st_tensor_data(p), pr, p0, n));
  }
  tap_ok(ok && worst < 1e-5, "%s: 3 steps match the formula in double (update rel err %.2g)", name, worst);
  double em = update_err(st_tensor_data(m), mr, zero, n), ev = update_err(st_tensor_data(v), vr, zero, n);
  tap_ok(em < 1e-5 && ev < 1e-5, "%s: moments m and v match (rel err %.2g, %.2g)", name, em, ev);
  free(pr);
  free(p0);
  free(gr);
  free(mr);
  free(vr);
  free(zero);
  st_tensor_release(p);
  st_tensor_release(g);
  st_tensor_release(m);
  st_tensor_release(v);
}

int main(void) {
  run_case("11 params, lr 1e-3, eps 1e-8", 11, 1e-3f, 0.9f, 0.999f, 1e-8f, 1);
  run_case("11 params, lr 0.05, eps 1e-3, betas (0.5, 0.9)", 11, 0.05f, 0.5f, 0.9f, 1e-3f, 2);
  run_case("100003 params (threaded), lr 1e-3", 100003, 1e-3f, 0.9f, 0.999f, 1e-8f, 3);

  /* ---- the first step moves every parameter by lr * sign(g) when |g| >> eps ---- */
  {
    int64_t n = 5;
    st_tensor *p = st_tensor_zeros(1, &n, st_cpu()), *g = st_tensor_new1(n, st_cpu());
    st_tensor *m = st_tensor_zeros(1, &n, st_cpu()), *v = st_tensor_zeros(1, &n, st_cpu());
    const float gv[5] = {3, -0.5f, 1e-2f, -200, 7};
    memcpy(st_tensor_data(g), gv, sizeof gv);
    st_adam_step(p, g, m, v, 1e-3f, 0.9f, 0.999f, 1e-8f, 1);
    int ok = 1;
    for (int i = 0; i < 5; i++) ok &= fabsf(st_tensor_data(p)[i] + 1e-3f * (gv[i] > 0 ? 1 : -1)) < 1e-8f;
    tap_ok(ok, "step 1 moves each parameter by -lr * sign(g)");
    st_tensor_release(p);
    st_tensor_release(g);
    st_tensor_release(m);
    st_tensor_release(v);
  }

  /* ---- argument checks ---- */
  {
    int64_t n = 4, n5 = 5;
    st_tensor *p = st_tensor_zeros(1, &n, st_cpu()), *g = st_tensor_zeros(1, &n, st_cpu());
    st_tensor *m = st_tensor_zeros(1, &n, st_cpu()), *v5 = st_tensor_zeros(1, &n5, st_cpu());
    int rc = st_adam_step(p, g, m, m, 1e-3f, 0.9f, 0.999f, 1e-8f, 0);
    tap_ok(rc == -1 && strstr(st_last_error(), "1-based"), "t = 0 is rejected: %s", st_last_error());
    rc = st_adam_step(p, g, m, m, 1e-3f, 1.0f, 0.999f, 1e-8f, 1);
    tap_ok(rc == -1 && strstr(st_last_error(), "beta1"), "beta1 = 1 is rejected: %s", st_last_error());
    rc = st_adam_step(p, g, m, v5, 1e-3f, 0.9f, 0.999f, 1e-8f, 1);
    tap_ok(rc == -1 && strstr(st_last_error(), " v:"), "a wrongly shaped v is rejected naming v: %s", st_last_error());
    rc = st_adam_step(p, v5, m, m, 1e-3f, 0.9f, 0.999f, 1e-8f, 1);
    tap_ok(rc == -1 && strstr(st_last_error(), "grad"), "a wrongly shaped grad is rejected naming grad");
    rc = st_adam_step(p, g, m, m, NAN, 0.9f, 0.999f, 1e-8f, 1);
    tap_ok(rc == -1 && strstr(st_last_error(), "lr"), "a NaN lr is rejected");
    st_tensor_release(p);
    st_tensor_release(g);
    st_tensor_release(m);
    st_tensor_release(v5);
  }

  /* ---- torch.optim.Adam fixture: lr 0.1, betas (0.9, 0.999), eps 1e-3 ---- */
  {
    int64_t n = TRF_ADAM_P;
    st_tensor *p = st_tensor_new1(n, st_cpu()), *g = st_tensor_new1(n, st_cpu());
    st_tensor *m = st_tensor_zeros(1, &n, st_cpu()), *v = st_tensor_zeros(1, &n, st_cpu());
    memcpy(st_tensor_data(p), trf_adam_p0, sizeof trf_adam_p0);
    const float *gs[3] = {trf_adam_g1, trf_adam_g2, trf_adam_g3}, *ps[3] = {trf_adam_p1, trf_adam_p2, trf_adam_p3};
    double p0[TRF_ADAM_P], want[TRF_ADAM_P];
    for (int i = 0; i < n; i++) p0[i] = trf_adam_p0[i];
    for (int t = 0; t < 3; t++) {
      memcpy(st_tensor_data(g), gs[t], sizeof(float) * (size_t)n);
      st_adam_step(p, g, m, v, TRF_ADAM_LR, TRF_ADAM_BETA1, TRF_ADAM_BETA2, TRF_ADAM_EPS, t + 1);
      for (int i = 0; i < n; i++) want[i] = ps[t][i];
      double e = update_err(st_tensor_data(p), want, p0, n);
      tap_ok(e < 1e-4, "step %d = torch.optim.Adam (update rel err %.2g)", t + 1, e);
    }
    double em = rel_err_f(st_tensor_data(m), trf_adam_m3, n), ev = rel_err_f(st_tensor_data(v), trf_adam_v3, n);
    tap_ok(em < 1e-4 && ev < 1e-4, "moments after 3 steps = torch's exp_avg, exp_avg_sq (rel err %.2g, %.2g)", em, ev);
    st_tensor_release(p);
    st_tensor_release(g);
    st_tensor_release(m);
    st_tensor_release(v);
  }
  return tap_done();
}
