/* Per-channel bias for the convolutions on the device: y[n, k, :] += b[k],
 * and its gradient db[k] += sum over n and the plane of dy[n, k, :].
 * C++ only (used by conv2d.cu and conv_transpose2d.cu). Return 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_BIAS_H
#define STRATA_KERNELS_CUDA_BIAS_H

#include <stdint.h>

int st_cuda_bias_add(int dev, float *y, const float *b, int64_t N, int64_t K, int64_t HW);
/* Summed in double, in a fixed order (reproducible), added to db as float. */
int st_cuda_bias_grad(int dev, float *db, const float *dy, int64_t N, int64_t K, int64_t HW);

#endif
