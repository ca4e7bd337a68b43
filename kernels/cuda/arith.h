/* Tensor arithmetic on raw device arrays (CUDA twin of kernels/cpu/arith.h):
 * n elements, y may alias any input, one float operation per element (no
 * fused multiply-add, so results equal the CPU's). Return 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_ARITH_H
#define STRATA_KERNELS_CUDA_ARITH_H

#include <stdint.h>

#include "kernels/arith_op.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y = a (op) b */
int st_cuda_arith(int dev, float *y, const float *a, const float *b, int64_t n, st_arith_op op);
/* y = x (op) s, or s (op) x when scalar_first */
int st_cuda_arith_scalar(int dev, float *y, const float *x, float s, int scalar_first, int64_t n, st_arith_op op);
/* y = |x| */
int st_cuda_abs(int dev, float *y, const float *x, int64_t n);
/* y += alpha * x (the product rounded, then the sum) */
int st_cuda_axpy(int dev, float *y, float alpha, const float *x, int64_t n);

#ifdef __cplusplus
}
#endif

#endif
