/* Losses: mse, gram_distance (style) and tv. Hand-computed tiny examples,
 * naive double references, finite differences of every backward (with a
 * dloss scale), thread-count independence, argument checks, and PyTorch
 * fixtures (including the chain x -> gram -> style distance). */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "engine/error.h"
#include "engine/ops/train_ops.h"
#include "engine/rng.h"
#include "fixtures/train_ops_fixture.h"
#include "tap.h"
#include "testutil.h"

static st_tensor *from(int ndim, const int64_t *shape, const float *v) {
  st_tensor *t = st_tensor_new(ndim, shape, st_cpu());
  memcpy(st_tensor_data(t), v, sizeof(float) * (size_t)t->numel);
  return t;
}

/* ---- naive double references ---- */
static double naive_tv(const st_tensor *x, double *dx, double dloss) {
  int64_t n = x->shape[0], c = x->shape[1], h = x->shape[2], w = x->shape[3];
  const float *d = st_tensor_data(x);
  double sx = 0, sy = 0, wx = w > 1 ? 1.0 / (n * h * (w - 1) * c) : 0, wy = h > 1 ? 1.0 / (n * (h - 1) * w * c) : 0;
  if (dx) memset(dx, 0, sizeof(double) * (size_t)x->numel);
  for (int64_t q = 0; q < n * c; q++)
    for (int64_t i = 0; i < h; i++)
      for (int64_t j = 0; j < w; j++) {
        int64_t o = (q * h + i) * w + j;
        if (j + 1 < w) {
          double e = (double)d[o + 1] - d[o];
          sx += e * e;
          if (dx) {
            dx[o + 1] += dloss * wx * 2 * e;
            dx[o] -= dloss * wx * 2 * e;
          }
        }
        if (i + 1 < h) {
          double e = (double)d[o + w] - d[o];
          sy += e * e;
          if (dx) {
            dx[o + w] += dloss * wy * 2 * e;
            dx[o] -= dloss * wy * 2 * e;
          }
        }
      }
  return sx * wx + sy * wy;
}

/* (1/N) sum_n ||g_n - gs_(n or 0)||^2 / (C*C) */
static double naive_gram_distance(const st_tensor *g, const st_tensor *gs) {
  int64_t n = g->shape[0], cc = g->shape[1] * g->shape[2];
  double s = 0;
  for (int64_t b = 0; b < n; b++)
    for (int64_t k = 0; k < cc; k++) {
      double d = (double)st_tensor_data(g)[b * cc + k] - st_tensor_data(gs)[(gs->shape[0] == 1 ? 0 : b) * cc + k];
      s += d * d;
    }
  return s / (double)(n * cc);
}

/* Central differences of a scalar loss f over every element of t, compared
 * with grad (which should be dloss * df/dt); one TAP line. */
typedef double (*loss_fn)(void *ctx);
static void fd_check(const char *name, st_tensor *t, const st_tensor *grad, double dloss, loss_fn f, void *ctx,
                     float eps) {
  float *d = st_tensor_data(t);
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < t->numel; i++) {
    float keep = d[i];
    d[i] = keep + eps;
    double lp = f(ctx);
    d[i] = keep - eps;
    double lm = f(ctx);
    d[i] = keep;
    double fd = dloss * (lp - lm) / (2.0 * eps);
    worst = fmax(worst, fabs(fd - st_tensor_data(grad)[i]));
    scale = fmax(scale, fabs(fd));
  }
  tap_ok(scale > 0 && worst <= 1e-2 * scale, "%s matches finite differences (max err %.3g of %.3g)", name, worst, scale);
}

typedef struct {
  const st_tensor *a, *b;
} pair;
static double f_mse(void *ctx) {
  pair *p = ctx;
  float l = NAN;
  st_mse_forward(&l, p->a, p->b);
  return l;
}
static double f_gd(void *ctx) {
  pair *p = ctx;
  float l = NAN;
  st_gram_distance_forward(&l, p->a, p->b);
  return l;
}
static double f_tv(void *ctx) {
  float l = NAN;
  st_tv_forward(&l, ((pair *)ctx)->a);
  return l;
}

int main(void) {
  st_rng rng;
  st_rng_seed(&rng, 2024);
  const double dloss = 0.7;

  /* ======== mse ======== */
  {
    /* hand-computed: a - b = [1, 0, -2, 3], mean of squares 14/4 */
    int64_t s4[1] = {4};
    st_tensor *a = from(1, s4, (const float[]){1, 2, 3, 4}), *b = from(1, s4, (const float[]){0, 2, 5, 1});
    st_tensor *da = st_tensor_new1(4, st_cpu()), *db = st_tensor_new1(4, st_cpu());
    float l = 0;
    int rc = st_mse_forward(&l, a, b);
    tap_ok(rc == 0 && l == 3.5f, "mse: hand example is 3.5 (got %g)", l);
    st_mse_backward(da, db, 1.0f, a, b);
    check_rel("mse: hand example da = 2(a-b)/4", st_tensor_data(da), (const float[]){0.5f, 0, -1, 1.5f}, 4, 1e-7);
    check_rel("mse: hand example db = -da", st_tensor_data(db), (const float[]){-0.5f, 0, 1, -1.5f}, 4, 1e-7);
    st_mse_backward(da, NULL, 2.0f, a, b);
    check_rel("mse: dloss scales da, NULL db allowed", st_tensor_data(da), (const float[]){1, 0, -2, 3}, 4, 1e-7);
    st_tensor *c = st_tensor_new1(5, st_cpu());
    rc = st_mse_forward(&l, a, c);
    tap_ok(rc == -1 && strstr(st_last_error(), "b"), "mse: shape mismatch rejected: %s",
           st_last_error());
    rc = st_mse_backward(c, NULL, 1.0f, a, b);
    tap_ok(rc == -1 && strstr(st_last_error(), "da"), "mse: wrong da rejected naming da");
    tap_ok(st_mse_forward(NULL, a, b) == -1, "mse: NULL loss pointer rejected");
    st_tensor_release(a);
    st_tensor_release(b);
    st_tensor_release(c);
    st_tensor_release(da);
    st_tensor_release(db);
  }
  {
    /* random odd shape: finite differences of both inputs */
    st_tensor *a = st_tensor_new4(2, 3, 7, 5, st_cpu()), *b = st_tensor_new4(2, 3, 7, 5, st_cpu());
    st_tensor *da = st_tensor_new4(2, 3, 7, 5, st_cpu()), *db = st_tensor_new4(2, 3, 7, 5, st_cpu());
    st_rng_fill_normal(&rng, a, 0, 1);
    st_rng_fill_normal(&rng, b, 0.5f, 2);
    double *ref = malloc(sizeof(double) * 210), want = 0;
    for (int i = 0; i < 210; i++) {
      double d = (double)st_tensor_data(a)[i] - st_tensor_data(b)[i];
      want += d * d;
      ref[i] = dloss * 2 * d / 210;
    }
    float l;
    st_mse_forward(&l, a, b);
    tap_close(l, want / 210, 0, 1e-6, "mse: forward matches the naive double sum");
    st_mse_backward(da, db, (float)dloss, a, b);
    check_rel_d("mse: da matches the naive double reference", st_tensor_data(da), ref, 210, 1e-6);
    pair p = {a, b};
    fd_check("mse: da", a, da, dloss, f_mse, &p, 1e-2f);
    fd_check("mse: db", b, db, dloss, f_mse, &p, 1e-2f);
    free(ref);
    st_tensor_release(a);
    st_tensor_release(b);
    st_tensor_release(da);
    st_tensor_release(db);
  }
  {
    /* large: double accumulation and the same value for 1 and 2 threads */
    st_tensor *a = st_tensor_new4(4, 512, 32, 33, st_cpu()), *b = st_tensor_new4(4, 512, 32, 33, st_cpu());
    st_rng_fill_normal(&rng, a, 1, 3);
    st_rng_fill_normal(&rng, b, 0, 1);
    double want = 0;
    for (int64_t i = 0; i < a->numel; i++) {
      double d = (double)st_tensor_data(a)[i] - st_tensor_data(b)[i];
      want += d * d;
    }
    float l1, l2;
    omp_set_num_threads(1);
    st_mse_forward(&l1, a, b);
    omp_set_num_threads(2);
    st_mse_forward(&l2, a, b);
    tap_close(l2, want / (double)a->numel, 0, 1e-6, "mse: 2.2M elements match the double sum");
    tap_ok(l1 == l2, "mse: the same loss with 1 and 2 threads (%.9g, %.9g)", l1, l2);
    st_tensor_release(a);
    st_tensor_release(b);
  }

  /* ======== gram_distance ======== */
  {
    /* hand-computed: N=2, C=2; G0 - Gs = [0,1,2,3] (14), G1 - Gs = [-1,-1,-1,-1] (4);
     * loss = 18 / (N*C*C = 8) = 2.25; dG = 2 (G - Gs) / 8; dGs = -sum_n dG_n */
    st_tensor *g = from(3, (int64_t[]){2, 2, 2}, (const float[]){1, 2, 3, 4, 0, 0, 0, 0});
    st_tensor *gs = from(3, (int64_t[]){1, 2, 2}, (const float[]){1, 1, 1, 1});
    st_tensor *dg = st_tensor_new(3, g->shape, st_cpu()), *dgs = st_tensor_new(3, gs->shape, st_cpu());
    float l = 0;
    int rc = st_gram_distance_forward(&l, g, gs);
    tap_ok(rc == 0 && l == 2.25f, "gram_distance: hand example is 2.25 (got %g)", l);
    st_gram_distance_backward(dg, dgs, 1.0f, g, gs);
    check_rel("gram_distance: hand example dG", st_tensor_data(dg),
              (const float[]){0, 0.25f, 0.5f, 0.75f, -0.25f, -0.25f, -0.25f, -0.25f}, 8, 1e-7);
    check_rel("gram_distance: hand example dGs (summed over the batch)", st_tensor_data(dgs),
              (const float[]){0.25f, 0, -0.25f, -0.5f}, 4, 1e-7);
    st_tensor *bad = st_tensor_new(3, (int64_t[]){3, 2, 2}, st_cpu());
    rc = st_gram_distance_forward(&l, g, bad);
    tap_ok(rc == -1 && strstr(st_last_error(), "gs"),
           "gram_distance: gs [3,2,2] against g [2,2,2] rejected: %s", st_last_error());
    st_tensor *nsq = st_tensor_new(3, (int64_t[]){2, 2, 3}, st_cpu());
    tap_ok(st_gram_distance_forward(&l, nsq, gs) == -1, "gram_distance: non-square g rejected");
    rc = st_gram_distance_backward(bad, NULL, 1.0f, g, gs);
    tap_ok(rc == -1 && strstr(st_last_error(), "dg"),
           "gram_distance: wrong dg rejected naming dg");
    st_tensor_release(bad);
    st_tensor_release(nsq);
    st_tensor_release(g);
    st_tensor_release(gs);
    st_tensor_release(dg);
    st_tensor_release(dgs);
  }
  for (int per_image = 0; per_image <= 1; per_image++) {
    /* random, broadcast [1,C,C] target and per-image [N,C,C] target */
    const char *what = per_image ? "gs [N,C,C]" : "gs [1,C,C]";
    char name[96];
    st_tensor *g = st_tensor_new(3, (int64_t[]){3, 5, 5}, st_cpu());
    st_tensor *gs = st_tensor_new(3, (int64_t[]){per_image ? 3 : 1, 5, 5}, st_cpu());
    st_tensor *dg = st_tensor_new(3, g->shape, st_cpu()), *dgs = st_tensor_new(3, gs->shape, st_cpu());
    st_rng_fill_normal(&rng, g, 0, 1);
    st_rng_fill_normal(&rng, gs, 0, 1);
    float l;
    st_gram_distance_forward(&l, g, gs);
    snprintf(name, sizeof name, "gram_distance %s: forward matches the naive double reference", what);
    tap_close(l, naive_gram_distance(g, gs), 0, 1e-6, name);
    st_gram_distance_backward(dg, dgs, (float)dloss, g, gs);
    pair p = {g, gs};
    snprintf(name, sizeof name, "gram_distance %s: dG", what);
    fd_check(name, g, dg, dloss, f_gd, &p, 1e-2f);
    snprintf(name, sizeof name, "gram_distance %s: dGs", what);
    fd_check(name, gs, dgs, dloss, f_gd, &p, 1e-2f);
    st_tensor_release(g);
    st_tensor_release(gs);
    st_tensor_release(dg);
    st_tensor_release(dgs);
  }

  /* ======== tv ======== */
  {
    /* hand-computed: x = [[1,2,4],[0,1,1]] (N=C=1, H=2, W=3): horizontal
     * differences 1,2,1,0 -> 6 / (H*(W-1)*C = 4); vertical -1,-1,-3 -> 11 / 3.
     * loss = 1.5 + 11/3 = 31/6. d/dx[0,0] = 2/4*(0 - 1) + 2/3*(0 - (-1)) = 1/6. */
    st_tensor *x = from(4, (int64_t[]){1, 1, 2, 3}, (const float[]){1, 2, 4, 0, 1, 1});
    st_tensor *dx = st_tensor_new(4, x->shape, st_cpu());
    float l = 0;
    int rc = st_tv_forward(&l, x);
    tap_ok(rc == 0, "tv: forward runs");
    tap_close(l, 31.0 / 6.0, 0, 1e-7, "tv: hand example is 31/6");
    st_tv_backward(dx, 1.0f, x);
    tap_close(st_tensor_data(dx)[0], 1.0 / 6.0, 0, 1e-6, "tv: hand example d/dx[0,0] = 1/6");
    double ref[6];
    naive_tv(x, ref, 1.0);
    check_rel_d("tv: hand example dx matches the naive reference", st_tensor_data(dx), ref, 6, 1e-6);
    /* a single column: the horizontal term is empty and counts 0; vertical
     * differences 1, 2 -> (1 + 4) / ((H-1)*W*C = 2) */
    st_tensor *col = from(4, (int64_t[]){1, 1, 3, 1}, (const float[]){0, 1, 3});
    rc = st_tv_forward(&l, col);
    tap_ok(rc == 0 && fabsf(l - 2.5f) < 1e-6f, "tv: W = 1 gives only the vertical term, 5/2 (got %g)", l);
    st_tensor *bad = st_tensor_new(4, (int64_t[]){1, 1, 3, 2}, st_cpu());
    rc = st_tv_backward(bad, 1.0f, x);
    tap_ok(rc == -1 && strstr(st_last_error(), "dx"), "tv: wrong dx rejected naming dx: %s",
           st_last_error());
    st_tensor *x3 = st_tensor_new(3, (int64_t[]){1, 2, 3}, st_cpu());
    tap_ok(st_tv_forward(&l, x3) == -1, "tv: a 3-d x is rejected");
    st_tensor_release(x);
    st_tensor_release(dx);
    st_tensor_release(col);
    st_tensor_release(bad);
    st_tensor_release(x3);
  }
  {
    /* random odd shape, C = 3 and C = 4 (the actual C is used) */
    for (int c = 3; c <= 4; c++) {
      char name[96];
      st_tensor *x = st_tensor_new4(2, c, 7, 5, st_cpu()), *dx = st_tensor_new4(2, c, 7, 5, st_cpu());
      st_rng_fill_uniform(&rng, x, 0, 255);
      double *ref = malloc(sizeof(double) * (size_t)x->numel);
      double want = naive_tv(x, ref, dloss);
      float l;
      st_tv_forward(&l, x);
      snprintf(name, sizeof name, "tv C=%d: forward matches the naive double reference", c);
      tap_close(l, want, 0, 1e-6, name);
      st_tv_backward(dx, (float)dloss, x);
      snprintf(name, sizeof name, "tv C=%d: dx matches the naive double reference", c);
      check_rel_d(name, st_tensor_data(dx), ref, x->numel, 1e-5);
      pair p = {x, NULL};
      snprintf(name, sizeof name, "tv C=%d: dx", c);
      fd_check(name, x, dx, dloss, f_tv, &p, 1e-1f); /* values ~100: a larger step */
      free(ref);
      st_tensor_release(x);
      st_tensor_release(dx);
    }
  }
  {
    st_tensor *x = st_tensor_new4(4, 3, 256, 256, st_cpu());
    st_rng_fill_uniform(&rng, x, 0, 255);
    float l1, l2;
    omp_set_num_threads(1);
    st_tv_forward(&l1, x);
    omp_set_num_threads(2);
    st_tv_forward(&l2, x);
    tap_close(l2, naive_tv(x, NULL, 0), 0, 1e-6, "tv: a 4x3x256x256 batch matches the double sum");
    tap_ok(l1 == l2, "tv: the same loss with 1 and 2 threads");
    st_tensor_release(x);
  }

  /* ======== PyTorch fixtures ======== */
  {
    int64_t xs[4] = {TRF_N, TRF_C, TRF_H, TRF_W}, gsh[3] = {TRF_N, TRF_C, TRF_C}, g1[3] = {1, TRF_C, TRF_C};
    st_tensor *x = from(4, xs, trf_x), *b = from(4, xs, trf_mse_b);
    st_tensor *da = st_tensor_new(4, xs, st_cpu()), *db = st_tensor_new(4, xs, st_cpu());
    float l;
    st_mse_forward(&l, x, b);
    check_rel("mse loss = PyTorch", &l, trf_mse_loss, 1, 1e-4);
    st_mse_backward(da, db, 1.0f, x, b);
    check_rel("mse da = PyTorch autograd", st_tensor_data(da), trf_mse_da, 210, 1e-4);
    check_rel("mse db = PyTorch autograd", st_tensor_data(db), trf_mse_db, 210, 1e-4);

    st_tv_forward(&l, x);
    check_rel("tv loss = PyTorch", &l, trf_tv_loss, 1, 1e-4);
    st_tv_backward(da, 1.0f, x);
    check_rel("tv dx = PyTorch autograd", st_tensor_data(da), trf_tv_dx, 210, 1e-4);

    st_tensor *g = from(3, gsh, trf_gram_g), *gs = from(3, g1, trf_gs);
    st_tensor *dg = st_tensor_new(3, gsh, st_cpu()), *dgs = st_tensor_new(3, g1, st_cpu());
    st_gram_distance_forward(&l, g, gs);
    check_rel("style distance = PyTorch", &l, trf_style_loss, 1, 1e-4);
    st_gram_distance_backward(dg, dgs, 1.0f, g, gs);
    check_rel("style dG = PyTorch autograd", st_tensor_data(dg), trf_style_dg, 18, 1e-4);
    check_rel("style dGs = PyTorch autograd", st_tensor_data(dgs), trf_style_dgs, 9, 1e-4);

    /* the whole style chain: x -> gram -> distance -> back to x */
    st_tensor *gx = st_tensor_new(3, gsh, st_cpu());
    st_tensor *xst = from(4, (int64_t[]){1, TRF_C, 6, 4}, trf_xs);
    st_gram_forward(gx, x);
    st_gram_forward(gs, xst);
    check_rel("style target Gram of a 1-image batch = PyTorch", st_tensor_data(gs), trf_gs, 9, 1e-4);
    st_gram_distance_forward(&l, gx, gs);
    check_rel("style chain loss = PyTorch", &l, trf_style_loss, 1, 1e-4);
    st_gram_distance_backward(dg, NULL, 1.0f, gx, gs);
    st_gram_backward(da, dg, x);
    check_rel("style chain dx = PyTorch autograd", st_tensor_data(da), trf_style_dx, 210, 1e-4);

    st_tensor_release(x);
    st_tensor_release(b);
    st_tensor_release(da);
    st_tensor_release(db);
    st_tensor_release(g);
    st_tensor_release(gs);
    st_tensor_release(dg);
    st_tensor_release(dgs);
    st_tensor_release(gx);
    st_tensor_release(xst);
  }
  return tap_done();
}
