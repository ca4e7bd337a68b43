/* pad2d (CPU): zero / reflect / replicate on a hand-computed example (values
 * checked against numpy.pad 'constant' / 'reflect' / 'edge'), random odd
 * shapes against a naive reference, backward summing the copies (by hand,
 * naive scatter and finite differences), argument errors. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "ops/ops.h"
#include "tap.h"
#include "testutil.h"


static const char *mode_name[] = {"zero", "reflect", "replicate"};

/* Naive source index, written differently from the kernel: reflection as a
 * triangle wave of period 2(n-1). */
static int64_t naive_src(int64_t i, int64_t n, st_pad_mode mode) {
  if (mode == ST_PAD_ZERO) return (i < 0 || i >= n) ? -1 : i;
  if (mode == ST_PAD_REPLICATE) return i < 0 ? 0 : (i >= n ? n - 1 : i);
  if (n == 1) return 0;
  int64_t per = 2 * (n - 1), j = ((i % per) + per) % per;
  return j < n ? j : per - j;
}

static void naive_forward(float *y, const float *x, int64_t P, int64_t H, int64_t W, int t, int b, int l, int r,
                          st_pad_mode m) {
  int64_t OH = H + t + b, OW = W + l + r;
  for (int64_t p = 0; p < P; p++)
    for (int64_t i = 0; i < OH; i++)
      for (int64_t j = 0; j < OW; j++) {
        int64_t si = naive_src(i - t, H, m), sj = naive_src(j - l, W, m);
        y[(p * OH + i) * OW + j] = (si < 0 || sj < 0) ? 0.0f : x[(p * H + si) * W + sj];
      }
}

static void naive_backward(double *dx, const float *dy, int64_t P, int64_t H, int64_t W, int t, int b, int l, int r,
                           st_pad_mode m) {
  int64_t OH = H + t + b, OW = W + l + r;
  for (int64_t i = 0; i < P * H * W; i++) dx[i] = 0;
  for (int64_t p = 0; p < P; p++)
    for (int64_t i = 0; i < OH; i++)
      for (int64_t j = 0; j < OW; j++) {
        int64_t si = naive_src(i - t, H, m), sj = naive_src(j - l, W, m);
        if (si >= 0 && sj >= 0) dx[(p * H + si) * W + sj] += dy[(p * OH + i) * OW + j];
      }
}

static int equal_f(const float *a, const float *b, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (a[i] != b[i]) return 0;
  return 1;
}

/* Forward and backward on random data vs the naive versions, plus finite differences when small. */
static void check_random(int64_t N, int64_t C, int64_t H, int64_t W, int t, int b, int l, int r, st_pad_mode m) {
  st_device cpu = st_cpu();
  st_tensor *x = st_tensor_new4(N, C, H, W, cpu);
  int64_t os[4];
  fill_u(x, -1, 1);
  if (!tap_ok(st_pad2d_shape(x, t, b, l, r, m, os) == 0, "%s shape for [%lld, %lld, %lld, %lld] pads %d %d %d %d",
              mode_name[m], (long long)N, (long long)C, (long long)H, (long long)W, t, b, l, r)) {
    st_tensor_release(x);
    return;
  }
  st_tensor *y = st_tensor_new(4, os, cpu), *yr = st_tensor_new(4, os, cpu), *dy = st_tensor_new(4, os, cpu);
  st_tensor *dx = st_tensor_new4(N, C, H, W, cpu);
  const int64_t P = N * C, n = x->numel, on = y->numel;
  int rc = st_pad2d_forward(y, x, t, b, l, r, m);
  naive_forward(st_tensor_data(yr), st_tensor_data(x), P, H, W, t, b, l, r, m);
  tap_ok(rc == 0 && equal_f(st_tensor_data(y), st_tensor_data(yr), on), "%s forward equals the naive reference",
         mode_name[m]);

  fill_u(dy, -1, 1);
  st_tensor_fill(dx, 1234.0f); /* assigned, not accumulated */
  rc = st_pad2d_backward(dx, dy, t, b, l, r, m);
  double *ref = malloc(n * sizeof(double)), e = 0;
  naive_backward(ref, st_tensor_data(dy), P, H, W, t, b, l, r, m);
  for (int64_t i = 0; i < n; i++) e = fmax(e, fabs(st_tensor_data(dx)[i] - ref[i]));
  tap_ok(rc == 0 && e <= 1e-5, "%s backward equals the naive scatter (max err %.3g)", mode_name[m], e);

  if (n <= 1024) {
    /* L = sum(y * dy); central differences, step 1e-2. */
    float *px = st_tensor_data(x);
    double fe = 0, mg = 0;
    for (int64_t i = 0; i < n; i++) {
      float keep = px[i];
      double L[2];
      for (int s = 0; s < 2; s++) {
        px[i] = keep + (s ? -1e-2f : 1e-2f);
        st_pad2d_forward(y, x, t, b, l, r, m);
        L[s] = 0;
        for (int64_t k = 0; k < on; k++) L[s] += (double)st_tensor_data(y)[k] * st_tensor_data(dy)[k];
      }
      double step = (double)(keep + 1e-2f) - (double)(keep - 1e-2f);
      px[i] = keep;
      fe = fmax(fe, fabs((L[0] - L[1]) / step - st_tensor_data(dx)[i]));
      mg = fmax(mg, fabs(st_tensor_data(dx)[i]));
    }
    tap_ok(fe <= 1e-2 * mg + 1e-4, "%s backward matches finite differences (max err %.3g, max |grad| %.3g)",
           mode_name[m], fe, mg);
  }
  free(ref);
  st_tensor_release(x), st_tensor_release(y), st_tensor_release(yr), st_tensor_release(dy), st_tensor_release(dx);
}

int main(void) {
  tu_seed(0xD1B54A32D192ED03ull);
  st_device cpu = st_cpu();
  /* ---- hand example: 1..12 as 3x4, pads top 1, bottom 2, left 2, right 1 ---- */
  static const float want[3][42] = {
      /* zero (numpy 'constant') */
      {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 5, 6, 7, 8, 0,
       0, 0, 9, 10, 11, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      /* reflect (numpy 'reflect'; the edge is not repeated) */
      {7, 6, 5, 6, 7, 8, 7, 3, 2, 1, 2, 3, 4, 3, 7, 6, 5, 6, 7, 8, 7,
       11, 10, 9, 10, 11, 12, 11, 7, 6, 5, 6, 7, 8, 7, 3, 2, 1, 2, 3, 4, 3},
      /* replicate (numpy 'edge') */
      {1, 1, 1, 2, 3, 4, 4, 1, 1, 1, 2, 3, 4, 4, 5, 5, 5, 6, 7, 8, 8,
       9, 9, 9, 10, 11, 12, 12, 9, 9, 9, 10, 11, 12, 12, 9, 9, 9, 10, 11, 12, 12},
  };
  /* Backward of dy = 1: how many times each input is copied (row count x column count). */
  static const float copies[3][12] = {
      {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
      {2, 4, 6, 2, 3, 6, 9, 3, 1, 2, 3, 1},
      {6, 2, 2, 4, 3, 1, 1, 2, 9, 3, 3, 6},
  };
  st_tensor *x = st_tensor_new4(1, 1, 3, 4, cpu), *y = st_tensor_new4(1, 1, 6, 7, cpu);
  st_tensor *dy = st_tensor_new4(1, 1, 6, 7, cpu), *dx = st_tensor_new4(1, 1, 3, 4, cpu);
  for (int i = 0; i < 12; i++) st_tensor_data(x)[i] = (float)(i + 1);
  st_tensor_fill(dy, 1.0f);
  for (int m = 0; m < 3; m++) {
    int64_t os[4];
    tap_ok(st_pad2d_shape(x, 1, 2, 2, 1, m, os) == 0 && os[0] == 1 && os[1] == 1 && os[2] == 6 && os[3] == 7,
           "%s: shape [1, 1, 3, 4] -> [1, 1, 6, 7]", mode_name[m]);
    tap_ok(st_pad2d_forward(y, x, 1, 2, 2, 1, m) == 0 && equal_f(st_tensor_data(y), want[m], 42),
           "%s: hand example values", mode_name[m]);
    tap_ok(st_pad2d_backward(dx, dy, 1, 2, 2, 1, m) == 0 && equal_f(st_tensor_data(dx), copies[m], 12),
           "%s: backward of ones counts the copies", mode_name[m]);
  }
  /* 1-D reflect, [x0 x1 x2] -> [x2 x1 x0 x1 x2 x1 x0]: dx = [2, 3, 2]. */
  {
    st_tensor *a = st_tensor_new4(1, 1, 1, 3, cpu), *ya = st_tensor_new4(1, 1, 1, 7, cpu);
    st_tensor *da = st_tensor_new4(1, 1, 1, 3, cpu);
    const float av[3] = {10, 20, 30}, yv[7] = {30, 20, 10, 20, 30, 20, 10}, dv[3] = {2, 3, 2};
    memcpy(st_tensor_data(a), av, sizeof av);
    st_pad2d_forward(ya, a, 0, 0, 2, 2, ST_PAD_REFLECT);
    tap_ok(equal_f(st_tensor_data(ya), yv, 7), "reflect by 2 of a width-3 row");
    st_tensor_fill(ya, 1.0f);
    st_pad2d_backward(da, ya, 0, 0, 2, 2, ST_PAD_REFLECT);
    tap_ok(equal_f(st_tensor_data(da), dv, 3), "its backward sums the copies: [2, 3, 2]");
    st_tensor_release(a), st_tensor_release(ya), st_tensor_release(da);
  }

  /* ---- random, odd shapes, asymmetric pads ---- */
  for (int m = 0; m < 3; m++) {
    check_random(2, 3, 7, 5, 3, 1, 4, 2, m);
    check_random(2, 3, 7, 5, 0, 6, 0, 4, m); /* reflect at its limit: pad = size - 1 */
    check_random(2, 3, 67, 81, 4, 4, 4, 4, m); /* large enough for the OpenMP path */
  }
  check_random(1, 2, 1, 1, 3, 2, 1, 4, ST_PAD_REPLICATE); /* a single pixel replicated */
  check_random(1, 2, 3, 3, 5, 6, 7, 8, ST_PAD_ZERO);     /* zero pads wider than the image */

  /* ---- argument errors ---- */
  {
    int64_t os[4];
    int rc = st_pad2d_shape(x, 3, 0, 0, 0, ST_PAD_REFLECT, os);
    tap_ok(rc == -1 && strstr(st_last_error(), "reflect") && strstr(st_last_error(), "H=3"),
           "reflect pad >= height is an error (%s)", st_last_error());
    rc = st_pad2d_forward(y, x, 0, 0, 1, 4, ST_PAD_REFLECT);
    tap_ok(rc == -1 && strstr(st_last_error(), "W=4"), "reflect pad >= width is an error (%s)", st_last_error());
    rc = st_pad2d_forward(y, x, 1, -1, 0, 0, ST_PAD_ZERO);
    tap_ok(rc == -1 && strstr(st_last_error(), ">= 0"), "a negative pad is an error (%s)", st_last_error());
    rc = st_pad2d_forward(y, x, 1, 1, 1, 1, ST_PAD_ZERO);
    tap_ok(rc == -1 && strstr(st_last_error(), "y") && strstr(st_last_error(), "[1, 1, 5, 6]") &&
               strstr(st_last_error(), "[1, 1, 6, 7]"),
           "wrong y shape names y and both shapes (%s)", st_last_error());
    rc = st_pad2d_backward(dx, dy, 1, 1, 1, 1, ST_PAD_ZERO);
    tap_ok(rc == -1 && strstr(st_last_error(), "dy"), "wrong dy shape is an error naming dy (%s)", st_last_error());
    rc = st_pad2d_forward(y, x, 1, 2, 2, 1, (st_pad_mode)7);
    tap_ok(rc == -1 && strstr(st_last_error(), "mode"), "an unknown mode is an error (%s)", st_last_error());
    st_tensor *e = st_tensor_new4(1, 1, 0, 4, cpu);
    rc = st_pad2d_shape(e, 1, 1, 0, 0, ST_PAD_REPLICATE, os);
    tap_ok(rc == -1 && strstr(st_last_error(), "empty"), "replicating an empty plane is an error (%s)",
           st_last_error());
    st_tensor_release(e);
  }
  st_tensor_release(x), st_tensor_release(y), st_tensor_release(dy), st_tensor_release(dx);
  return tap_done();
}
