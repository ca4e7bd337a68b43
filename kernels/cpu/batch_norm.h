/* Batch norm with fixed statistics on raw float arrays (CPU): x is N x C
 * planes of HW values; mean, var, gamma, beta are [C] (gamma, beta NULL: 1, 0). */
#ifndef STRATA_KERNELS_CPU_BATCH_NORM_H
#define STRATA_KERNELS_CPU_BATCH_NORM_H

#include <stdint.h>

/* y = (x - mean[c]) * rstd[c] * gamma[c] + beta[c]; y may alias x. The caller
 * has checked var[c] + eps > 0 (engine/ops/batch_norm.c). Returns 0. */
int st_cpu_batch_norm_forward(float *y, const float *x, const float *mean, const float *var, const float *gamma,
                              const float *beta, int64_t N, int64_t C, int64_t HW, float eps);

/* dx = dy * gamma[c] * rstd[c] (assigned; may alias dy); dbeta[c] += sum dy;
 * dgamma[c] += sum dy * (x - mean) * rstd (x needed only then). Any of dx,
 * dgamma, dbeta may be NULL. Returns 0. */
int st_cpu_batch_norm_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                               const float *mean, const float *var, const float *gamma, int64_t N, int64_t C,
                               int64_t HW, float eps);

#endif
