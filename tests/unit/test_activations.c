/* ReLU, tanh, add and affine (CPU): against naive references (small odd
 * shapes and a size that takes the OpenMP path), in-place use, central finite
 * differences for the backward ops, argument errors. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "ops/ops.h"
#include "tap.h"
#include "testutil.h"

/* Uniform on [-2, -m] u [m, 2]: away from ReLU's kink, so differences with a step < m see no kink. */
static void fill_away_from_zero(st_tensor *t, double m) {
  float *p = st_tensor_data(t);
  for (int64_t i = 0; i < t->numel; i++) {
    double u = m + (2.0 - m) * urand();
    p[i] = (float)(urand() < 0.5 ? -u : u);
  }
}

typedef int (*fwd_fn)(st_tensor *, const st_tensor *);
typedef int (*bwd_fn)(st_tensor *, const st_tensor *, const st_tensor *);

static double relu_ref(double x) { return x > 0 ? x : 0; }
static double relu_dref(double dy, double y) { return y > 0 ? dy : 0; }
static double tanh_dref(double dy, double y) { return dy * (1.0 - y * y); }

/* L = sum(fwd(x) * r) in double. */
static double loss(fwd_fn fwd, st_tensor *y, const st_tensor *x, const st_tensor *r) {
  if (fwd(y, x)) return NAN;
  double s = 0;
  for (int64_t i = 0; i < y->numel; i++) s += (double)st_tensor_data(y)[i] * st_tensor_data(r)[i];
  return s;
}

/* forward vs ref, in place; backward vs the double formula dref(dy, y), in
 * place, and (small sizes) vs central differences of L = sum(y * r). */
static void check_activation(const char *name, fwd_fn fwd, bwd_fn bwd, double (*ref)(double),
                             double (*dref)(double, double), int64_t N, int64_t C, int64_t H, int64_t W) {
  st_device cpu = st_cpu();
  st_tensor *x = st_tensor_new4(N, C, H, W, cpu), *y = st_tensor_new4(N, C, H, W, cpu);
  st_tensor *r = st_tensor_new4(N, C, H, W, cpu), *dx = st_tensor_new4(N, C, H, W, cpu);
  const int64_t n = x->numel;
  fill_away_from_zero(x, 0.05);
  fill_u(r, -1.0, 1.0);
  float *px = st_tensor_data(x), *py = st_tensor_data(y), *pr = st_tensor_data(r), *pdx = st_tensor_data(dx);
  char shape[64];
  snprintf(shape, sizeof shape, "[%lld, %lld, %lld, %lld]", (long long)N, (long long)C, (long long)H, (long long)W);

  tap_ok(fwd(y, x) == 0, "%s forward runs on %s", name, shape);
  double e = 0;
  for (int64_t i = 0; i < n; i++) e = fmax(e, fabs(py[i] - ref(px[i])));
  tap_ok(e <= 1e-6, "%s forward %s matches the double reference (max err %.3g)", name, shape, e);

  st_tensor *xi = st_tensor_clone(x);
  fwd(xi, xi);
  tap_ok(memcmp(st_tensor_data(xi), py, n * sizeof(float)) == 0, "%s forward in place (y == x)", name);

  tap_ok(bwd(dx, r, y) == 0, "%s backward runs", name);
  e = 0;
  for (int64_t i = 0; i < n; i++) e = fmax(e, fabs(pdx[i] - dref(pr[i], py[i])));
  tap_ok(e <= 1e-6, "%s backward %s matches the double formula (max err %.3g)", name, shape, e);

  st_tensor *ri = st_tensor_clone(r);
  bwd(ri, ri, y);
  tap_ok(memcmp(st_tensor_data(ri), pdx, n * sizeof(float)) == 0, "%s backward in place (dx == dy)", name);

  if (n <= 4096) {
    const float h = 1e-2f;
    st_tensor *yt = st_tensor_new4(N, C, H, W, cpu);
    double err = 0, m = 0;
    for (int64_t i = 0; i < n; i++) {
      float keep = px[i];
      px[i] = keep + h;
      double lp = loss(fwd, yt, x, r), step = (double)px[i];
      px[i] = keep - h;
      double lm = loss(fwd, yt, x, r);
      step -= (double)px[i];
      px[i] = keep;
      err = fmax(err, fabs((lp - lm) / step - pdx[i]));
      m = fmax(m, fabs(pdx[i]));
    }
    tap_ok(err <= 1e-2 * m + 1e-4, "%s backward matches finite differences (max err %.3g, max |grad| %.3g)", name,
           err, m);
    st_tensor_release(yt);
  }
  st_tensor_release(x), st_tensor_release(y), st_tensor_release(r), st_tensor_release(dx);
  st_tensor_release(xi), st_tensor_release(ri);
}

static void check_add_affine(int64_t N, int64_t C, int64_t H, int64_t W) {
  st_device cpu = st_cpu();
  st_tensor *a = st_tensor_new4(N, C, H, W, cpu), *b = st_tensor_new4(N, C, H, W, cpu);
  st_tensor *y = st_tensor_new4(N, C, H, W, cpu);
  const int64_t n = a->numel;
  fill_u(a, -3.0, 3.0);
  fill_u(b, -3.0, 3.0);
  float *pa = st_tensor_data(a), *pb = st_tensor_data(b), *py = st_tensor_data(y);

  int ok = st_add_forward(y, a, b) == 0;
  for (int64_t i = 0; ok && i < n; i++) ok = py[i] == pa[i] + pb[i];
  tap_ok(ok, "add matches a + b on %lld elements", (long long)n);
  st_tensor *a2 = st_tensor_clone(a), *b2 = st_tensor_clone(b);
  st_add_forward(a2, a2, b);
  st_add_forward(b2, a, b2);
  tap_ok(memcmp(st_tensor_data(a2), py, n * sizeof(float)) == 0 &&
             memcmp(st_tensor_data(b2), py, n * sizeof(float)) == 0,
         "add in place (y == a, y == b)");

  const float scale = 150.0f, shift = 127.5f;
  ok = st_affine_forward(y, a, scale, shift) == 0;
  for (int64_t i = 0; ok && i < n; i++) ok = fabs(py[i] - ((double)pa[i] * scale + shift)) <= 1e-4;
  tap_ok(ok, "affine matches x*150 + 127.5 on %lld elements", (long long)n);
  st_affine_forward(a2, a, 1.0f, 0.0f);
  st_affine_forward(a2, a2, scale, shift);
  tap_ok(memcmp(st_tensor_data(a2), py, n * sizeof(float)) == 0, "affine in place (y == x)");
  st_tensor_release(a), st_tensor_release(b), st_tensor_release(y), st_tensor_release(a2), st_tensor_release(b2);
}

int main(void) {
  tu_seed(0x2545F4914F6CDD1Dull);
  /* Odd shapes, then one large enough for the OpenMP path. */
  check_activation("relu", st_relu_forward, st_relu_backward, relu_ref, relu_dref, 2, 3, 7, 5);
  check_activation("tanh", st_tanh_forward, st_tanh_backward, tanh, tanh_dref, 2, 3, 7, 5);
  check_activation("relu", st_relu_forward, st_relu_backward, relu_ref, relu_dref, 3, 5, 127, 129);
  check_activation("tanh", st_tanh_forward, st_tanh_backward, tanh, tanh_dref, 3, 5, 127, 129);
  check_add_affine(2, 3, 7, 5);
  check_add_affine(3, 5, 127, 129);

  /* ReLU at exactly 0: the gradient is 0 there (y = 0 is not > 0). */
  {
    st_tensor *x = st_tensor_zeros(1, (int64_t[]){1}, st_cpu()), *d = st_tensor_new1(1, st_cpu());
    st_tensor *g = st_tensor_new1(1, st_cpu());
    st_tensor_fill(d, 1.0f);
    st_relu_forward(x, x);
    st_relu_backward(g, d, x);
    tap_ok(st_tensor_data(g)[0] == 0.0f, "relu passes no gradient where y == 0");
    st_tensor_release(x), st_tensor_release(d), st_tensor_release(g);
  }

  /* Argument errors name the argument and both shapes. */
  {
    st_device cpu = st_cpu();
    st_tensor *x = st_tensor_new4(2, 3, 7, 5, cpu), *bad = st_tensor_new4(2, 3, 5, 7, cpu);
    fill_u(x, -1, 1);
    int rc = st_relu_forward(bad, x);
    tap_ok(rc == -1 && strstr(st_last_error(), "relu") && strstr(st_last_error(), "y") &&
               strstr(st_last_error(), "[2, 3, 7, 5]") && strstr(st_last_error(), "[2, 3, 5, 7]"),
           "relu forward with a wrong y shape (%s)", st_last_error());
    rc = st_tanh_backward(x, bad, x);
    tap_ok(rc == -1 && strstr(st_last_error(), "dy"), "tanh backward with a wrong dy shape (%s)", st_last_error());
    rc = st_relu_backward(bad, x, x);
    tap_ok(rc == -1 && strstr(st_last_error(), "dx"), "relu backward with a wrong dx shape (%s)", st_last_error());
    rc = st_add_forward(x, x, bad);
    tap_ok(rc == -1 && strstr(st_last_error(), "b:"), "add with mismatched b (%s)", st_last_error());
    rc = st_affine_forward(bad, x, 1.0f, 0.0f);
    tap_ok(rc == -1 && strstr(st_last_error(), "affine") && strstr(st_last_error(), "y"),
           "affine with a wrong y shape (%s)", st_last_error());
    rc = st_tanh_forward(x, NULL);
    tap_ok(rc == -1 && strstr(st_last_error(), "missing"), "tanh forward with no x (%s)", st_last_error());
    st_tensor_release(x), st_tensor_release(bad);
  }
  return tap_done();
}
