/* Instance norm on raw float arrays (CPU): x is [N*C planes][HW], gamma and
 * beta are [C] (NULL: 1 and 0), mean and rstd are [N*C] (NULL: not saved). */
#ifndef STRATA_KERNELS_CPU_INSTANCE_NORM_H
#define STRATA_KERNELS_CPU_INSTANCE_NORM_H

#include <stdint.h>

/* y = gamma[c] * (x - mean) * rstd + beta[c] per plane, biased variance,
 * rstd = 1/sqrt(var + eps). y may alias x. */
void st_cpu_instance_norm_forward(float *y, float *mean, float *rstd, const float *x, const float *gamma,
                                  const float *beta, int64_t N, int64_t C, int64_t HW, float eps);

/* dx (assigned; may alias dy), dgamma and dbeta (accumulated) from dy and the
 * saved mean/rstd; any of dx, dgamma, dbeta may be NULL. Returns 0, or -1 with
 * an error when scratch memory runs out. */
int st_cpu_instance_norm_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                                  const float *mean, const float *rstd, const float *gamma, int64_t N, int64_t C,
                                  int64_t HW);

#endif
