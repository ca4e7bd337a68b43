/* gram: shapes and argument checks, forward/backward against naive double
 * references on odd shapes, exact symmetry, finite differences, PyTorch fixtures. */
#include <math.h>
#include <string.h>

#include "engine/error.h"
#include "engine/ops/train_ops.h"
#include "engine/rng.h"
#include "fixtures/train_ops_fixture.h"
#include "tap.h"
#include "testutil.h"

/* g[n][i][j] = sum_p x[n,i,p] x[n,j,p] / (C*H*W), in double. */
static void naive_gram(const st_tensor *x, double *g) {
  int64_t n = x->shape[0], c = x->shape[1], hw = x->shape[2] * x->shape[3];
  const float *d = st_tensor_data(x);
  for (int64_t b = 0; b < n; b++)
    for (int64_t i = 0; i < c; i++)
      for (int64_t j = 0; j < c; j++) {
        double s = 0;
        for (int64_t p = 0; p < hw; p++) s += (double)d[(b * c + i) * hw + p] * d[(b * c + j) * hw + p];
        g[(b * c + i) * c + j] = s / (double)(c * hw);
      }
}

/* dx[n,i,p] = sum_j (dg[n,i,j] + dg[n,j,i]) x[n,j,p] / (C*H*W), in double. */
static void naive_gram_backward(const st_tensor *x, const float *dg, double *dx) {
  int64_t n = x->shape[0], c = x->shape[1], hw = x->shape[2] * x->shape[3];
  const float *d = st_tensor_data(x);
  for (int64_t b = 0; b < n; b++)
    for (int64_t i = 0; i < c; i++)
      for (int64_t p = 0; p < hw; p++) {
        double s = 0;
        for (int64_t j = 0; j < c; j++)
          s += ((double)dg[(b * c + i) * c + j] + dg[(b * c + j) * c + i]) * d[(b * c + j) * hw + p];
        dx[(b * c + i) * hw + p] = s / (double)(c * hw);
      }
}

static double loss_sum_gr(const st_tensor *g, const st_tensor *r) {
  double s = 0;
  for (int64_t i = 0; i < g->numel; i++) s += (double)st_tensor_data(g)[i] * st_tensor_data(r)[i];
  return s;
}

static void check_shape(int64_t n, int64_t c, int64_t h, int64_t w, int fd) {
  char name[64];
  snprintf(name, sizeof name, "[%lld, %lld, %lld, %lld]", (long long)n, (long long)c, (long long)h, (long long)w);
  st_rng rng;
  st_rng_seed(&rng, (uint64_t)(n * 1000 + c * 100 + h * 10 + w));
  st_tensor *x = st_tensor_new4(n, c, h, w, st_cpu()), *dx = st_tensor_new4(n, c, h, w, st_cpu());
  st_tensor *g = st_tensor_new(3, (int64_t[]){n, c, c}, st_cpu()), *dg = st_tensor_new(3, (int64_t[]){n, c, c}, st_cpu());
  st_rng_fill_normal(&rng, x, 0.3f, 1.0f);
  st_rng_fill_normal(&rng, dg, 0.0f, 1.0f); /* not symmetric on purpose */
  double *gr = malloc(sizeof(double) * (size_t)g->numel), *dxr = malloc(sizeof(double) * (size_t)x->numel);
  naive_gram(x, gr);
  naive_gram_backward(x, st_tensor_data(dg), dxr);

  tap_ok(st_gram_forward(g, x) == 0, "%s: forward runs", name);
  double e = rel_err_d(st_tensor_data(g), gr, g->numel);
  tap_ok(e < 1e-5, "%s: forward matches the naive double reference (rel err %.2g)", name, e);
  int sym = 1;
  const float *gd = st_tensor_data(g);
  for (int64_t b = 0; b < n; b++)
    for (int64_t i = 0; i < c; i++)
      for (int64_t j = 0; j < c; j++) sym &= gd[(b * c + i) * c + j] == gd[(b * c + j) * c + i];
  tap_ok(sym, "%s: every Gram matrix is exactly symmetric", name);
  tap_ok(st_gram_backward(dx, dg, x) == 0, "%s: backward runs", name);
  e = rel_err_d(st_tensor_data(dx), dxr, x->numel);
  tap_ok(e < 1e-5, "%s: backward matches the naive double reference (rel err %.2g)", name, e);

  if (fd) { /* L = sum(g * dg); central differences */
    float *xd = st_tensor_data(x);
    const float eps = 1e-2f;
    double worst = 0, scale = 0;
    for (int64_t i = 0; i < x->numel; i++) {
      float keep = xd[i];
      xd[i] = keep + eps;
      st_gram_forward(g, x);
      double lp = loss_sum_gr(g, dg);
      xd[i] = keep - eps;
      st_gram_forward(g, x);
      double lm = loss_sum_gr(g, dg);
      xd[i] = keep;
      double f = (lp - lm) / (2.0 * eps);
      worst = fmax(worst, fabs(f - st_tensor_data(dx)[i]));
      scale = fmax(scale, fabs(f));
    }
    tap_ok(worst <= 1e-2 * scale, "%s: backward matches finite differences (max err %.3g of %.3g)", name, worst, scale);
  }
  free(gr);
  free(dxr);
  st_tensor_release(x);
  st_tensor_release(dx);
  st_tensor_release(g);
  st_tensor_release(dg);
}

int main(void) {
  int64_t gs[3];
  int rc;
  st_tensor *x = st_tensor_new4(2, 3, 7, 5, st_cpu());

  /* ---- shapes and argument checks ---- */
  tap_ok(st_gram_shape(x, gs) == 0 && gs[0] == 2 && gs[1] == 3 && gs[2] == 3, "gram of [2,3,7,5] is [2,3,3]");
  st_tensor *x3 = st_tensor_new(3, (int64_t[]){2, 3, 7}, st_cpu());
  rc = st_gram_shape(x3, gs);
  tap_ok(rc == -1 && strstr(st_last_error(), "x"), "a 3-d x is rejected: %s", st_last_error());
  st_tensor *gbad = st_tensor_new(3, (int64_t[]){2, 3, 4}, st_cpu());
  rc = st_gram_forward(gbad, x);
  tap_ok(rc == -1 && strstr(st_last_error(), "g:"), "a wrongly shaped g is rejected naming g: %s",
         st_last_error());
  rc = st_gram_backward(x, gbad, x);
  tap_ok(rc == -1 && strstr(st_last_error(), "dg"), "a wrongly shaped dg is rejected naming dg");
  st_tensor *dg0 = st_tensor_zeros(3, (int64_t[]){2, 3, 3}, st_cpu());
  tap_ok(st_gram_backward(NULL, dg0, x) == 0, "a NULL dx is allowed");
  st_tensor *dxbad = st_tensor_new4(2, 3, 5, 7, st_cpu());
  rc = st_gram_backward(dxbad, dg0, x);
  tap_ok(rc == -1 && strstr(st_last_error(), "dx"), "a wrongly shaped dx is rejected naming dx");
  st_tensor_release(x3);
  st_tensor_release(gbad);
  st_tensor_release(dxbad);

  /* ---- naive references (and finite differences on the small shapes) ---- */
  check_shape(2, 3, 7, 5, 1);
  check_shape(1, 5, 3, 1, 1);
  check_shape(3, 17, 9, 11, 0);
  check_shape(1, 64, 32, 33, 0);

  /* ---- hand-computed: x[0] = [[1,2],[3,4]] as C=2, H=1, W=2 ---- */
  {
    st_tensor *t = st_tensor_new4(1, 2, 1, 2, st_cpu()), *g = st_tensor_new(3, (int64_t[]){1, 2, 2}, st_cpu());
    const float v[4] = {1, 2, 3, 4};
    memcpy(st_tensor_data(t), v, sizeof v);
    st_gram_forward(g, t);
    /* F F^T = [[5, 11], [11, 25]], / (C*H*W = 4) */
    const float want[4] = {1.25f, 2.75f, 2.75f, 6.25f};
    check_rel("hand-computed 2x2 Gram", st_tensor_data(g), want, 4, 1e-7);
    st_tensor_release(t);
    st_tensor_release(g);
  }

  /* ---- PyTorch fixtures ---- */
  {
    memcpy(st_tensor_data(x), trf_x, sizeof trf_x);
    st_tensor *g = st_tensor_new(3, (int64_t[]){2, 3, 3}, st_cpu()), *r = st_tensor_new(3, (int64_t[]){2, 3, 3}, st_cpu());
    st_tensor *dx = st_tensor_new4(2, 3, 7, 5, st_cpu());
    st_gram_forward(g, x);
    check_rel("forward = PyTorch", st_tensor_data(g), trf_gram_g, 18, 1e-4);
    memcpy(st_tensor_data(r), trf_gram_r, sizeof trf_gram_r);
    st_gram_backward(dx, r, x);
    check_rel("backward = PyTorch autograd", st_tensor_data(dx), trf_gram_dx, 210, 1e-4);
    st_tensor_release(g);
    st_tensor_release(r);
    st_tensor_release(dx);
  }

  st_tensor_release(dg0);
  st_tensor_release(x);
  return tap_done();
}
