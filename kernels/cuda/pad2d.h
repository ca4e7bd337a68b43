/* 2-D padding of [planes][H][W] device arrays into [planes][H+top+bottom][W+left+right]
 * (CUDA twin of kernels/cpu/pad2d.h). Reflect needs every pad < its
 * dimension, replicate non-empty dimensions; the caller checks that.
 * Return 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_PAD2D_H
#define STRATA_KERNELS_CUDA_PAD2D_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/pad_mode.h"

int st_cuda_pad2d_forward(int dev, float *y, const float *x, int64_t planes, int64_t H, int64_t W, int top, int bottom,
                          int left, int right, st_pad_mode mode);
/* dx (assigned) = the sum over every position of y that copies each x element. */
int st_cuda_pad2d_backward(int dev, float *dx, const float *dy, int64_t planes, int64_t H, int64_t W, int top,
                           int bottom, int left, int right, st_pad_mode mode);

#ifdef __cplusplus
}
#endif

#endif
