/* Batch norm with fixed statistics on raw device arrays (CUDA twin of
 * kernels/cpu/batch_norm.h): x is N x C planes of HW values; mean, var, gamma,
 * beta are [C] (gamma, beta NULL: 1, 0). The caller has checked every
 * var[c] + eps > 0 (engine/ops/batch_norm.c), so nothing here waits for the
 * device. Return 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_BATCH_NORM_H
#define STRATA_KERNELS_CUDA_BATCH_NORM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y = (x - mean[c]) * (gamma[c] * rstd[c]) + beta[c]; y may alias x. */
int st_cuda_batch_norm_forward(int dev, float *y, const float *x, const float *mean, const float *var,
                               const float *gamma, const float *beta, int64_t N, int64_t C, int64_t HW, float eps);

/* dx = dy * gamma[c] * rstd[c] (assigned; may alias dy); dbeta[c] += sum dy;
 * dgamma[c] += sum dy * (x - mean) * rstd (x read only then). Any of dx,
 * dgamma, dbeta may be NULL. */
int st_cuda_batch_norm_backward(int dev, float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                                const float *mean, const float *var, const float *gamma, int64_t N, int64_t C,
                                int64_t HW, float eps);

#ifdef __cplusplus
}
#endif

#endif
