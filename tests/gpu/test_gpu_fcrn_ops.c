/* CUDA vs CPU for the FCRN depth network's own ops (engine/ops/fcrn_ops.h),
 * forward and backward: batch norm with fixed statistics (with and without
 * gamma / beta, in place, every subset of gradients, dx over dy, parameter
 * gradients accumulated and reproducible bit for bit) and the up-projection
 * interleave (exact, NULL gradients), on random odd shapes and on the shapes
 * of a full-width FCRN at a 1x3x128x128 input. Batch norm agrees to 1e-5 of
 * the reference's largest magnitude. Also the CPU's errors (a variance that
 * is not > 0 names its channel and leaves y untouched, x missing for dgamma,
 * mixed devices) and no leaked device scratch. Skips without a CUDA device. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/gpu.h"
#include "engine/memory.h"
#include "engine/ops/fcrn_ops.h"
#include "engine/tensor.h"
#include "tap.h"
#define TESTUTIL_GPU
#include "testutil.h"

#define RTOL 1e-5


/* ---- random numbers and tensors ---- */



static st_tensor *rand4(const int64_t s[4], float lo, float hi) { return rand_cpu(4, s, lo, hi); }
static st_tensor *rand1(int64_t n, float lo, float hi) { return rand_cpu(1, &n, lo, hi); }
static st_tensor *clone(const st_tensor *t) { return t ? keep(st_tensor_clone(t)) : NULL; }

/* ---- comparisons ---- */

/* ok when every element is bitwise equal (NaN only where the CPU has the same NaN bits; stricter than testutil.h's compare_exact). */
static int compare_bits(const st_tensor *g, const st_tensor *c, const char *what) {
  st_tensor *h = keep(st_tensor_to(g, st_cpu()));
  const float *a = st_tensor_data(h), *b = st_tensor_data(c);
  if (h->numel != c->numel)
    return tap_ok(0, "%s: %lld vs %lld elements", what, (long long)h->numel, (long long)c->numel);
  for (int64_t i = 0; i < c->numel; i++)
    if (memcmp(&a[i], &b[i], sizeof(float)) != 0) {
      tap_ok(0, "%s", what);
      tap_diag("first difference at %lld: gpu %.9g cpu %.9g", (long long)i, a[i], b[i]);
      return 0;
    }
  return tap_ok(1, "%s", what);
}

/* ---- batch norm ---- */

/* The statistics of a layer whose inputs are about centre +- spread. */
typedef struct {
  st_tensor *mean, *var, *gamma, *beta;     /* CPU */
  st_tensor *gmean, *gvar, *ggamma, *gbeta; /* the same on the GPU */
} bn_params;

static bn_params make_params(int64_t C, int with_gamma, int with_beta, float centre, float spread) {
  bn_params p;
  p.mean = rand1(C, centre - 0.2f * spread, centre + 0.2f * spread);
  p.var = rand1(C, 0.05f * spread * spread, 2.0f * spread * spread);
  p.gamma = with_gamma ? rand1(C, -1.5f, 1.5f) : NULL;
  p.beta = with_beta ? rand1(C, -1.0f, 1.0f) : NULL;
  p.gmean = on_gpu(p.mean);
  p.gvar = on_gpu(p.var);
  p.ggamma = on_gpu(p.gamma);
  p.gbeta = on_gpu(p.beta);
  return p;
}

static void check_bn(int64_t N, int64_t C, int64_t H, int64_t W, int with_gamma, int with_beta, float centre,
                     float spread, float eps, const char *name) {
  char what[240], tag[160];
  snprintf(tag, sizeof tag, "%s [%lld,%lld,%lld,%lld]%s%s", name, (long long)N, (long long)C, (long long)H,
           (long long)W, with_gamma ? "" : " no gamma", with_beta ? "" : " no beta");
  const int64_t s[4] = {N, C, H, W};
  bn_params p = make_params(C, with_gamma, with_beta, centre, spread);
  st_tensor *x = rand4(s, centre - spread, centre + spread), *gx = on_gpu(x);
  st_tensor *y = empty4(s, st_cpu()), *gy = empty4(s, gpu);

  snprintf(what, sizeof what, "batch norm forward %s", tag);
  ok_rc(st_batch_norm_forward(gy, gx, p.gmean, p.gvar, p.ggamma, p.gbeta, eps), what);
  st_batch_norm_forward(y, x, p.mean, p.var, p.gamma, p.beta, eps);
  compare(gy, y, RTOL, what);
  st_tensor *gz = on_gpu(x);
  snprintf(what, sizeof what, "batch norm forward in place %s", tag);
  ok_rc(st_batch_norm_forward(gz, gz, p.gmean, p.gvar, p.ggamma, p.gbeta, eps), what);
  compare(gz, y, RTOL, what);
  st_tensor *gp = empty4(s, gpu);
  snprintf(what, sizeof what, "batch norm forward_prechecked (the module's form) %s", tag);
  ok_rc(st_batch_norm_forward_prechecked(gp, gx, p.gmean, p.gvar, p.ggamma, p.gbeta, eps), what);
  compare(gp, y, RTOL, what);

  /* All gradients; dgamma and dbeta accumulate onto what is there. */
  st_tensor *dy = rand4(s, -1.0f, 1.0f), *gdy = on_gpu(dy);
  st_tensor *dx = empty4(s, st_cpu()), *gdx = empty4(s, gpu);
  st_tensor *dgamma = rand1(C, -1.0f, 1.0f), *dbeta = rand1(C, -1.0f, 1.0f);
  st_tensor *gdgamma = on_gpu(dgamma), *gdbeta = on_gpu(dbeta);
  snprintf(what, sizeof what, "batch norm backward %s", tag);
  ok_rc(st_batch_norm_backward(gdx, gdgamma, gdbeta, gdy, gx, p.gmean, p.gvar, p.ggamma, eps), what);
  st_batch_norm_backward(dx, dgamma, dbeta, dy, x, p.mean, p.var, p.gamma, eps);
  snprintf(what, sizeof what, "batch norm dx %s", tag);
  compare(gdx, dx, RTOL, what);
  snprintf(what, sizeof what, "batch norm dgamma (accumulated) %s", tag);
  compare(gdgamma, dgamma, RTOL, what);
  snprintf(what, sizeof what, "batch norm dbeta (accumulated) %s", tag);
  compare(gdbeta, dbeta, RTOL, what);

  /* A frozen network's call: dbeta alone (x NULL), then dx alone. */
  st_tensor *dbeta2 = keep(st_tensor_zeros(1, &C, st_cpu())), *gdbeta2 = keep(st_tensor_zeros(1, &C, gpu));
  snprintf(what, sizeof what, "batch norm dbeta alone, x NULL %s", tag);
  ok_rc(st_batch_norm_backward(NULL, NULL, gdbeta2, gdy, NULL, p.gmean, p.gvar, p.ggamma, eps), what);
  st_batch_norm_backward(NULL, NULL, dbeta2, dy, NULL, p.mean, p.var, p.gamma, eps);
  compare(gdbeta2, dbeta2, RTOL, what);
  st_tensor *gdx2 = empty4(s, gpu);
  snprintf(what, sizeof what, "batch norm dx alone %s", tag);
  ok_rc(st_batch_norm_backward(gdx2, NULL, NULL, gdy, NULL, p.gmean, p.gvar, p.ggamma, eps), what);
  compare(gdx2, dx, RTOL, what);

  /* dx written over dy while dgamma and dbeta are read from it. */
  st_tensor *gdy3 = on_gpu(dy), *gdg3 = keep(st_tensor_zeros(1, &C, gpu)), *gdb3 = keep(st_tensor_zeros(1, &C, gpu));
  st_tensor *dg3 = keep(st_tensor_zeros(1, &C, st_cpu())), *db3 = keep(st_tensor_zeros(1, &C, st_cpu()));
  snprintf(what, sizeof what, "batch norm backward with dx aliasing dy %s", tag);
  ok_rc(st_batch_norm_backward(gdy3, gdg3, gdb3, gdy3, gx, p.gmean, p.gvar, p.ggamma, eps), what);
  st_batch_norm_backward(NULL, dg3, db3, dy, x, p.mean, p.var, p.gamma, eps);
  compare(gdy3, dx, RTOL, what);
  snprintf(what, sizeof what, "batch norm dgamma with dx aliasing dy %s", tag);
  compare(gdg3, dg3, RTOL, what);
  snprintf(what, sizeof what, "batch norm dbeta with dx aliasing dy %s", tag);
  compare(gdb3, db3, RTOL, what);

  /* The same sums again: bit for bit. */
  st_tensor *gdg4 = keep(st_tensor_zeros(1, &C, gpu));
  st_batch_norm_backward(NULL, gdg4, NULL, gdy, gx, p.gmean, p.gvar, p.ggamma, eps);
  snprintf(what, sizeof what, "batch norm dgamma is the same bit for bit on a second run %s", tag);
  compare_bits(gdg4, keep(st_tensor_to(gdg3, st_cpu())), what);
  release_all();
}

static void check_bn_errors(void) {
  const int64_t C = 5, s[4] = {2, 5, 3, 4};
  bn_params p = make_params(C, 1, 1, 0.0f, 1.0f);
  st_tensor *x = rand4(s, -1.0f, 1.0f), *gx = on_gpu(x), *gy = empty4(s, gpu);
  st_tensor *y0 = keep(st_tensor_new(4, s, st_cpu()));
  st_tensor_fill(y0, 7.0f);
  st_tensor_copy(gy, y0);

  /* var[2] + eps = 0 exactly, then var[0] NaN. */
  st_tensor *bad = clone(p.var);
  st_tensor_data(bad)[2] = -1e-4f;
  st_tensor *gbad = on_gpu(bad);
  int rc = st_batch_norm_forward(gy, gx, p.gmean, gbad, p.ggamma, p.gbeta, 1e-4f);
  tap_ok(rc == -1 && strstr(st_last_error(), "batch_norm forward: var[2]") != NULL,
         "forward: var[2] + eps = 0 is an error naming the channel (%s)", st_last_error());
  compare_bits(gy, y0, "forward: y is untouched after the error");
  rc = st_batch_norm_backward(gy, NULL, NULL, gx, NULL, p.gmean, gbad, p.ggamma, 1e-4f);
  tap_ok(rc == -1 && strstr(st_last_error(), "batch_norm backward: var[2]") != NULL,
         "backward: the same error (%s)", st_last_error());
  compare_bits(gy, y0, "backward: dx is untouched after the error");
  st_tensor *nan_var = clone(p.var);
  st_tensor_data(nan_var)[0] = NAN;
  st_tensor *gnan = on_gpu(nan_var);
  rc = st_batch_norm_forward(gy, gx, p.gmean, gnan, NULL, NULL, 1e-4f);
  tap_ok(rc == -1 && strstr(st_last_error(), "var[0]") != NULL, "a NaN variance is an error (%s)", st_last_error());

  st_tensor *gdg = keep(st_tensor_zeros(1, &C, gpu));
  rc = st_batch_norm_backward(NULL, gdg, NULL, gx, NULL, p.gmean, p.gvar, NULL, 1e-4f);
  tap_ok(rc == -1 && strstr(st_last_error(), "x (the forward input)") != NULL, "dgamma without x is an error (%s)",
         st_last_error());
  rc = st_batch_norm_forward(gy, gx, p.mean, p.gvar, NULL, NULL, 1e-4f);
  tap_ok(rc == -1 && strstr(st_last_error(), "device") != NULL, "mean on the CPU for a CUDA x is an error (%s)",
         st_last_error());
  rc = st_batch_norm_backward(gy, NULL, NULL, gx, NULL, p.gmean, p.gvar, NULL, -1.0f);
  tap_ok(rc == -1 && strstr(st_last_error(), "eps") != NULL, "a negative eps is an error (%s)", st_last_error());
  release_all();
}

/* ---- interleave ---- */

static void check_interleave(int64_t N, int64_t C, int64_t h, int64_t w, const char *name) {
  char what[200], tag[140];
  snprintf(tag, sizeof tag, "%s [%lld,%lld,%lld,%lld] x4", name, (long long)N, (long long)C, (long long)h,
           (long long)w);
  const int64_t q[4] = {N, C, h, w}, s[4] = {N, C, 2 * h, 2 * w};
  st_tensor *in[4], *gin[4];
  for (int k = 0; k < 4; k++) {
    in[k] = rand4(q, -1.0f, 1.0f);
    gin[k] = on_gpu(in[k]);
  }
  st_tensor *y = empty4(s, st_cpu()), *gy = empty4(s, gpu);
  snprintf(what, sizeof what, "interleave forward equals the CPU %s", tag);
  ok_rc(st_interleave_forward(gy, gin[0], gin[1], gin[2], gin[3]), what);
  st_interleave_forward(y, in[0], in[1], in[2], in[3]);
  compare_bits(gy, y, what);

  st_tensor *dy = rand4(s, -1.0f, 1.0f), *gdy = on_gpu(dy), *g[4], *gg[4];
  for (int k = 0; k < 4; k++) {
    g[k] = empty4(q, st_cpu());
    gg[k] = empty4(q, gpu);
  }
  snprintf(what, sizeof what, "interleave backward %s", tag);
  ok_rc(st_interleave_backward(gg[0], gg[1], gg[2], gg[3], gdy), what);
  st_interleave_backward(g[0], g[1], g[2], g[3], dy);
  static const char *names[4] = {"da", "db", "dc", "dd"};
  for (int k = 0; k < 4; k++) {
    snprintf(what, sizeof what, "interleave %s equals the CPU %s", names[k], tag);
    compare_bits(gg[k], g[k], what);
  }
  /* Some gradients NULL: the others are still right. */
  st_tensor *gb = empty4(q, gpu), *gd = empty4(q, gpu);
  snprintf(what, sizeof what, "interleave backward with da, dc NULL %s", tag);
  ok_rc(st_interleave_backward(NULL, gb, NULL, gd, gdy), what);
  snprintf(what, sizeof what, "interleave db alone equals the CPU %s", tag);
  compare_bits(gb, g[1], what);
  snprintf(what, sizeof what, "interleave dd alone equals the CPU %s", tag);
  compare_bits(gd, g[3], what);
  release_all();
}

static void check_interleave_errors(void) {
  const int64_t q[4] = {1, 2, 3, 3}, odd[4] = {1, 2, 5, 6};
  st_tensor *a = rand4(q, -1.0f, 1.0f), *ga = on_gpu(a), *gdy = on_gpu(rand4(odd, -1.0f, 1.0f));
  st_tensor *gy = empty4((int64_t[]){1, 2, 6, 6}, gpu);
  int rc = st_interleave_forward(gy, ga, ga, a, ga);
  tap_ok(rc == -1 && strstr(st_last_error(), "device") != NULL, "interleave with c on the CPU is an error (%s)",
         st_last_error());
  st_tensor *gda = empty4(q, gpu);
  rc = st_interleave_backward(gda, NULL, NULL, NULL, gdy);
  tap_ok(rc == -1 && strstr(st_last_error(), "even") != NULL, "interleave backward of a 5x6 dy is an error (%s)",
         st_last_error());
  release_all();
}

/* ---- a full-width FCRN at 1x3x128x128 ---- */

static void check_fcrn_shapes(void) {
  /* Every batch-norm shape of the network (eps 1e-4, gamma and beta). */
  static const int64_t bn[][4] = {
      {1, 64, 64, 64},   /* bn_conv1 */
      {1, 64, 32, 32},   /* res2 branch2a/2b */
      {1, 256, 32, 32},  /* res2 branch2c, branch1 */
      {1, 128, 16, 16},  /* res3 */
      {1, 512, 16, 16},
      {1, 256, 8, 8},    /* res4 */
      {1, 1024, 8, 8},
      {1, 512, 4, 4},    /* res5 */
      {1, 2048, 4, 4},
      {1, 1024, 4, 4},   /* layer1_BN */
      {1, 512, 8, 8},    /* layer2x */
      {1, 256, 16, 16},  /* layer4x */
      {1, 128, 32, 32},  /* layer8x */
      {1, 64, 64, 64},   /* layer16x */
  };
  for (size_t i = 0; i < sizeof bn / sizeof bn[0]; i++)
    check_bn(bn[i][0], bn[i][1], bn[i][2], bn[i][3], 1, 1, 0.0f, 3.0f, 1e-4f, "FCRN");
  /* The up-projections' quarter maps. */
  check_interleave(1, 512, 4, 4, "FCRN layer2x");
  check_interleave(1, 256, 8, 8, "FCRN layer4x");
  check_interleave(1, 128, 16, 16, "FCRN layer8x");
  check_interleave(1, 64, 32, 32, "FCRN layer16x");
}

int main(void) {
  tu_seed(0x2545f4914f6cdd1dull);
  if (st_gpu_count() == 0) tap_skip_all("no CUDA device");
  gpu = st_cuda(0);

  check_bn(3, 5, 17, 13, 1, 1, 0.0f, 1.0f, 1e-4f, "odd");
  check_bn(2, 3, 19, 11, 0, 0, 0.0f, 1.0f, 1e-3f, "odd");
  check_bn(2, 4, 7, 9, 1, 0, 0.0f, 2.0f, 1e-5f, "odd");
  check_bn(1, 7, 5, 3, 0, 1, 0.0f, 1.0f, 1e-4f, "odd");
  check_bn(2, 3, 31, 29, 1, 1, 127.5f, 127.5f, 1e-4f, "raw pixel values");
  check_bn(1, 2, 1, 1, 1, 1, 3.0f, 1.0f, 1e-4f, "1x1 planes");
  check_bn(1, 3, 301, 257, 1, 1, 0.0f, 1.0f, 0.0f, "large planes, eps 0");
  check_bn(5, 33, 1, 37, 1, 1, 0.0f, 1.0f, 1e-4f, "one row");
  check_bn_errors();

  check_interleave(2, 3, 5, 7, "odd");
  check_interleave(1, 1, 1, 1, "single");
  check_interleave(3, 2, 9, 4, "odd");
  check_interleave(2, 5, 1, 13, "one row");
  check_interleave_errors();

  check_fcrn_shapes();

  st_mem_stats ms = st_mem_get_stats(gpu);
  if (!tap_ok(ms.in_use == 0, "no CUDA memory in use once every tensor is released"))
    tap_diag("%zu bytes still in use", ms.in_use);
  return tap_done();
}
