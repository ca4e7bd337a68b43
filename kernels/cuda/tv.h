/* Total variation over planes = N*C device planes of h x w (CUDA twin of
 * kernels/cpu/tv.h; see engine/ops/train_ops.h). Return 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_TV_H
#define STRATA_KERNELS_CUDA_TV_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sums (host) of squared horizontal (*sx) and vertical (*sy) neighbour
 * differences, in double, the same on every run. */
int st_cuda_tv_sums(int dev, const float *x, int64_t planes, int64_t h, int64_t w, double *sx, double *sy);
/* dx = ax * d(sx)/dx + ay * d(sy)/dx, assigned. */
int st_cuda_tv_backward(int dev, float *dx, const float *x, int64_t planes, int64_t h, int64_t w, float ax, float ay);

#ifdef __cplusplus
}
#endif

#endif
