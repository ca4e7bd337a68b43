/* Instance norm on raw device arrays (CUDA twin of kernels/cpu/instance_norm.h):
 * x is [N*C planes][HW], gamma and beta are [C] (NULL: 1 and 0), mean and rstd
 * are [N*C] (NULL: not saved). Return 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_INSTANCE_NORM_H
#define STRATA_KERNELS_CUDA_INSTANCE_NORM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y = gamma[c] * (x - mean) * rstd + beta[c] per plane, biased variance,
 * rstd = 1/sqrt(var + eps). y may alias x. */
int st_cuda_instance_norm_forward(int dev, float *y, float *mean, float *rstd, const float *x, const float *gamma,
                                  const float *beta, int64_t N, int64_t C, int64_t HW, float eps);

/* dx (assigned; may alias dy), dgamma and dbeta (accumulated) from dy and the
 * saved mean/rstd; any of dx, dgamma, dbeta may be NULL. */
int st_cuda_instance_norm_backward(int dev, float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                                   const float *mean, const float *rstd, const float *gamma, int64_t N, int64_t C,
                                   int64_t HW);

#ifdef __cplusplus
}
#endif

#endif
