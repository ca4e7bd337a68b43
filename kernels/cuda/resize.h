/* Bilinear resize of [planes][H][W] device arrays to [planes][OH][OW] (CUDA
 * twin of kernels/cpu/resize.h): half-pixel centres, a triangle filter
 * widened by the scale factor when shrinking (PIL's BILINEAR), separable.
 * All sizes >= 1. Returns 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_RESIZE_H
#define STRATA_KERNELS_CUDA_RESIZE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int st_cuda_resize_bilinear_forward(int dev, float *y, const float *x, int64_t planes, int64_t H, int64_t W, int64_t OH,
                                    int64_t OW);

#ifdef __cplusplus
}
#endif

#endif
