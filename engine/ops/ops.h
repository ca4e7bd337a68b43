/* Public ops: one function per op and direction, same signature on every device.
 *
 * Conventions (as in llm.c):
 * - Outputs are passed in, allocated by the caller with the shape the op's
 *   *_shape() helper gives; ops check every shape and device and return 0, or
 *   -1 with an error naming the argument and the expected shape.
 * - Backward: input gradients are assigned (overwritten); parameter gradients
 *   (dw, db, dgamma, dbeta) are accumulated (+=), so a caller zeroes them once
 *   per step. Any gradient pointer may be NULL when not wanted.
 * - Tensors are float32, contiguous, NCHW. The op dispatches on the device of
 *   its first tensor to kernels/cpu or kernels/cuda.
 */
#ifndef STRATA_OPS_H
#define STRATA_OPS_H

#include "../tensor.h"

#include "kernels/pad_mode.h"

/* ---- conv2d: y[n,k] = sum_c w[k,c] * pad(x)[n,c] (+ b[k]); w is OIHW. ----
 * Padding is explicit and may be asymmetric (TensorFlow 'SAME' with stride 2
 * pads 0 before and 1 after on even sizes; st_same_pads computes it). */
typedef struct {
  int stride_h, stride_w;
  int pad_top, pad_bottom, pad_left, pad_right;
  st_pad_mode pad_mode;
} st_conv2d_params;

/* TensorFlow 'SAME': output ceil(in/stride), total pad max((out-1)*s+k-in, 0),
 * the smaller half before. */
void st_same_pads(int in, int k, int stride, int *before, int *after);

int st_conv2d_shape(const st_tensor *x, const st_tensor *w, const st_conv2d_params *p, int64_t out[4]);
int st_conv2d_forward(st_tensor *y, const st_tensor *x, const st_tensor *w, const st_tensor *b /* or NULL */,
                      const st_conv2d_params *p);
int st_conv2d_backward(st_tensor *dx, st_tensor *dw, st_tensor *db, const st_tensor *dy, const st_tensor *x,
                       const st_tensor *w, const st_conv2d_params *p);

/* ---- conv_transpose2d: the adjoint of conv2d; w is [Cin, Cout, kh, kw] (PyTorch's layout).
 * The full output has (H-1)*stride + kh rows; y is the window of out_h rows
 * starting at row crop_top of it (rows past the full output are zero), the same
 * for columns. TensorFlow 'SAME' stride 2, k 3: crop 0, out 2H (drops the last row). */
typedef struct {
  int stride_h, stride_w;
  int crop_top, crop_left;
  int out_h, out_w;
} st_conv_transpose2d_params;

int st_conv_transpose2d_shape(const st_tensor *x, const st_tensor *w, const st_conv_transpose2d_params *p,
                              int64_t out[4]);
int st_conv_transpose2d_forward(st_tensor *y, const st_tensor *x, const st_tensor *w, const st_tensor *b /* or NULL */,
                                const st_conv_transpose2d_params *p);
int st_conv_transpose2d_backward(st_tensor *dx, st_tensor *dw, st_tensor *db, const st_tensor *dy, const st_tensor *x,
                                 const st_tensor *w, const st_conv_transpose2d_params *p);

/* ---- instance norm: per (n, c) plane, y = gamma * (x - mean) / sqrt(var + eps) + beta,
 * biased variance. mean and rstd ([N, C]) are saved for backward; NULL at inference. */
int st_instance_norm_forward(st_tensor *y, st_tensor *mean, st_tensor *rstd, const st_tensor *x,
                             const st_tensor *gamma, const st_tensor *beta, float eps);
int st_instance_norm_backward(st_tensor *dx, st_tensor *dgamma, st_tensor *dbeta, const st_tensor *dy,
                              const st_tensor *x, const st_tensor *mean, const st_tensor *rstd, const st_tensor *gamma);

/* ---- elementwise ---- (y may alias x for the forward ops) */
int st_relu_forward(st_tensor *y, const st_tensor *x);
int st_relu_backward(st_tensor *dx, const st_tensor *dy, const st_tensor *y); /* y: the forward output */
int st_tanh_forward(st_tensor *y, const st_tensor *x);
int st_tanh_backward(st_tensor *dx, const st_tensor *dy, const st_tensor *y);
/* y = a + b (same shapes). */
int st_add_forward(st_tensor *y, const st_tensor *a, const st_tensor *b);
/* y = x * scale + shift. */
int st_affine_forward(st_tensor *y, const st_tensor *x, float scale, float shift);

/* ---- pad2d: y = x padded by (top, bottom, left, right) with zeros, reflection
 * (without repeating the edge, as numpy 'reflect' and torch ReflectionPad2d) or
 * edge replication. Backward sums the gradient of every copy into dx. */
int st_pad2d_shape(const st_tensor *x, int top, int bottom, int left, int right, st_pad_mode mode, int64_t out[4]);
int st_pad2d_forward(st_tensor *y, const st_tensor *x, int top, int bottom, int left, int right, st_pad_mode mode);
int st_pad2d_backward(st_tensor *dx, const st_tensor *dy, int top, int bottom, int left, int right, st_pad_mode mode);

/* ---- preserve_colors: y = lum's luminance with chroma's colours, [3,H,W] RGB
 * 0..255, JPEG YCbCr (BT.601, full range); formulas in kernels/cpu/colour.h. */
int st_preserve_colors(st_tensor *y, const st_tensor *lum, const st_tensor *chroma);

/* ---- resize: bilinear with half-pixel centres, NCHW to y's [N, C, out_h, out_w].
 * When shrinking, the triangle filter is widened by the scale factor (as PIL's
 * BILINEAR does), so large images shrink without aliasing. Used to squash
 * images to the training size. */
int st_resize_bilinear_forward(st_tensor *y, const st_tensor *x);

#endif
