/* The CPU's kernel table (kernels/kernels.h). The CPU kernels keep their own
 * signatures (no device ordinal, void where nothing can fail), so that tests
 * and benchmarks call them directly; these adapters give them the table's
 * common shape. Device-specific work that is not arithmetic lives here too:
 * the Gram backward's scratch matrix. */
#include "kernels/kernels.h"

#include "engine/memory.h"
#include "kernels/cpu/activations.h"
#include "kernels/cpu/adam.h"
#include "kernels/cpu/arith.h"
#include "kernels/cpu/batch_norm.h"
#include "kernels/cpu/colour.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/conv_transpose2d.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/gram.h"
#include "kernels/cpu/instance_norm.h"
#include "kernels/cpu/interleave.h"
#include "kernels/cpu/maxpool2d.h"
#include "kernels/cpu/mse.h"
#include "kernels/cpu/pad2d.h"
#include "kernels/cpu/paste.h"
#include "kernels/cpu/reductions.h"
#include "kernels/cpu/resize.h"
#include "kernels/cpu/tv.h"

static int relu_forward(int dev, float *y, const float *x, int64_t n) {
  (void)dev;
  st_cpu_relu_forward(y, x, n);
  return 0;
}

static int relu_backward(int dev, float *dx, const float *dy, const float *y, int64_t n) {
  (void)dev;
  st_cpu_relu_backward(dx, dy, y, n);
  return 0;
}

static int tanh_forward(int dev, float *y, const float *x, int64_t n) {
  (void)dev;
  st_cpu_tanh_forward(y, x, n);
  return 0;
}

static int tanh_backward(int dev, float *dx, const float *dy, const float *y, int64_t n) {
  (void)dev;
  st_cpu_tanh_backward(dx, dy, y, n);
  return 0;
}

static int add_forward(int dev, float *y, const float *a, const float *b, int64_t n) {
  (void)dev;
  st_cpu_add_forward(y, a, b, n);
  return 0;
}

static int affine_forward(int dev, float *y, const float *x, float scale, float shift, int64_t n) {
  (void)dev;
  st_cpu_affine_forward(y, x, scale, shift, n);
  return 0;
}

static int conv2d_forward(int dev, const st_conv2d_desc *d, float *y, const float *x, const float *w,
                          const float *b) {
  (void)dev;
  return st_cpu_conv2d_forward(d, y, x, w, b);
}

static int conv2d_backward(int dev, const st_conv2d_desc *d, float *dx, float *dw, float *db, const float *dy,
                           const float *x, const float *w) {
  (void)dev;
  return st_cpu_conv2d_backward(d, dx, dw, db, dy, x, w);
}

static int conv_transpose2d_forward(int dev, const st_conv_transpose2d_desc *d, float *y, const float *x,
                                    const float *w, const float *b) {
  (void)dev;
  return st_cpu_conv_transpose2d_forward(d, y, x, w, b);
}

static int conv_transpose2d_backward(int dev, const st_conv_transpose2d_desc *d, float *dx, float *dw, float *db,
                                     const float *dy, const float *x, const float *w) {
  (void)dev;
  return st_cpu_conv_transpose2d_backward(d, dx, dw, db, dy, x, w);
}

static int instance_norm_forward(int dev, float *y, float *mean, float *rstd, const float *x, const float *gamma,
                                 const float *beta, int64_t N, int64_t C, int64_t HW, float eps) {
  (void)dev;
  st_cpu_instance_norm_forward(y, mean, rstd, x, gamma, beta, N, C, HW, eps);
  return 0;
}

static int instance_norm_backward(int dev, float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                                  const float *mean, const float *rstd, const float *gamma, int64_t N, int64_t C,
                                  int64_t HW) {
  (void)dev;
  return st_cpu_instance_norm_backward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma, N, C, HW);
}

static int batch_norm_forward(int dev, float *y, const float *x, const float *mean, const float *var,
                              const float *gamma, const float *beta, int64_t N, int64_t C, int64_t HW, float eps) {
  (void)dev;
  return st_cpu_batch_norm_forward(y, x, mean, var, gamma, beta, N, C, HW, eps);
}

static int batch_norm_backward(int dev, float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                               const float *mean, const float *var, const float *gamma, int64_t N, int64_t C,
                               int64_t HW, float eps) {
  (void)dev;
  return st_cpu_batch_norm_backward(dx, dgamma, dbeta, dy, x, mean, var, gamma, N, C, HW, eps);
}

static int pad2d_forward(int dev, float *y, const float *x, int64_t planes, int64_t H, int64_t W, int top, int bottom,
                         int left, int right, st_pad_mode mode) {
  (void)dev;
  st_cpu_pad2d_forward(y, x, planes, H, W, top, bottom, left, right, mode);
  return 0;
}

static int pad2d_backward(int dev, float *dx, const float *dy, int64_t planes, int64_t H, int64_t W, int top,
                          int bottom, int left, int right, st_pad_mode mode) {
  (void)dev;
  st_cpu_pad2d_backward(dx, dy, planes, H, W, top, bottom, left, right, mode);
  return 0;
}

static int resize_bilinear_forward(int dev, float *y, const float *x, int64_t planes, int64_t H, int64_t W,
                                   int64_t OH, int64_t OW) {
  (void)dev;
  return st_cpu_resize_bilinear_forward(y, x, planes, H, W, OH, OW);
}

static int interleave_forward(int dev, float *y, const float *a, const float *b, const float *c, const float *d,
                              int64_t planes, int64_t h, int64_t w) {
  (void)dev;
  st_cpu_interleave_forward(y, a, b, c, d, planes, h, w);
  return 0;
}

static int interleave_backward(int dev, float *da, float *db, float *dc, float *dd, const float *dy, int64_t planes,
                               int64_t h, int64_t w) {
  (void)dev;
  st_cpu_interleave_backward(da, db, dc, dd, dy, planes, h, w);
  return 0;
}

static int maxpool2d_forward(int dev, float *y, const float *x, int64_t planes, int64_t h, int64_t w, int64_t oh,
                             int64_t ow, const st_maxpool2d_params *p) {
  (void)dev;
  st_cpu_maxpool2d_forward(y, x, planes, h, w, oh, ow, p);
  return 0;
}

static int maxpool2d_backward(int dev, float *dx, const float *dy, const float *x, int64_t planes, int64_t h,
                              int64_t w, int64_t oh, int64_t ow, const st_maxpool2d_params *p) {
  (void)dev;
  st_cpu_maxpool2d_backward(dx, dy, x, planes, h, w, oh, ow, p);
  return 0;
}

static int gram_forward(int dev, float *g, const float *x, int64_t n, int64_t c, int64_t hw, float scale) {
  (void)dev;
  st_cpu_gram_forward(g, x, n, c, hw, scale);
  return 0;
}

static int gram_backward(int dev, float *dx, const float *dg, const float *x, int64_t n, int64_t c, int64_t hw,
                         float scale) {
  (void)dev;
  float *sym = st_mem_alloc(st_cpu(), (size_t)(c * c) * sizeof(float), "st_gram_backward scratch");
  if (!sym) return -1;
  st_cpu_gram_backward(dx, dg, x, n, c, hw, scale, sym);
  st_mem_free(st_cpu(), sym);
  return 0;
}

static int sqdiff_sum(int dev, double *sum, const float *a, const float *b, int64_t outer, int64_t inner,
                      int b_broadcast) {
  (void)dev;
  *sum = st_cpu_sqdiff_sum(a, b, outer, inner, b_broadcast);
  return 0;
}

static int sqdiff_backward(int dev, float *da, float *db, const float *a, const float *b, int64_t outer,
                           int64_t inner, int b_broadcast, float scale) {
  (void)dev;
  st_cpu_sqdiff_backward(da, db, a, b, outer, inner, b_broadcast, scale);
  return 0;
}

static int tv_sums(int dev, const float *x, int64_t planes, int64_t h, int64_t w, double *sx, double *sy) {
  (void)dev;
  st_cpu_tv_sums(x, planes, h, w, sx, sy);
  return 0;
}

static int tv_backward(int dev, float *dx, const float *x, int64_t planes, int64_t h, int64_t w, float ax, float ay) {
  (void)dev;
  st_cpu_tv_backward(dx, x, planes, h, w, ax, ay);
  return 0;
}

static int adam_step(int dev, float *param, const float *grad, float *m, float *v, int64_t n, float beta1,
                     float beta2, float eps, float step_size, float sqrt_bc2) {
  (void)dev;
  st_cpu_adam_step(param, grad, m, v, n, beta1, beta2, eps, step_size, sqrt_bc2);
  return 0;
}

static int preserve_colors(int dev, float *y, const float *lum, const float *chroma, int64_t n) {
  (void)dev;
  st_cpu_preserve_colors(y, lum, chroma, n);
  return 0;
}

static int arith(int dev, float *y, const float *a, const float *b, int64_t n, st_arith_op op) {
  (void)dev;
  st_cpu_arith(y, a, b, n, op);
  return 0;
}

static int arith_scalar(int dev, float *y, const float *x, float s, int scalar_first, int64_t n, st_arith_op op) {
  (void)dev;
  st_cpu_arith_scalar(y, x, s, scalar_first, n, op);
  return 0;
}

static int abs_(int dev, float *y, const float *x, int64_t n) {
  (void)dev;
  st_cpu_abs(y, x, n);
  return 0;
}

static int axpy(int dev, float *y, float alpha, const float *x, int64_t n) {
  (void)dev;
  st_cpu_axpy(y, alpha, x, n);
  return 0;
}

static int sum(int dev, double *out, const float *x, int64_t n) {
  (void)dev;
  *out = st_cpu_sum(x, n);
  return 0;
}

static int min_max(int dev, float *mn, float *mx, const float *x, int64_t n) {
  (void)dev;
  st_cpu_min_max(mn, mx, x, n);
  return 0;
}

static int all_finite(int dev, int *all, const float *x, int64_t n) {
  (void)dev;
  *all = st_cpu_all_finite(x, n);
  return 0;
}

static int paste(int dev, float *dst, const float *src, int64_t C, int64_t H, int64_t W, int64_t h, int64_t w,
                 int64_t r0, int64_t c0) {
  (void)dev;
  st_cpu_paste(dst, src, C, H, W, h, w, r0, c0);
  return 0;
}

const st_kernels st_cpu_kernels = {
    .relu_forward = relu_forward,
    .relu_backward = relu_backward,
    .tanh_forward = tanh_forward,
    .tanh_backward = tanh_backward,
    .add_forward = add_forward,
    .affine_forward = affine_forward,
    .conv2d_forward = conv2d_forward,
    .conv2d_backward = conv2d_backward,
    .conv_transpose2d_forward = conv_transpose2d_forward,
    .conv_transpose2d_backward = conv_transpose2d_backward,
    .instance_norm_forward = instance_norm_forward,
    .instance_norm_backward = instance_norm_backward,
    .batch_norm_forward = batch_norm_forward,
    .batch_norm_backward = batch_norm_backward,
    .pad2d_forward = pad2d_forward,
    .pad2d_backward = pad2d_backward,
    .resize_bilinear_forward = resize_bilinear_forward,
    .interleave_forward = interleave_forward,
    .interleave_backward = interleave_backward,
    .maxpool2d_forward = maxpool2d_forward,
    .maxpool2d_backward = maxpool2d_backward,
    .gram_forward = gram_forward,
    .gram_backward = gram_backward,
    .sqdiff_sum = sqdiff_sum,
    .sqdiff_backward = sqdiff_backward,
    .tv_sums = tv_sums,
    .tv_backward = tv_backward,
    .adam_step = adam_step,
    .preserve_colors = preserve_colors,
    .arith = arith,
    .arith_scalar = arith_scalar,
    .abs = abs_,
    .axpy = axpy,
    .sum = sum,
    .min_max = min_max,
    .all_finite = all_finite,
    .paste = paste,
};
