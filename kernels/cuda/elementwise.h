/* Elementwise arithmetic on raw device arrays (CUDA twin of
 * kernels/cpu/elementwise.h). y may alias any input. Return 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_ELEMENTWISE_H
#define STRATA_KERNELS_CUDA_ELEMENTWISE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y = a + b */
int st_cuda_add_forward(int dev, float *y, const float *a, const float *b, int64_t n);
/* y = x * scale + shift */
int st_cuda_affine_forward(int dev, float *y, const float *x, float scale, float shift, int64_t n);

#ifdef __cplusplus
}
#endif

#endif
