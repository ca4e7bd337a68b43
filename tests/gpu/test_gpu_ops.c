/* CUDA vs CPU for every op, forward and backward: random odd shapes (odd
 * sizes, asymmetric and non-zero padding, non-square kernels, broadcast
 * targets, ties and NaN in max pooling) and the real shapes of a training
 * step (Engstrom's transformer and VGG-19 at batch 4, 256x256). The CPU
 * kernels are the reference; results agree to ~1e-4 of the reference's
 * largest magnitude (max pooling exactly). Also: parameter gradients are
 * accumulated on the device, convolution gradients are reproducible run to
 * run, mixed-device arguments are errors, and no device scratch leaks.
 * TF32 is kept off (STRATA_TF32=0). Skips without a CUDA device. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/gpu.h"
#include "engine/memory.h"
#include "engine/ops/ops.h"
#include "engine/ops/train_ops.h"
#include "engine/tensor.h"
#include "tap.h"
#define TESTUTIL_GPU
#include "testutil.h"

#define RTOL 1e-4


/* ---- random numbers and tensors ---- */



static st_tensor *rand4(int64_t n, int64_t c, int64_t h, int64_t w) {
  int64_t s[4] = {n, c, h, w};
  return rand_cpu(4, s, -1.0f, 1.0f);
}
static st_tensor *rand1(int64_t n) { return rand_cpu(1, &n, -1.0f, 1.0f); }
static st_tensor *empty_like(const st_tensor *t, st_device dev) { return keep(st_tensor_new(t->ndim, t->shape, dev)); }

/* ---- comparisons ---- */

static void close_scalar(double g, double c, double rtol, const char *what) {
  int good = isfinite(g) && fabs(g - c) <= rtol * fabs(c) + 1e-30;
  if (!tap_ok(good, "%s", what)) tap_diag("gpu %.9g cpu %.9g", g, c);
}

/* ---- elementwise ---- */

static void check_elementwise(void) {
  const int64_t n = 3 * 1001 * 7;
  st_tensor *x = rand_cpu(1, &n, -3.0f, 3.0f), *b = rand1(n), *dy = rand1(n);
  st_tensor *gx = on_gpu(x), *gb = on_gpu(b), *gdy = on_gpu(dy);
  st_tensor *y = empty_like(x, st_cpu()), *gy = empty_like(x, gpu);
  st_tensor *dx = empty_like(x, st_cpu()), *gdx = empty_like(x, gpu);

  ok_rc(st_relu_forward(gy, gx), "relu forward");
  st_relu_forward(y, x);
  compare_exact(gy, y, "relu forward equals the CPU");
  ok_rc(st_relu_backward(gdx, gdy, gy), "relu backward");
  st_relu_backward(dx, dy, y);
  compare_exact(gdx, dx, "relu backward equals the CPU");

  ok_rc(st_tanh_forward(gy, gx), "tanh forward");
  st_tanh_forward(y, x);
  compare(gy, y, 1e-6, "tanh forward");
  ok_rc(st_tanh_backward(gdx, gdy, gy), "tanh backward");
  st_tanh_backward(dx, dy, y);
  compare(gdx, dx, 1e-5, "tanh backward");

  ok_rc(st_add_forward(gy, gx, gb), "add");
  st_add_forward(y, x, b);
  compare_exact(gy, y, "add equals the CPU");
  ok_rc(st_affine_forward(gy, gx, 150.0f, 127.5f), "affine");
  st_affine_forward(y, x, 150.0f, 127.5f);
  compare_exact(gy, y, "affine equals the CPU");

  /* In place, as the nn modules use them. */
  st_tensor *gz = on_gpu(x), *z = keep(st_tensor_clone(x));
  st_relu_forward(gz, gz);
  st_relu_forward(z, z);
  compare_exact(gz, z, "relu in place");
  release_all();
}

/* ---- pad2d ---- */

static void check_pad2d(st_pad_mode mode, int t, int bo, int l, int r, const char *name) {
  char what[128];
  st_tensor *x = rand4(2, 3, 7, 9), *gx = on_gpu(x);
  int64_t s[4];
  st_pad2d_shape(x, t, bo, l, r, mode, s);
  st_tensor *y = empty4(s, st_cpu()), *gy = empty4(s, gpu);
  snprintf(what, sizeof what, "pad2d %s forward", name);
  ok_rc(st_pad2d_forward(gy, gx, t, bo, l, r, mode), what);
  st_pad2d_forward(y, x, t, bo, l, r, mode);
  compare_exact(gy, y, what);
  st_tensor *dy = rand_cpu(4, s, -1.0f, 1.0f), *gdy = on_gpu(dy);
  st_tensor *dx = empty_like(x, st_cpu()), *gdx = empty_like(x, gpu);
  snprintf(what, sizeof what, "pad2d %s backward", name);
  ok_rc(st_pad2d_backward(gdx, gdy, t, bo, l, r, mode), what);
  st_pad2d_backward(dx, dy, t, bo, l, r, mode);
  compare(gdx, dx, 1e-6, what);
  release_all();
}

/* ---- resize ---- */

static void check_resize(int64_t n, int64_t c, int64_t h, int64_t w, int64_t oh, int64_t ow) {
  char what[128];
  st_tensor *x = rand4(n, c, h, w), *gx = on_gpu(x);
  int64_t s[4] = {n, c, oh, ow};
  st_tensor *y = empty4(s, st_cpu()), *gy = empty4(s, gpu);
  snprintf(what, sizeof what, "resize %lldx%lld -> %lldx%lld", (long long)h, (long long)w, (long long)oh,
           (long long)ow);
  ok_rc(st_resize_bilinear_forward(gy, gx), what);
  st_resize_bilinear_forward(y, x);
  compare(gy, y, 1e-6, what);
  release_all();
}

/* ---- instance norm ---- */

static void check_instance_norm(int64_t N, int64_t C, int64_t H, int64_t W, int affine, float centre, float spread) {
  char what[160], tag[96];
  snprintf(tag, sizeof tag, "[%lld, %lld, %lld, %lld]%s, values %g +- %g", (long long)N, (long long)C, (long long)H,
           (long long)W, affine ? "" : " without affine", centre, spread);
  int64_t s[4] = {N, C, H, W}, nc[2] = {N, C};
  st_tensor *x = rand_cpu(4, s, centre - spread, centre + spread), *gx = on_gpu(x);
  st_tensor *gamma = affine ? rand_cpu(1, &C, 0.5f, 1.5f) : NULL, *beta = affine ? rand1(C) : NULL;
  st_tensor *ggamma = on_gpu(gamma), *gbeta = on_gpu(beta);
  st_tensor *y = empty4(s, st_cpu()), *gy = empty4(s, gpu);
  st_tensor *mean = keep(st_tensor_new(2, nc, st_cpu())), *rstd = keep(st_tensor_new(2, nc, st_cpu()));
  st_tensor *gmean = keep(st_tensor_new(2, nc, gpu)), *grstd = keep(st_tensor_new(2, nc, gpu));
  snprintf(what, sizeof what, "instance norm forward %s", tag);
  ok_rc(st_instance_norm_forward(gy, gmean, grstd, gx, ggamma, gbeta, 1e-3f), what);
  st_instance_norm_forward(y, mean, rstd, x, gamma, beta, 1e-3f);
  compare(gy, y, RTOL, what);
  snprintf(what, sizeof what, "instance norm mean %s", tag);
  compare(gmean, mean, 1e-6, what);
  snprintf(what, sizeof what, "instance norm rstd %s", tag);
  compare(grstd, rstd, 1e-5, what);

  st_tensor *dy = rand_cpu(4, s, -1.0f, 1.0f), *gdy = on_gpu(dy);
  st_tensor *dx = empty4(s, st_cpu()), *gdx = empty4(s, gpu);
  /* Parameter gradients accumulate onto what is there. */
  st_tensor *dgamma = affine ? rand1(C) : NULL, *dbeta = affine ? rand1(C) : NULL;
  st_tensor *gdgamma = on_gpu(dgamma), *gdbeta = on_gpu(dbeta);
  snprintf(what, sizeof what, "instance norm backward %s", tag);
  ok_rc(st_instance_norm_backward(gdx, gdgamma, gdbeta, gdy, gx, gmean, grstd, ggamma), what);
  st_instance_norm_backward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma);
  snprintf(what, sizeof what, "instance norm dx %s", tag);
  compare(gdx, dx, RTOL, what);
  if (affine) {
    snprintf(what, sizeof what, "instance norm dgamma (accumulated) %s", tag);
    compare(gdgamma, dgamma, RTOL, what);
    snprintf(what, sizeof what, "instance norm dbeta (accumulated) %s", tag);
    compare(gdbeta, dbeta, RTOL, what);
  }
  /* Inference: no saved statistics; and dx written over dy. */
  snprintf(what, sizeof what, "instance norm forward without mean/rstd %s", tag);
  ok_rc(st_instance_norm_forward(gy, NULL, NULL, gx, ggamma, gbeta, 1e-3f), what);
  compare(gy, y, RTOL, what);
  snprintf(what, sizeof what, "instance norm backward with dx aliasing dy %s", tag);
  ok_rc(st_instance_norm_backward(gdy, NULL, NULL, gdy, gx, gmean, grstd, ggamma), what);
  compare(gdy, dx, RTOL, what);
  release_all();
}

/* ---- conv2d ---- */

typedef struct {
  const char *name;
  int N, C, H, W, K, kh, kw;
  st_conv2d_params p;
  int bias;
} conv_cfg;

static void check_conv2d(const conv_cfg *c, int full) {
  char what[200];
  st_tensor *x = rand4(c->N, c->C, c->H, c->W), *w = rand4(c->K, c->C, c->kh, c->kw);
  st_tensor *b = c->bias ? rand1(c->K) : NULL;
  st_tensor *gx = on_gpu(x), *gw = on_gpu(w), *gb = on_gpu(b);
  int64_t s[4];
  if (st_conv2d_shape(x, w, &c->p, s) != 0) {
    tap_ok(0, "conv2d %s: shape: %s", c->name, st_last_error());
    release_all();
    return;
  }
  st_tensor *y = empty4(s, st_cpu()), *gy = empty4(s, gpu);
  snprintf(what, sizeof what, "conv2d %s forward", c->name);
  ok_rc(st_conv2d_forward(gy, gx, gw, gb, &c->p), what);
  st_conv2d_forward(y, x, w, b, &c->p);
  compare(gy, y, RTOL, what);

  st_tensor *dy = rand_cpu(4, s, -1.0f, 1.0f), *gdy = on_gpu(dy);
  st_tensor *dx = empty_like(x, st_cpu()), *gdx = empty_like(x, gpu);
  st_tensor *dw = rand4(c->K, c->C, c->kh, c->kw), *gdw = on_gpu(dw); /* accumulated onto */
  st_tensor *db = c->bias ? rand1(c->K) : NULL, *gdb = on_gpu(db);
  snprintf(what, sizeof what, "conv2d %s backward", c->name);
  ok_rc(st_conv2d_backward(gdx, gdw, gdb, gdy, gx, gw, &c->p), what);
  st_conv2d_backward(dx, dw, db, dy, x, w, &c->p);
  snprintf(what, sizeof what, "conv2d %s dx", c->name);
  compare(gdx, dx, RTOL, what);
  snprintf(what, sizeof what, "conv2d %s dw (accumulated)", c->name);
  compare(gdw, dw, RTOL, what);
  if (c->bias) {
    snprintf(what, sizeof what, "conv2d %s db (accumulated)", c->name);
    compare(gdb, db, RTOL, what);
  }
  if (full) {
    /* One gradient at a time (NULL for the others), and reproducibility. */
    st_tensor *gdx2 = empty_like(x, gpu);
    snprintf(what, sizeof what, "conv2d %s dx alone", c->name);
    ok_rc(st_conv2d_backward(gdx2, NULL, NULL, gdy, gx, gw, &c->p), what);
    compare(gdx2, dx, RTOL, what);
    st_tensor *gdw1 = keep(st_tensor_zeros(4, w->shape, gpu)), *gdw2 = keep(st_tensor_zeros(4, w->shape, gpu));
    st_conv2d_backward(NULL, gdw1, NULL, gdy, gx, gw, &c->p);
    st_conv2d_backward(NULL, gdw2, NULL, gdy, gx, gw, &c->p);
    snprintf(what, sizeof what, "conv2d %s dw is the same bit for bit on a second run", c->name);
    const char *nd = getenv("STRATA_CUDNN_DETERMINISTIC");
    if (nd && strcmp(nd, "0") == 0)
      tap_skip("STRATA_CUDNN_DETERMINISTIC=0 allows non-deterministic algorithms");
    else
      compare_exact(gdw2, keep(st_tensor_to(gdw1, st_cpu())), what);
  }
  release_all();
}

static st_conv2d_params cp(int sh, int sw, int t, int b, int l, int r, st_pad_mode m) {
  st_conv2d_params p = {sh, sw, t, b, l, r, m};
  return p;
}

/* TF 'SAME' padding for an H x W input. */
static st_conv2d_params same(int H, int W, int k, int s) {
  st_conv2d_params p = {s, s, 0, 0, 0, 0, ST_PAD_ZERO};
  st_same_pads(H, k, s, &p.pad_top, &p.pad_bottom);
  st_same_pads(W, k, s, &p.pad_left, &p.pad_right);
  return p;
}

static void check_conv2d_all(void) {
  const conv_cfg odd[] = {
      {"3x3 zero pad 1, bias", 2, 3, 13, 11, 5, 3, 3, cp(1, 1, 1, 1, 1, 1, ST_PAD_ZERO), 1},
      {"3x3/2 TF SAME (pads 0,1)", 2, 4, 12, 10, 6, 3, 3, cp(2, 2, 0, 1, 0, 1, ST_PAD_ZERO), 0},
      {"5x5/2 reflect pads 2,1,1,2, bias", 1, 3, 11, 9, 4, 5, 5, cp(2, 2, 2, 1, 1, 2, ST_PAD_REFLECT), 1},
      {"3x2 stride 1x2 replicate pads 1,1,0,1", 2, 2, 8, 7, 3, 3, 2, cp(1, 2, 1, 1, 0, 1, ST_PAD_REPLICATE), 0},
      {"1x1, bias", 3, 5, 9, 9, 7, 1, 1, cp(1, 1, 0, 0, 0, 0, ST_PAD_ZERO), 1},
      {"9x9 zero pad 4", 1, 3, 10, 10, 2, 9, 9, cp(1, 1, 4, 4, 4, 4, ST_PAD_ZERO), 0},
      {"1x1 zero pad 2 (pad wider than the kernel)", 1, 2, 5, 6, 3, 1, 1, cp(1, 1, 2, 2, 2, 2, ST_PAD_ZERO), 1},
      {"3x3/3 zero pads 2,0,1,2", 2, 3, 10, 11, 4, 3, 3, cp(3, 3, 2, 0, 1, 2, ST_PAD_ZERO), 0},
  };
  for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) check_conv2d(&odd[i], 1);
  /* A training step's shapes: the transformer (one residual conv stands for all ten) and VGG-19. */
  const conv_cfg real[] = {
      {"transformer conv1 [4,3,256,256] 9x9 -> 32", 4, 3, 256, 256, 32, 9, 9, same(256, 256, 9, 1), 0},
      {"transformer conv2 [4,32,256,256] 3x3/2 -> 64", 4, 32, 256, 256, 64, 3, 3, same(256, 256, 3, 2), 0},
      {"transformer conv3 [4,64,128,128] 3x3/2 -> 128", 4, 64, 128, 128, 128, 3, 3, same(128, 128, 3, 2), 0},
      {"transformer residual [4,128,64,64] 3x3 -> 128", 4, 128, 64, 64, 128, 3, 3, same(64, 64, 3, 1), 0},
      {"transformer conv4 [4,32,256,256] 9x9 -> 3", 4, 32, 256, 256, 3, 9, 9, same(256, 256, 9, 1), 0},
      {"VGG conv1_1 [4,3,256,256] 3x3 -> 64, bias", 4, 3, 256, 256, 64, 3, 3, cp(1, 1, 1, 1, 1, 1, ST_PAD_ZERO), 1},
      {"VGG conv3_1 [4,128,64,64] 3x3 -> 256, bias", 4, 128, 64, 64, 256, 3, 3, cp(1, 1, 1, 1, 1, 1, ST_PAD_ZERO), 1},
  };
  for (size_t i = 0; i < sizeof real / sizeof real[0]; i++) check_conv2d(&real[i], i == 3);
}

/* ---- conv_transpose2d ---- */

typedef struct {
  const char *name;
  int N, Ci, H, W, Co, kh, kw;
  st_conv_transpose2d_params p;
  int bias;
} convt_cfg;

static void check_conv_transpose2d(const convt_cfg *c) {
  char what[200];
  st_tensor *x = rand4(c->N, c->Ci, c->H, c->W), *w = rand4(c->Ci, c->Co, c->kh, c->kw);
  st_tensor *b = c->bias ? rand1(c->Co) : NULL;
  st_tensor *gx = on_gpu(x), *gw = on_gpu(w), *gb = on_gpu(b);
  int64_t s[4];
  if (st_conv_transpose2d_shape(x, w, &c->p, s) != 0) {
    tap_ok(0, "conv_transpose2d %s: shape: %s", c->name, st_last_error());
    release_all();
    return;
  }
  st_tensor *y = empty4(s, st_cpu()), *gy = empty4(s, gpu);
  snprintf(what, sizeof what, "conv_transpose2d %s forward", c->name);
  ok_rc(st_conv_transpose2d_forward(gy, gx, gw, gb, &c->p), what);
  st_conv_transpose2d_forward(y, x, w, b, &c->p);
  compare(gy, y, RTOL, what);

  st_tensor *dy = rand_cpu(4, s, -1.0f, 1.0f), *gdy = on_gpu(dy);
  st_tensor *dx = empty_like(x, st_cpu()), *gdx = empty_like(x, gpu);
  st_tensor *dw = rand4(c->Ci, c->Co, c->kh, c->kw), *gdw = on_gpu(dw);
  st_tensor *db = c->bias ? rand1(c->Co) : NULL, *gdb = on_gpu(db);
  snprintf(what, sizeof what, "conv_transpose2d %s backward", c->name);
  ok_rc(st_conv_transpose2d_backward(gdx, gdw, gdb, gdy, gx, gw, &c->p), what);
  st_conv_transpose2d_backward(dx, dw, db, dy, x, w, &c->p);
  snprintf(what, sizeof what, "conv_transpose2d %s dx", c->name);
  compare(gdx, dx, RTOL, what);
  snprintf(what, sizeof what, "conv_transpose2d %s dw (accumulated)", c->name);
  compare(gdw, dw, RTOL, what);
  if (c->bias) {
    snprintf(what, sizeof what, "conv_transpose2d %s db (accumulated)", c->name);
    compare(gdb, db, RTOL, what);
  }
  release_all();
}

static st_conv_transpose2d_params tp(int sh, int sw, int ct, int cl, int oh, int ow) {
  st_conv_transpose2d_params p = {sh, sw, ct, cl, oh, ow};
  return p;
}

static void check_conv_transpose2d_all(void) {
  const convt_cfg cases[] = {
      /* full output 13x15: TF 'SAME' keeps 12x14 (crop through a scratch buffer) */
      {"3x3/2 TF SAME [2,5,6,7] -> 3", 2, 5, 6, 7, 3, 3, 3, tp(2, 2, 0, 0, 12, 14), 0},
      /* full 12x12, symmetric crop 1 -> 10x10 (cuDNN padding) */
      {"4x4/2 crop 1 both ends, bias", 1, 4, 5, 5, 2, 4, 4, tp(2, 2, 1, 1, 10, 10), 1},
      /* full 9x8, uncropped (cuDNN directly) */
      {"3x3/1 full output [2,3,7,6] -> 4", 2, 3, 7, 6, 4, 3, 3, tp(1, 1, 0, 0, 9, 8), 0},
      /* full 12x15: rows 2..13 (two past the end: zero), columns 1..12 */
      {"3x3/3 crop 2,1 past the end, bias", 1, 2, 4, 5, 3, 3, 3, tp(3, 3, 2, 1, 12, 12), 1},
      {"2x3 stride 2x1 [3,3,5,4] -> 2", 3, 3, 5, 4, 2, 2, 3, tp(2, 1, 0, 1, 10, 5), 0},
      {"transformer deconv1 [4,128,64,64] -> 64", 4, 128, 64, 64, 64, 3, 3, tp(2, 2, 0, 0, 128, 128), 0},
      {"transformer deconv2 [4,64,128,128] -> 32", 4, 64, 128, 128, 32, 3, 3, tp(2, 2, 0, 0, 256, 256), 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_conv_transpose2d(&cases[i]);
}

/* ---- max pooling ---- */

static void check_maxpool(const char *name, int64_t N, int64_t C, int64_t H, int64_t W, st_maxpool2d_params p,
                          int ties, int nan) {
  char what[160];
  st_tensor *x = rand4(N, C, H, W);
  float *xd = st_tensor_data(x);
  if (ties) /* few distinct values: many windows hold their maximum twice */
    for (int64_t i = 0; i < x->numel; i++) xd[i] = floorf(xd[i] * 2.0f);
  if (nan) xd[x->numel / 3] = NAN;
  st_tensor *gx = on_gpu(x);
  int64_t s[4];
  st_maxpool2d_shape(x, &p, s);
  st_tensor *y = empty4(s, st_cpu()), *gy = empty4(s, gpu);
  snprintf(what, sizeof what, "maxpool2d %s forward equals the CPU", name);
  ok_rc(st_maxpool2d_forward(gy, gx, &p), what);
  st_maxpool2d_forward(y, x, &p);
  compare_exact(gy, y, what);
  st_tensor *dy = rand_cpu(4, s, -1.0f, 1.0f), *gdy = on_gpu(dy);
  st_tensor *dx = empty_like(x, st_cpu()), *gdx = empty_like(x, gpu);
  snprintf(what, sizeof what, "maxpool2d %s backward equals the CPU", name);
  ok_rc(st_maxpool2d_backward(gdx, gdy, gx, &p), what);
  st_maxpool2d_backward(dx, dy, x, &p);
  compare_exact(gdx, dx, what);
  release_all();
}

static void check_maxpool_all(void) {
  const st_maxpool2d_params vgg = {2, 2, 2, 2, 0, 0, 0, 0, 0}, tf = {3, 3, 2, 2, 0, 1, 0, 1, 0},
                            over = {3, 3, 1, 1, 1, 1, 1, 1, 0}, odd = {3, 2, 2, 3, 2, 0, 1, 1, 0};
  /* TensorFlow 'SAME' (pads from the input size): Engstrom's VGG pool, 3x3/2 */
  const st_maxpool2d_params same2 = {2, 2, 2, 2, 0, 0, 0, 0, 1}, same3 = {3, 3, 2, 2, 0, 0, 0, 0, 1};
  check_maxpool("2x2/2 on 13x11 (floor)", 2, 3, 13, 11, vgg, 0, 0);
  check_maxpool("3x3/2 pads 0,1,0,1", 2, 3, 12, 10, tf, 0, 0);
  check_maxpool("3x3/1 pad 1, ties", 1, 2, 9, 9, over, 1, 0);
  check_maxpool("3x2 stride 2x3 pads 2,0,1,1, ties", 2, 2, 11, 13, odd, 1, 0);
  check_maxpool("2x2/2 with a NaN", 1, 2, 8, 8, vgg, 0, 1);
  check_maxpool("3x3/2 with a NaN and ties", 1, 3, 12, 12, tf, 1, 1);
  check_maxpool("VGG pool1 [4,64,256,256]", 4, 64, 256, 256, vgg, 0, 0);
  check_maxpool("SAME 2x2/2 on 13x11", 2, 3, 13, 11, same2, 0, 0);
  check_maxpool("SAME 2x2/2 on 9x12, ties", 1, 2, 9, 12, same2, 1, 0);
  check_maxpool("SAME 2x2/2 on 7x7 with a NaN", 1, 2, 7, 7, same2, 0, 1);
  check_maxpool("SAME 3x3/2 on 11x8, ties", 2, 2, 11, 8, same3, 1, 0);
  check_maxpool("SAME VGG pool2 of a 514x928 image [1,16,257,464]", 1, 16, 257, 464, same2, 0, 0);
}

/* ---- Gram matrices and the style distance ---- */

static void check_gram(int64_t N, int64_t C, int64_t H, int64_t W) {
  char what[160];
  st_tensor *x = rand4(N, C, H, W), *gx = on_gpu(x);
  int64_t s[3];
  st_gram_shape(x, s);
  st_tensor *g = keep(st_tensor_new(3, s, st_cpu())), *gg = keep(st_tensor_new(3, s, gpu));
  snprintf(what, sizeof what, "gram forward [%lld,%lld,%lld,%lld]", (long long)N, (long long)C, (long long)H,
           (long long)W);
  ok_rc(st_gram_forward(gg, gx), what);
  st_gram_forward(g, x);
  compare(gg, g, RTOL, what);
  st_tensor *dg = rand_cpu(3, s, -1.0f, 1.0f), *gdg = on_gpu(dg); /* not symmetric */
  st_tensor *dx = empty_like(x, st_cpu()), *gdx = empty_like(x, gpu);
  snprintf(what, sizeof what, "gram backward [%lld,%lld,%lld,%lld]", (long long)N, (long long)C, (long long)H,
           (long long)W);
  ok_rc(st_gram_backward(gdx, gdg, gx), what);
  st_gram_backward(dx, dg, x);
  compare(gdx, dx, RTOL, what);
  release_all();
}

static void check_gram_distance(int broadcast) {
  char what[128];
  const char *tag = broadcast ? "broadcast target" : "per-image target";
  int64_t s[3] = {3, 7, 7}, ss[3] = {broadcast ? 1 : 3, 7, 7};
  st_tensor *g = rand_cpu(3, s, -1.0f, 1.0f), *gs = rand_cpu(3, ss, -1.0f, 1.0f);
  st_tensor *gg = on_gpu(g), *ggs = on_gpu(gs);
  float lc = 0.0f, lg = 0.0f;
  snprintf(what, sizeof what, "gram distance forward, %s", tag);
  ok_rc(st_gram_distance_forward(&lg, gg, ggs), what);
  st_gram_distance_forward(&lc, g, gs);
  close_scalar(lg, lc, 1e-6, what);
  st_tensor *dg = empty_like(g, st_cpu()), *gdg = empty_like(g, gpu);
  st_tensor *dgs = empty_like(gs, st_cpu()), *gdgs = empty_like(gs, gpu);
  snprintf(what, sizeof what, "gram distance backward, %s", tag);
  ok_rc(st_gram_distance_backward(gdg, gdgs, 100.0f, gg, ggs), what);
  st_gram_distance_backward(dg, dgs, 100.0f, g, gs);
  snprintf(what, sizeof what, "gram distance dg, %s", tag);
  compare(gdg, dg, 1e-6, what);
  snprintf(what, sizeof what, "gram distance dgs, %s", tag);
  compare(gdgs, dgs, 1e-6, what);
  release_all();
}

/* ---- mse and tv ---- */

static void check_mse(void) {
  st_tensor *a = rand4(2, 3, 17, 19), *b = rand4(2, 3, 17, 19), *ga = on_gpu(a), *gb = on_gpu(b);
  float lc = 0.0f, lg = 0.0f;
  ok_rc(st_mse_forward(&lg, ga, gb), "mse forward");
  st_mse_forward(&lc, a, b);
  close_scalar(lg, lc, 1e-6, "mse forward");
  st_tensor *da = empty_like(a, st_cpu()), *gda = empty_like(a, gpu), *db = empty_like(a, st_cpu()),
            *gdb = empty_like(a, gpu);
  ok_rc(st_mse_backward(gda, gdb, 7.5f, ga, gb), "mse backward");
  st_mse_backward(da, db, 7.5f, a, b);
  compare(gda, da, 1e-6, "mse da");
  compare(gdb, db, 1e-6, "mse db");
  ok_rc(st_mse_backward(NULL, gdb, 1.0f, ga, gb), "mse backward with da NULL");
  release_all();
}

static void check_tv(int64_t N, int64_t C, int64_t H, int64_t W) {
  char what[128];
  st_tensor *x = rand_cpu(4, (int64_t[]){N, C, H, W}, 0.0f, 255.0f), *gx = on_gpu(x);
  float lc = 0.0f, lg = 0.0f;
  snprintf(what, sizeof what, "tv forward [%lld,%lld,%lld,%lld]", (long long)N, (long long)C, (long long)H,
           (long long)W);
  ok_rc(st_tv_forward(&lg, gx), what);
  st_tv_forward(&lc, x);
  close_scalar(lg, lc, 1e-6, what);
  st_tensor *dx = empty_like(x, st_cpu()), *gdx = empty_like(x, gpu);
  snprintf(what, sizeof what, "tv backward [%lld,%lld,%lld,%lld]", (long long)N, (long long)C, (long long)H,
           (long long)W);
  ok_rc(st_tv_backward(gdx, 200.0f, gx), what);
  st_tv_backward(dx, 200.0f, x);
  compare(gdx, dx, 1e-5, what);
  release_all();
}

/* ---- Adam ---- */

static void check_adam(void) {
  const int64_t n = 1001;
  st_tensor *p = rand1(n), *gp = on_gpu(p);
  st_tensor *m = keep(st_tensor_zeros(1, &n, st_cpu())), *v = keep(st_tensor_zeros(1, &n, st_cpu()));
  st_tensor *gm = keep(st_tensor_zeros(1, &n, gpu)), *gv = keep(st_tensor_zeros(1, &n, gpu));
  int rc = 0;
  for (int t = 1; t <= 5; t++) {
    st_tensor *g = rand1(n), *gg = on_gpu(g);
    rc |= st_adam_step(gp, gg, gm, gv, 1e-3f, 0.9f, 0.999f, 1e-8f, t);
    st_adam_step(p, g, m, v, 1e-3f, 0.9f, 0.999f, 1e-8f, t);
  }
  ok_rc(rc, "adam, 5 steps");
  compare(gp, p, 1e-6, "adam parameters after 5 steps");
  compare(gm, m, 1e-6, "adam first moments");
  compare(gv, v, 1e-6, "adam second moments");
  release_all();
}

/* ---- argument errors ---- */

static void check_errors(void) {
  st_tensor *x = rand4(1, 2, 5, 5), *gx = on_gpu(x), *w = rand4(3, 2, 3, 3), *gy = empty_like(x, gpu);
  int rc = st_relu_forward(gy, x);
  tap_ok(rc == -1 && strstr(st_last_error(), "device") != NULL, "relu of a CPU x into a CUDA y is an error (%s)",
         st_last_error());
  st_conv2d_params p = cp(1, 1, 1, 1, 1, 1, ST_PAD_ZERO);
  int64_t s[4] = {1, 3, 5, 5};
  st_tensor *gy2 = empty4(s, gpu);
  rc = st_conv2d_forward(gy2, gx, w, NULL, &p);
  tap_ok(rc == -1 && strstr(st_last_error(), "device") != NULL,
         "conv2d with x on CUDA and w on the CPU is an error (%s)", st_last_error());
  release_all();
}

int main(void) {
  tu_seed(0x9e3779b97f4a7c15ull);
  /* These comparisons need full float32 convolutions and GEMMs. */
  setenv("STRATA_TF32", "0", 1);
  if (st_gpu_count() == 0) tap_skip_all("no CUDA device");
  gpu = st_cuda(0);

  check_elementwise();
  check_pad2d(ST_PAD_ZERO, 3, 1, 0, 2, "zero 3,1,0,2");
  check_pad2d(ST_PAD_REFLECT, 3, 1, 0, 2, "reflect 3,1,0,2");
  check_pad2d(ST_PAD_REFLECT, 6, 6, 8, 8, "reflect 6,6,8,8 (largest)");
  check_pad2d(ST_PAD_REPLICATE, 3, 1, 0, 2, "replicate 3,1,0,2");
  check_pad2d(ST_PAD_REPLICATE, 9, 9, 11, 11, "replicate 9,9,11,11 (wider than x)");
  check_resize(2, 3, 474, 712, 256, 256);
  check_resize(1, 3, 13, 17, 40, 31);
  check_resize(1, 2, 50, 9, 17, 30);
  check_resize(2, 1, 11, 7, 11, 3);
  check_resize(1, 3, 9, 8, 9, 8);
  check_instance_norm(3, 5, 17, 13, 1, 0.0f, 1.0f);
  check_instance_norm(2, 3, 19, 11, 0, 0.0f, 1.0f);
  check_instance_norm(2, 4, 31, 29, 1, 127.5f, 127.5f);
  check_instance_norm(1, 2, 1, 1, 1, 3.0f, 1.0f);
  check_instance_norm(4, 32, 256, 256, 1, 0.0f, 20.0f);
  check_conv2d_all();
  check_conv_transpose2d_all();
  check_maxpool_all();
  check_gram(3, 7, 13, 11);
  check_gram(4, 64, 256, 256);
  check_gram(4, 512, 16, 16);
  check_gram_distance(1);
  check_gram_distance(0);
  check_mse();
  check_tv(2, 3, 17, 19);
  check_tv(1, 3, 1, 9);
  check_tv(4, 3, 256, 256);
  check_adam();
  check_errors();

  st_mem_stats ms = st_mem_get_stats(gpu);
  if (!tap_ok(ms.in_use == 0, "no CUDA memory in use once every tensor is released"))
    tap_diag("%zu bytes still in use", ms.in_use);
  return tap_done();
}
