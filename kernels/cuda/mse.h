/* Squared-difference sums for mean-squared losses on device arrays (CUDA twin
 * of kernels/cpu/mse.h). a is outer x inner; b is outer x inner, or one
 * inner-sized block broadcast over outer when b_broadcast is set.
 * Return 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_MSE_H
#define STRATA_KERNELS_CUDA_MSE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* *sum (host) = sum (a - b)^2, accumulated in double, the same on every run. */
int st_cuda_sqdiff_sum(int dev, double *sum, const float *a, const float *b, int64_t outer, int64_t inner,
                       int b_broadcast);
/* da = scale (a - b) and db = -scale (a - b) (summed over outer when
 * broadcast), both assigned; either may be NULL. */
int st_cuda_sqdiff_backward(int dev, float *da, float *db, const float *a, const float *b, int64_t outer,
                            int64_t inner, int b_broadcast, float scale);

#ifdef __cplusplus
}
#endif

#endif
