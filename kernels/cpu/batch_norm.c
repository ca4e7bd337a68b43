/* Batch norm with fixed statistics (CPU): a per-channel affine map, one plane
 * per OpenMP iteration. rstd is taken in double so that it is the correctly
 * rounded 1/sqrt(var + eps) whatever the variance's magnitude. */
#include "kernels/cpu/batch_norm.h"

#include <math.h>
#include <stddef.h>


static inline float rstd_of(const float *var, int64_t c, float eps) {
  return (float)(1.0 / sqrt((double)var[c] + (double)eps));
}

int st_cpu_batch_norm_forward(float *y, const float *x, const float *mean, const float *var, const float *gamma,
                              const float *beta, int64_t N, int64_t C, int64_t HW, float eps) {
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < N * C; p++) {
    const int64_t c = p % C;
    const float *xp = x + p * HW;
    float *yp = y + p * HW;
    const float m = mean[c], b = beta ? beta[c] : 0.0f;
    const float s = (float)((gamma ? (double)gamma[c] : 1.0) / sqrt((double)var[c] + (double)eps));
#pragma omp simd
    for (int64_t i = 0; i < HW; i++) yp[i] = (xp[i] - m) * s + b;
  }
  return 0;
}

int st_cpu_batch_norm_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                               const float *mean, const float *var, const float *gamma, int64_t N, int64_t C,
                               int64_t HW, float eps) {
  if (dgamma || dbeta) {
    /* One channel per iteration, images in order: reproducible sums. */
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t c = 0; c < C; c++) {
      const float m = mean[c], r = rstd_of(var, c, eps);
      double sdy = 0.0, sdyx = 0.0;
      for (int64_t n = 0; n < N; n++) {
        const float *dyp = dy + (n * C + c) * HW;
        const float *xp = dgamma ? x + (n * C + c) * HW : NULL;
        if (xp) {
#pragma omp simd reduction(+ : sdy, sdyx)
          for (int64_t i = 0; i < HW; i++) {
            sdy += dyp[i];
            sdyx += (double)dyp[i] * (double)((xp[i] - m) * r);
          }
        } else {
#pragma omp simd reduction(+ : sdy)
          for (int64_t i = 0; i < HW; i++) sdy += dyp[i];
        }
      }
      if (dbeta) dbeta[c] += (float)sdy;
      if (dgamma) dgamma[c] += (float)sdyx;
    }
  }
  if (dx) {
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < N * C; p++) {
      const int64_t c = p % C;
      const float s = (float)((gamma ? (double)gamma[c] : 1.0) / sqrt((double)var[c] + (double)eps));
      const float *dyp = dy + p * HW;
      float *dxp = dx + p * HW;
#pragma omp simd
      for (int64_t i = 0; i < HW; i++) dxp[i] = dyp[i] * s;
    }
  }
  return 0;
}
