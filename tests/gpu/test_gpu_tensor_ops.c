/* CUDA vs CPU for tensor arithmetic and statistics (engine/ops/tensor_ops.h,
 * the Lua tensor methods): elementwise results are bitwise equal to the CPU
 * (one rounding per operation on both), sums agree to double rounding, min,
 * max and all_finite exactly, with NaN and infinities placed where the
 * reductions' block boundaries and the first element matter. Sizes span
 * several reduction passes. Colour preservation (engine/ops/ops.h) is equal
 * to the CPU bit for bit too. Also: the CUDA kernel table is complete, and
 * mixed-device arguments are errors. Skips without a CUDA device. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/gpu.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/ops.h"
#include "engine/ops/tensor_ops.h"
#include "engine/tensor.h"
#include "tap.h"
#define TESTUTIL_GPU
#include "testutil.h"

/* More elements than one pass of ST_CUDA_REDUCE_BLOCKS x 256 threads covers. */
#define N 300007

static st_tensor *empty_like(const st_tensor *t, st_device dev) { return keep(st_tensor_new(t->ndim, t->shape, dev)); }

typedef void (*any_fn)(void);

static void check_table(void) {
  const st_kernels *k = st_kernels_for(gpu);
  enum { NFN = sizeof(st_kernels) / sizeof(any_fn) };
  any_fn f[NFN];
  int unset = -1;
  if (k) {
    memcpy(f, k, sizeof f);
    for (int i = 0; i < NFN && unset < 0; i++)
      if (!f[i]) unset = i;
  }
  if (!tap_ok(k && k != &st_cpu_kernels && unset < 0, "the CUDA kernel table is complete (%d entries)", (int)NFN))
    tap_diag("table %p, first unset entry %d", (const void *)k, unset);
}

static void check_arith(void) {
  const int64_t n = N;
  st_tensor *a = rand_cpu(1, &n, -4.0f, 4.0f), *b = rand_cpu(1, &n, -4.0f, 4.0f);
  st_tensor_data(b)[17] = 0.0f; /* a division by zero: inf on both */
  st_tensor *ga = on_gpu(a), *gb = on_gpu(b);
  st_tensor *y = empty_like(a, st_cpu()), *gy = empty_like(a, gpu);
  static const char *names[4] = {"add", "sub", "mul", "div"};
  char what[96];
  for (int op = 0; op < 4; op++) {
    snprintf(what, sizeof what, "a %s b", names[op]);
    ok_rc(st_arith_forward(gy, ga, gb, (st_arith_op)op), what);
    st_arith_forward(y, a, b, (st_arith_op)op);
    compare_exact(gy, y, what);
    for (int first = 0; first < 2; first++) {
      snprintf(what, sizeof what, first ? "0.3 %s a" : "a %s 0.3", names[op]);
      ok_rc(st_arith_scalar_forward(gy, ga, 0.3f, first, (st_arith_op)op), what);
      st_arith_scalar_forward(y, a, 0.3f, first, (st_arith_op)op);
      compare_exact(gy, y, what);
    }
  }
  ok_rc(st_abs_forward(gy, ga), "abs");
  st_abs_forward(y, a);
  compare_exact(gy, y, "abs");

  /* axpy in place, and arith with y aliasing an input. */
  ok_rc(st_axpy(ga, 0.7f, gb), "axpy");
  st_axpy(a, 0.7f, b);
  compare_exact(ga, a, "axpy: a += 0.7 b");
  ok_rc(st_arith_forward(ga, ga, gb, ST_ARITH_MUL), "a *= b in place");
  st_arith_forward(a, a, b, ST_ARITH_MUL);
  compare_exact(ga, a, "a *= b in place");

  expect_st_error(st_arith_forward(gy, ga, b, ST_ARITH_ADD), "a CPU b with CUDA a", "different devices", NULL);
  expect_st_error(st_axpy(ga, 1.0f, b), "axpy of a CPU x into a CUDA y", "different devices", NULL);
  release_all();
}

static void check_reductions(void) {
  const int64_t n = N;
  st_tensor *x = rand_cpu(1, &n, -1.0f, 1.0f);
  st_tensor *gx = on_gpu(x);
  double gs, cs, gm, cm;
  float gmn, gmx, cmn, cmx;
  int gall, call;

  ok_rc(st_sum(&gs, gx), "sum");
  st_sum(&cs, x);
  double abs_sum = 0;
  for (int64_t i = 0; i < n; i++) abs_sum += fabs(st_tensor_data(x)[i]);
  tap_ok(fabs(gs - cs) <= 1e-12 * abs_sum, "sum agrees with the CPU (gpu %.17g cpu %.17g)", gs, cs);
  ok_rc(st_mean(&gm, gx), "mean");
  st_mean(&cm, x);
  tap_ok(fabs(gm - cm) <= 1e-12 * abs_sum / (double)n, "mean agrees with the CPU (gpu %.17g cpu %.17g)", gm, cm);

  /* Extremes far from the start, in the last block. */
  st_tensor_data(x)[n - 3] = 7.5f;
  st_tensor_data(x)[n - 1000] = -6.25f;
  st_tensor *g2 = on_gpu(x);
  ok_rc(st_min_max(&gmn, &gmx, g2), "min_max");
  st_min_max(&cmn, &cmx, x);
  tap_ok(gmn == cmn && gmx == cmx && cmn == -6.25f && cmx == 7.5f, "min and max equal the CPU's (gpu %g %g)", gmn,
         gmx);
  ok_rc(st_all_finite(&gall, g2), "all_finite");
  tap_ok(gall == 1, "all finite");

  /* NaN inside: skipped by min and max, seen by all_finite. */
  st_tensor_data(x)[n / 2] = NAN;
  st_tensor *g3 = on_gpu(x);
  st_min_max(&gmn, &gmx, g3);
  st_min_max(&cmn, &cmx, x);
  tap_ok(gmn == cmn && gmx == cmx, "a NaN inside is skipped as on the CPU (gpu %g %g, cpu %g %g)", gmn, gmx, cmn, cmx);
  st_all_finite(&gall, g3);
  st_all_finite(&call, x);
  tap_ok(gall == 0 && call == 0, "all_finite sees a NaN inside");

  /* NaN first: both NaN, as the CPU scan gives. */
  st_tensor_data(x)[0] = NAN;
  st_tensor *g4 = on_gpu(x);
  st_min_max(&gmn, &gmx, g4);
  tap_ok(isnan(gmn) && isnan(gmx), "a NaN first element makes min and max NaN");

  /* Infinity only at the last element. */
  st_tensor_data(x)[0] = 0.0f;
  st_tensor_data(x)[n / 2] = 0.0f;
  st_tensor_data(x)[n - 1] = INFINITY;
  st_tensor *g5 = on_gpu(x);
  st_all_finite(&gall, g5);
  st_min_max(&gmn, &gmx, g5);
  tap_ok(gall == 0 && isinf(gmx), "all_finite and max see +inf in the last element");

  /* A small tensor: one block, most threads idle. */
  const int64_t three = 3;
  const float v[3] = {2.0f, -1.0f, 0.5f};
  st_tensor *s = keep(st_tensor_new(1, &three, st_cpu()));
  memcpy(st_tensor_data(s), v, sizeof v);
  st_tensor *gsml = on_gpu(s);
  st_sum(&gs, gsml);
  st_min_max(&gmn, &gmx, gsml);
  tap_ok(gs == 1.5 && gmn == -1.0f && gmx == 2.0f, "three elements: sum 1.5, min -1, max 2");
  const int64_t zero = 0;
  st_tensor *ge = keep(st_tensor_new(1, &zero, gpu));
  tap_ok(st_sum(&gs, ge) == 0 && gs == 0.0, "sum of an empty device tensor is 0");
  expect_st_error(st_min_max(&gmn, &gmx, ge), "min of an empty device tensor", "empty", NULL);
  release_all();
}

static void check_paste(void) {
  const int64_t ds[3] = {3, 37, 41}, ss[3] = {3, 20, 25};
  const int64_t at[][2] = {{5, 7}, {-4, 30}, {30, -10}, {-30, 2}, {0, 0}};
  st_tensor *src = rand_cpu(3, ss, -1.0f, 1.0f), *gsrc = on_gpu(src);
  for (size_t i = 0; i < sizeof at / sizeof *at; i++) {
    char what[96];
    st_tensor *d = rand_cpu(3, ds, -1.0f, 1.0f), *gd = on_gpu(d);
    snprintf(what, sizeof what, "paste at (%lld, %lld)", (long long)at[i][0], (long long)at[i][1]);
    ok_rc(st_paste(gd, gsrc, at[i][0], at[i][1]), what);
    st_paste(d, src, at[i][0], at[i][1]);
    compare_exact(gd, d, what);
  }
  st_tensor *cpu_dst = keep(st_tensor_new(3, ds, st_cpu()));
  expect_st_error(st_paste(cpu_dst, gsrc, 0, 0), "paste of a CUDA src into a CPU dst", "different devices", NULL);
  release_all();
}

static void check_preserve_colors(void) {
  const int64_t s[3] = {3, 37, 53};
  /* lum past both ends of 0..255, so the clamp is exercised. */
  st_tensor *lum = rand_cpu(3, s, -20.0f, 280.0f), *chroma = rand_cpu(3, s, 0.0f, 255.0f);
  st_tensor *glum = on_gpu(lum), *gchroma = on_gpu(chroma);
  st_tensor *y = empty_like(lum, st_cpu()), *gy = empty_like(lum, gpu);
  ok_rc(st_preserve_colors(gy, glum, gchroma), "preserve_colors");
  st_preserve_colors(y, lum, chroma);
  compare_exact(gy, y, "preserve_colors equals the CPU");
  ok_rc(st_preserve_colors(glum, glum, gchroma), "preserve_colors in place");
  compare_exact(glum, y, "preserve_colors in place equals the CPU");
  expect_st_error(st_preserve_colors(gy, glum, chroma), "a CPU original with a CUDA stylization",
                  "different devices", NULL);
  release_all();
}

int main(void) {
  tu_seed(0x243f6a8885a308d3ull);
  if (st_gpu_count() == 0) tap_skip_all("no CUDA device");
  gpu = st_cuda(0);
  check_table();
  check_arith();
  check_reductions();
  check_paste();
  check_preserve_colors();
  return tap_done();
}
