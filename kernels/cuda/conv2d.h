/* conv2d on the device through cuDNN (CUDA twin of kernels/cpu/conv2d.h).
 *
 * Raw contiguous device pointers; shapes were checked by engine/ops/conv2d.c,
 * which fills the descriptor (kernels/conv2d_desc.h) the CPU kernel takes too.
 * x [N, C, H, W], w [K, C, kh, kw] (OIHW), b [K] or NULL, y [N, K, OH, OW].
 * Return 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_CONV2D_H
#define STRATA_KERNELS_CUDA_CONV2D_H

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/conv2d_desc.h"

/* y = conv(x, w) + b */
int st_cuda_conv2d_forward(int dev, const st_conv2d_desc *d, float *y, const float *x, const float *w,
                           const float *b);

/* dx = dL/dx (assigned), dw += dL/dw, db += dL/db; any of the three may be NULL.
 * x is needed only for dw, w only for dx. */
int st_cuda_conv2d_backward(int dev, const st_conv2d_desc *d, float *dx, float *dw, float *db, const float *dy,
                            const float *x, const float *w);

#ifdef __cplusplus
}
#endif

#endif
