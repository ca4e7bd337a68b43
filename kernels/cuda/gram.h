/* Gram matrices on the device through cuBLAS (CUDA twin of kernels/cpu/gram.h):
 * g[n] = F F^T * scale, F = x[n] as c x hw. Return 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_GRAM_H
#define STRATA_KERNELS_CUDA_GRAM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int st_cuda_gram_forward(int dev, float *g, const float *x, int64_t n, int64_t c, int64_t hw, float scale);
/* dx[n] = (dg[n] + dg[n]^T) F * scale, assigned. */
int st_cuda_gram_backward(int dev, float *dx, const float *dg, const float *x, int64_t n, int64_t c, int64_t hw,
                          float scale);

#ifdef __cplusplus
}
#endif

#endif
