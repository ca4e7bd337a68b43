/* Max pooling over planes = N*C independent H x W device planes (CUDA twin of
 * kernels/cpu/maxpool2d.h; semantics in engine/ops/train_ops.h).
 * Return 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_MAXPOOL2D_H
#define STRATA_KERNELS_CUDA_MAXPOOL2D_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/maxpool2d_params.h"

int st_cuda_maxpool2d_forward(int dev, float *y, const float *x, int64_t planes, int64_t h, int64_t w, int64_t oh,
                              int64_t ow, const st_maxpool2d_params *p);
/* dx is assigned: each dy added at its window's argmax (the first maximum in
 * row-major order, or the first NaN). */
int st_cuda_maxpool2d_backward(int dev, float *dx, const float *dy, const float *x, int64_t planes, int64_t h,
                               int64_t w, int64_t oh, int64_t ow, const st_maxpool2d_params *p);

#ifdef __cplusplus
}
#endif

#endif
