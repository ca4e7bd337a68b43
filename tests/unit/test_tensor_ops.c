/* Tensor arithmetic and statistics (engine/ops/tensor_ops.h) on the CPU, the
 * reference the CUDA kernels are compared with (tests/gpu/test_gpu_tensor_ops.c):
 * values worked out by hand, NaN and infinity handling, in-place use,
 * argument errors. Also the kernel tables (kernels/kernels.h): every entry of
 * the CPU table is filled, and the CUDA table is complete or, in a CPU-only
 * build, absent with a clear error. */
#include <math.h>
#include <string.h>

#include "engine/error.h"
#include "engine/gpu.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/tensor_ops.h"
#include "engine/tensor.h"
#include "tap.h"
#include "testutil.h"

static st_tensor *list(int ndim, const int64_t *shape, const float *v) {
  st_tensor *t = st_tensor_new(ndim, shape, st_cpu());
  memcpy(st_tensor_data(t), v, (size_t)t->numel * sizeof(float));
  return t;
}

/* t's elements equal want exactly. */
static int equals(const st_tensor *t, const float *want, const char *what) {
  for (int64_t i = 0; i < t->numel; i++)
    if (memcmp(&st_tensor_data(t)[i], &want[i], sizeof(float)) != 0) {
      tap_ok(0, "%s", what);
      tap_diag("element %lld: got %.9g, want %.9g", (long long)i, st_tensor_data(t)[i], want[i]);
      return 0;
    }
  return tap_ok(1, "%s", what);
}

typedef void (*any_fn)(void);

/* Every function pointer in the table is set. */
static int table_complete(const st_kernels *k, const char *what) {
  _Static_assert(sizeof(st_kernels) % sizeof(any_fn) == 0, "st_kernels holds only function pointers");
  enum { N = sizeof(st_kernels) / sizeof(any_fn) };
  any_fn f[N];
  memcpy(f, k, sizeof f);
  for (int i = 0; i < N; i++)
    if (!f[i]) {
      tap_ok(0, "%s: every entry is set", what);
      tap_diag("entry %d of %d is NULL", i, (int)N);
      return 0;
    }
  return tap_ok(1, "%s: all %d entries set", what, (int)N);
}

static void check_tables(void) {
  table_complete(&st_cpu_kernels, "CPU kernel table");
  tap_ok(st_kernels_for(st_cpu()) == &st_cpu_kernels, "the CPU's tensors get the CPU table");
  const st_kernels *g = st_kernels_for(st_cuda(0));
  if (st_gpu_kernels()) {
    tap_ok(g == st_gpu_kernels(), "CUDA tensors get the CUDA backend's table");
    table_complete(g, "CUDA kernel table");
  } else {
    tap_ok(g == NULL, "a CPU-only build has no CUDA table");
    expect_st_error(st_no_kernel("st_relu_forward", st_cuda(0)), "no CUDA kernels in a CPU-only build",
                    "st_relu_forward: no kernel for tensors on cuda:0", NULL);
  }
}

static void check_arith(void) {
  const int64_t s[2] = {2, 3};
  const float av[6] = {1, -2, 3.5f, 0, 7, -0.25f}, bv[6] = {2, 4, -0.5f, 3, 0.1f, 8};
  st_tensor *a = list(2, s, av), *b = list(2, s, bv), *y = st_tensor_new(2, s, st_cpu());
  float want[6];
  static const char *names[4] = {"add", "sub", "mul", "div"};
  for (int op = 0; op < 4; op++) {
    char what[64];
    for (int i = 0; i < 6; i++)
      want[i] = op == 0 ? av[i] + bv[i] : op == 1 ? av[i] - bv[i] : op == 2 ? av[i] * bv[i] : av[i] / bv[i];
    tap_ok(st_arith_forward(y, a, b, (st_arith_op)op) == 0, "arith %s runs", names[op]);
    snprintf(what, sizeof what, "a %s b elementwise", names[op]);
    equals(y, want, what);
    for (int i = 0; i < 6; i++)
      want[i] = op == 0 ? 3 + av[i] : op == 1 ? 3 - av[i] : op == 2 ? 3 * av[i] : 3 / av[i];
    tap_ok(st_arith_scalar_forward(y, a, 3.0f, 1, (st_arith_op)op) == 0, "3 %s a runs", names[op]);
    snprintf(what, sizeof what, "3 %s a (scalar first)", names[op]);
    equals(y, want, what);
    for (int i = 0; i < 6; i++)
      want[i] = op == 0 ? av[i] + 3 : op == 1 ? av[i] - 3 : op == 2 ? av[i] * 3 : av[i] / 3;
    tap_ok(st_arith_scalar_forward(y, a, 3.0f, 0, (st_arith_op)op) == 0, "a %s 3 runs", names[op]);
    snprintf(what, sizeof what, "a %s 3 (scalar second)", names[op]);
    equals(y, want, what);
  }
  /* 3 / 0 is +inf, 0 / 0 NaN: IEEE, no error. */
  st_arith_scalar_forward(y, a, 3.0f, 1, ST_ARITH_DIV);
  tap_ok(isinf(st_tensor_data(y)[3]) && st_tensor_data(y)[3] > 0, "3 / 0 is +inf");

  /* In place: y aliases a. */
  st_tensor *c = st_tensor_clone(a);
  st_arith_forward(c, c, b, ST_ARITH_MUL);
  for (int i = 0; i < 6; i++) want[i] = av[i] * bv[i];
  equals(c, want, "a *= b in place");

  const int64_t s3[1] = {6};
  st_tensor *flat = st_tensor_new(1, s3, st_cpu());
  expect_st_error(st_arith_forward(y, a, flat, ST_ARITH_ADD), "shapes must match", "st_arith_forward: b", "[6]");
  expect_st_error(st_arith_forward(flat, a, b, ST_ARITH_ADD), "y must have a's shape", "st_arith_forward: y", NULL);
  expect_st_error(st_arith_forward(y, a, b, (st_arith_op)7), "unknown operation", "unknown operation 7", NULL);
  expect_st_error(st_arith_scalar_forward(y, NULL, 1.0f, 0, ST_ARITH_ADD), "missing x",
                  "st_arith_scalar_forward: x", "missing");

  const float absw[6] = {1, 2, 3.5f, 0, 7, 0.25f};
  tap_ok(st_abs_forward(y, a) == 0, "abs runs");
  equals(y, absw, "abs");

  /* axpy: shapes may differ when the element counts agree. */
  st_tensor *acc = list(1, s3, bv);
  tap_ok(st_axpy(acc, -2.0f, a) == 0, "axpy into a tensor of another shape, same count");
  for (int i = 0; i < 6; i++) want[i] = bv[i] + -2.0f * av[i];
  equals(acc, want, "axpy: y += alpha * x");
  const int64_t s5[1] = {5};
  st_tensor *five = st_tensor_new(1, s5, st_cpu());
  expect_st_error(st_axpy(five, 1.0f, a), "axpy with other counts", "st_axpy: element counts differ", "5");

  st_tensor *all[] = {a, b, y, c, flat, acc, five};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) st_tensor_release(all[i]);
}

static void check_reductions(void) {
  const int64_t s[1] = {5};
  const float v[5] = {0.5f, -3, 2, 10, 0.25f};
  st_tensor *x = list(1, s, v);
  double d;
  float mn, mx;
  int all;
  tap_ok(st_sum(&d, x) == 0 && d == 9.75, "sum (got %g)", d);
  tap_ok(st_mean(&d, x) == 0 && d == 1.95, "mean (got %g)", d);
  tap_ok(st_min_max(&mn, &mx, x) == 0 && mn == -3 && mx == 10, "min -3, max 10 (got %g, %g)", mn, mx);
  tap_ok(st_all_finite(&all, x) == 0 && all == 1, "all finite");

  st_tensor_data(x)[2] = NAN;
  tap_ok(st_min_max(&mn, &mx, x) == 0 && mn == -3 && mx == 10, "a NaN after the first element is skipped");
  tap_ok(st_all_finite(&all, x) == 0 && all == 0, "all_finite sees NaN");
  st_tensor_data(x)[0] = NAN;
  tap_ok(st_min_max(&mn, &mx, x) == 0 && isnan(mn) && isnan(mx), "a NaN first element makes min and max NaN");
  st_tensor_data(x)[0] = st_tensor_data(x)[2] = 1.0f;
  st_tensor_data(x)[4] = -INFINITY;
  tap_ok(st_min_max(&mn, NULL, x) == 0 && isinf(mn) && mn < 0, "min may be -inf");
  tap_ok(st_all_finite(&all, x) == 0 && all == 0, "all_finite sees -inf");

  /* A sum beyond float precision stays exact in double. */
  const int64_t big[1] = {3};
  const float bv[3] = {16777216.0f, 1.0f, 1.0f};
  st_tensor *b = list(1, big, bv);
  tap_ok(st_sum(&d, b) == 0 && d == 16777218.0, "sum is accumulated in double");

  const int64_t none[1] = {0};
  st_tensor *e = st_tensor_new(1, none, st_cpu());
  tap_ok(st_sum(&d, e) == 0 && d == 0 && st_mean(&d, e) == 0 && d == 0, "sum and mean of an empty tensor are 0");
  expect_st_error(st_min_max(&mn, &mx, e), "min of an empty tensor", "st_min_max", "empty");
  tap_ok(st_all_finite(&all, e) == 0 && all == 1, "an empty tensor is all finite");
  expect_st_error(st_sum(&d, NULL), "sum of nothing", "st_sum: missing tensor x", NULL);
  st_tensor_release(x);
  st_tensor_release(b);
  st_tensor_release(e);
}

static void check_paste(void) {
  const int64_t ds[3] = {2, 3, 4}, ss[3] = {2, 2, 3};
  st_tensor *d = st_tensor_zeros(3, ds, st_cpu());
  const float sv[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  st_tensor *s = list(3, ss, sv);
  /* Corner at row -1, column 2 (0-based): only src row 1, columns 0..1 land, at dst row 0, columns 2..3. */
  tap_ok(st_paste(d, s, -1, 2) == 0, "paste runs");
  float want[24] = {0};
  want[0 * 4 + 2] = 4, want[0 * 4 + 3] = 5;                 /* channel 0 */
  want[12 + 0 * 4 + 2] = 10, want[12 + 0 * 4 + 3] = 11;     /* channel 1 */
  equals(d, want, "paste clips at the top and right edges");
  st_tensor_fill(d, 0);
  st_paste(d, s, 1, 0);
  memset(want, 0, sizeof want);
  for (int c = 0; c < 2; c++)
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 3; j++) want[c * 12 + (1 + i) * 4 + j] = sv[c * 6 + i * 3 + j];
  equals(d, want, "paste fully inside");
  st_tensor_fill(d, 0);
  st_paste(d, s, 0, 9);
  memset(want, 0, sizeof want);
  equals(d, want, "paste entirely outside changes nothing");
  const int64_t s1[3] = {1, 2, 3};
  st_tensor *one = st_tensor_new(3, s1, st_cpu());
  expect_st_error(st_paste(d, one, 0, 0), "paste of another channel count", "st_paste", "same number of channels");
  expect_st_error(st_paste(d, NULL, 0, 0), "paste of nothing", "st_paste: src", NULL);
  st_tensor_release(d);
  st_tensor_release(s);
  st_tensor_release(one);
}

int main(void) {
  check_tables();
  check_arith();
  check_reductions();
  check_paste();
  return tap_done();
}
