/* One device's kernels behind one table: the single place where an op's
 * device picks its code.
 *
 * Why a table: every op in engine/ops checks its arguments, works out the
 * sizes, then makes exactly one call, the same for every device:
 *     const st_kernels *k = st_kernels_of(x, &dev, "st_relu_forward");
 *     if (!k) return -1;
 *     return k->relu_forward(dev, st_tensor_data(y), st_tensor_data(x), x->numel);
 * so the op files hold no #ifdef and no per-device copy of the call. Each
 * device fills the table once: kernels/cpu/table.c (adapters over the CPU
 * kernels, which keep their own simpler signatures) and kernels/cuda/table.c
 * (the CUDA kernels as they are; built only with the CUDA backend). Which
 * tables a build has is decided by what it links: engine/gpu_plugin.c hands
 * out the CUDA table of the plugin it loads (engine/gpu_cuda.c builds it),
 * engine/gpu_none.c has none, as for device memory.
 * engine/ops/dispatch.c maps a tensor's device to its table. The cost is one
 * indirect call per op call, never inside a loop. (The other way, CUDA
 * prototypes always declared with a stub per kernel in gpu_none.c, would
 * still leave a device branch and a second copy of each call's arguments in
 * every op.)
 *
 * Every entry takes the device ordinal first (`dev`, ignored by the CPU),
 * then raw contiguous float32 pointers and sizes the op has checked, and
 * returns 0, or -1 after st_error(). Gradient pointers documented as
 * optional may be NULL. Semantics are the ops' (engine/ops/ops.h,
 * train_ops.h, fcrn_ops.h, tensor_ops.h); this header is device-neutral, like the
 * descriptors it includes. */
#ifndef STRATA_KERNELS_KERNELS_H
#define STRATA_KERNELS_KERNELS_H

#include <stdint.h>

#include "kernels/arith_op.h"
#include "kernels/conv2d_desc.h"
#include "kernels/conv_transpose2d_desc.h"
#include "kernels/maxpool2d_params.h"
#include "kernels/pad_mode.h"

typedef struct st_kernels {
  /* activations: n elements; y may alias x, dx may alias dy; y is the forward output */
  int (*relu_forward)(int dev, float *y, const float *x, int64_t n);
  int (*relu_backward)(int dev, float *dx, const float *dy, const float *y, int64_t n);
  int (*tanh_forward)(int dev, float *y, const float *x, int64_t n);
  int (*tanh_backward)(int dev, float *dx, const float *dy, const float *y, int64_t n);

  /* elementwise: y = a + b; y = x * scale + shift (rounded after each step) */
  int (*add_forward)(int dev, float *y, const float *a, const float *b, int64_t n);
  int (*affine_forward)(int dev, float *y, const float *x, float scale, float shift, int64_t n);

  /* convolutions (descriptors filled by engine/ops/conv2d.c, conv_transpose2d.c) */
  int (*conv2d_forward)(int dev, const st_conv2d_desc *d, float *y, const float *x, const float *w, const float *b);
  int (*conv2d_backward)(int dev, const st_conv2d_desc *d, float *dx, float *dw, float *db, const float *dy,
                         const float *x, const float *w);
  int (*conv_transpose2d_forward)(int dev, const st_conv_transpose2d_desc *d, float *y, const float *x,
                                  const float *w, const float *b);
  int (*conv_transpose2d_backward)(int dev, const st_conv_transpose2d_desc *d, float *dx, float *dw, float *db,
                                   const float *dy, const float *x, const float *w);

  /* normalisations: x is N x C planes of HW values */
  int (*instance_norm_forward)(int dev, float *y, float *mean, float *rstd, const float *x, const float *gamma,
                               const float *beta, int64_t N, int64_t C, int64_t HW, float eps);
  int (*instance_norm_backward)(int dev, float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                                const float *mean, const float *rstd, const float *gamma, int64_t N, int64_t C,
                                int64_t HW);
  int (*batch_norm_forward)(int dev, float *y, const float *x, const float *mean, const float *var,
                            const float *gamma, const float *beta, int64_t N, int64_t C, int64_t HW, float eps);
  int (*batch_norm_backward)(int dev, float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                             const float *mean, const float *var, const float *gamma, int64_t N, int64_t C,
                             int64_t HW, float eps);

  /* resampling and layout: `planes` independent H x W planes */
  int (*pad2d_forward)(int dev, float *y, const float *x, int64_t planes, int64_t H, int64_t W, int top, int bottom,
                       int left, int right, st_pad_mode mode);
  int (*pad2d_backward)(int dev, float *dx, const float *dy, int64_t planes, int64_t H, int64_t W, int top,
                        int bottom, int left, int right, st_pad_mode mode);
  int (*resize_bilinear_forward)(int dev, float *y, const float *x, int64_t planes, int64_t H, int64_t W,
                                 int64_t OH, int64_t OW);
  int (*interleave_forward)(int dev, float *y, const float *a, const float *b, const float *c, const float *d,
                            int64_t planes, int64_t h, int64_t w);
  int (*maxpool2d_forward)(int dev, float *y, const float *x, int64_t planes, int64_t h, int64_t w, int64_t oh,
                           int64_t ow, const st_maxpool2d_params *p);
  int (*maxpool2d_backward)(int dev, float *dx, const float *dy, const float *x, int64_t planes, int64_t h,
                            int64_t w, int64_t oh, int64_t ow, const st_maxpool2d_params *p);
  int (*interleave_backward)(int dev, float *da, float *db, float *dc, float *dd, const float *dy, int64_t planes,
                             int64_t h, int64_t w);

  /* losses and training: Gram matrices (g[n] = F F^T * scale), squared
   * differences (b broadcast over `outer` when b_broadcast), total variation
   * sums, one Adam step */
  int (*gram_forward)(int dev, float *g, const float *x, int64_t n, int64_t c, int64_t hw, float scale);
  int (*gram_backward)(int dev, float *dx, const float *dg, const float *x, int64_t n, int64_t c, int64_t hw,
                       float scale);
  int (*sqdiff_sum)(int dev, double *sum, const float *a, const float *b, int64_t outer, int64_t inner,
                    int b_broadcast);
  int (*sqdiff_backward)(int dev, float *da, float *db, const float *a, const float *b, int64_t outer,
                         int64_t inner, int b_broadcast, float scale);
  int (*tv_sums)(int dev, const float *x, int64_t planes, int64_t h, int64_t w, double *sx, double *sy);
  int (*tv_backward)(int dev, float *dx, const float *x, int64_t planes, int64_t h, int64_t w, float ax, float ay);
  int (*adam_step)(int dev, float *param, const float *grad, float *m, float *v, int64_t n, float beta1,
                   float beta2, float eps, float step_size, float sqrt_bc2);

  /* colour preservation: y, lum, chroma are [3][n] RGB planes */
  int (*preserve_colors)(int dev, float *y, const float *lum, const float *chroma, int64_t n);

  /* tensor arithmetic and statistics (engine/ops/tensor_ops.h), n elements */
  int (*arith)(int dev, float *y, const float *a, const float *b, int64_t n, st_arith_op op);
  int (*arith_scalar)(int dev, float *y, const float *x, float s, int scalar_first, int64_t n, st_arith_op op);
  int (*abs)(int dev, float *y, const float *x, int64_t n);
  int (*axpy)(int dev, float *y, float alpha, const float *x, int64_t n);
  int (*sum)(int dev, double *sum, const float *x, int64_t n);
  int (*min_max)(int dev, float *mn, float *mx, const float *x, int64_t n);
  int (*all_finite)(int dev, int *all, const float *x, int64_t n);
  int (*paste)(int dev, float *dst, const float *src, int64_t C, int64_t H, int64_t W, int64_t h, int64_t w,
               int64_t r0, int64_t c0);
} st_kernels;

/* kernels/cpu/table.c; kernels/cuda/table.c in builds with the CUDA backend. */
extern const st_kernels st_cpu_kernels;
extern const st_kernels st_cuda_kernels;

#endif
