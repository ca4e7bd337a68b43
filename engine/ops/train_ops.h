/* Ops that training needs on top of ops.h: max pooling (VGG-19, FCRN), Gram
 * matrices, the loss functions and the Adam update.
 *
 * Same conventions as ops.h: outputs passed in and shape-checked, input
 * gradients assigned, NULL gradients allowed, float32 contiguous NCHW, 0 or -1
 * with an st_error() line. Scalar losses are returned through a host `float *`
 * (accumulated in double); their backward takes the incoming gradient of that
 * scalar as `float dloss` (1 for the loss itself, or its weight in the total).
 * Exact normalisations follow docs/reference.md, "Losses".
 */
#ifndef STRATA_TRAIN_OPS_H
#define STRATA_TRAIN_OPS_H

#include <stdint.h>

#include "../tensor.h"

/* ---- maxpool2d: y[n,c,i,j] = max over the kernel_h x kernel_w window at
 * (i*stride_h - pad_top, j*stride_w - pad_left); padded cells count as -inf,
 * so they are never selected. Pads may be asymmetric (TensorFlow 'SAME' max
 * pool 3x3/2 on an even size pads 0 before and 1 after); each pad must be
 * smaller than the kernel so that every window holds a real cell. Output size
 * floor((H + pad_top + pad_bottom - kernel_h) / stride_h) + 1 (no ceil mode).
 * Backward recomputes each window's maximum from x (no index buffer): the first
 * maximum in row-major window order receives the gradient, as in PyTorch; dy of
 * overlapping windows add up. NaN inputs propagate.
 * same = 1: TensorFlow padding='SAME' (Engstrom's VGG pools 2x2/2 so): the
 * output is ceil(H / stride_h) x ceil(W / stride_w) and the pads follow from
 * the input size (st_maxpool2d_same_pads in kernels/maxpool2d_window.h); the
 * explicit pads must then be 0. */
#include "kernels/maxpool2d_params.h"

int st_maxpool2d_shape(const st_tensor *x, const st_maxpool2d_params *p, int64_t out[4]);
int st_maxpool2d_forward(st_tensor *y, const st_tensor *x, const st_maxpool2d_params *p);
int st_maxpool2d_backward(st_tensor *dx, const st_tensor *dy, const st_tensor *x, const st_maxpool2d_params *p);

/* ---- gram: g[n] = F F^T / (C*H*W), F = x[n] viewed as C x (H*W); g is [N, C, C].
 * Backward: dx[n] = (dg[n] + dg[n]^T) F / (C*H*W). */
int st_gram_shape(const st_tensor *x, int64_t out[3]);
int st_gram_forward(st_tensor *g, const st_tensor *x);
int st_gram_backward(st_tensor *dx, const st_tensor *dg, const st_tensor *x);

/* ---- gram_distance (one style layer): loss = (1/N) sum_n ||g[n] - gs||_F^2 / (C*C),
 * g [N, C, C]; gs [1, C, C] (broadcast over the batch) or [N, C, C].
 * Backward: dg = dloss * 2 (g - gs) / (N*C*C); dgs (optional) = the negated
 * gradient, summed over the batch when gs is broadcast. */
int st_gram_distance_forward(float *loss, const st_tensor *g, const st_tensor *gs);
int st_gram_distance_backward(st_tensor *dg, st_tensor *dgs, float dloss, const st_tensor *g, const st_tensor *gs);

/* ---- mse: loss = mean((a - b)^2) over every element (same shapes).
 * Backward: da = dloss * 2 (a - b) / numel; db = -da; either may be NULL. */
int st_mse_forward(float *loss, const st_tensor *a, const st_tensor *b);
int st_mse_backward(st_tensor *da, st_tensor *db, float dloss, const st_tensor *a, const st_tensor *b);

/* ---- tv (total variation) on x [N, C, H, W]:
 * loss = (sum (x[..,w+1] - x[..,w])^2 / (H*(W-1)*C) + sum (x[..,h+1,:] - x[..,h,:])^2 / ((H-1)*W*C)) / N.
 * A term with no differences (W == 1 or H == 1) counts as 0 (TensorFlow would
 * give 0/0). Backward assigns dx = dloss * d loss / dx. */
int st_tv_forward(float *loss, const st_tensor *x);
int st_tv_backward(st_tensor *dx, float dloss, const st_tensor *x);

/* ---- adam: one in-place step of torch.optim.Adam (no weight decay, no amsgrad);
 * t is the 1-based step number (its bias corrections).
 *   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
 *   param -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * m and v start at zero and have param's shape. TensorFlow's AdamOptimizer
 * (Engstrom's code) adds its epsilon to the uncorrected sqrt(v) instead,
 *   param -= lr sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps_tf),
 * i.e. eps_torch = eps_tf / sqrt(1 - beta2^t); the two agree once sqrt(v) >> eps. */
int st_adam_step(st_tensor *param, const st_tensor *grad, st_tensor *m, st_tensor *v, float lr, float beta1,
                 float beta2, float eps, int64_t t);

#endif
