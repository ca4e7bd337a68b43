/* Whole-array reductions on raw device arrays (CUDA twin of
 * kernels/cpu/reductions.h); the results land on the host, so each call waits
 * for the device. Return 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_REDUCTIONS_H
#define STRATA_KERNELS_CUDA_REDUCTIONS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* *sum = sum of x in double, in a fixed order (the same from run to run; not
 * the CPU's order, so the last bits may differ from it). */
int st_cuda_sum(int dev, double *sum, const float *x, int64_t n);
/* Smallest and largest element, n >= 1, NaN handled as the CPU kernel does:
 * skipped, unless x[0] is NaN, which makes both NaN. */
int st_cuda_min_max(int dev, float *mn, float *mx, const float *x, int64_t n);
/* *all = 1 when every element is finite, else 0. */
int st_cuda_all_finite(int dev, int *all, const float *x, int64_t n);

#ifdef __cplusplus
}
#endif

#endif
