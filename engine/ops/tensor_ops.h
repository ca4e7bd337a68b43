/* Arithmetic and statistics on whole tensors: what the Lua tensor methods
 * (engine/lua/l_tensor.c) compute, on the tensors' own device. Not layers:
 * nothing here has a backward.
 *
 * Same conventions as ops.h: outputs passed in and checked (shape and
 * device), float32 contiguous, 0 or -1 with an st_error() line. Scalar
 * results are returned through host pointers.
 */
#ifndef STRATA_TENSOR_OPS_H
#define STRATA_TENSOR_OPS_H

#include <stdint.h>

#include "../tensor.h"
#include "kernels/arith_op.h"

/* y = a (op) b elementwise; a, b and y have one shape; y may alias a or b. */
int st_arith_forward(st_tensor *y, const st_tensor *a, const st_tensor *b, st_arith_op op);
/* y = x (op) s, or s (op) x when scalar_first; y has x's shape, may alias it. */
int st_arith_scalar_forward(st_tensor *y, const st_tensor *x, float s, int scalar_first, st_arith_op op);
/* y = |x| */
int st_abs_forward(st_tensor *y, const st_tensor *x);
/* y += alpha * x, in place. Only the element counts must agree (a [C, H, W]
 * image into its [1, C, H, W] batch, say), and the devices. */
int st_axpy(st_tensor *y, float alpha, const st_tensor *x);

/* Sum and mean of every element, in double (0 for an empty tensor). */
int st_sum(double *out, const st_tensor *x);
int st_mean(double *out, const st_tensor *x);
/* Smallest and largest element (either pointer may be NULL); an empty tensor
 * is an error. NaN elements are skipped, except a NaN first element, which
 * makes both results NaN. */
int st_min_max(float *mn, float *mx, const st_tensor *x);
/* *all = 1 when no element is NaN or infinite. */
int st_all_finite(int *all, const st_tensor *x);

/* dst [C, H, W] gets src [C, h, w] with its top-left corner at (row, col)
 * (0-based, may be negative); what falls outside dst is cut off. */
int st_paste(st_tensor *dst, const st_tensor *src, int64_t row, int64_t col);

#endif
