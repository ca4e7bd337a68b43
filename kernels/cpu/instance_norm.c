/* Instance norm (CPU), one plane per OpenMP iteration.
 *
 * Statistics are accumulated in double: a plane can hold ~337k pixels whose
 * values sit far from zero (raw 0..255 input), where float sums lose digits.
 * Sums are taken about the plane's first value (a shift that leaves the
 * variance unchanged) so sum of squares does not cancel catastrophically. */
#include "kernels/cpu/instance_norm.h"

#include <math.h>
#include <stdlib.h>

#include "error.h"

void st_cpu_instance_norm_forward(float *y, float *mean, float *rstd, const float *x, const float *gamma,
                                  const float *beta, int64_t N, int64_t C, int64_t HW, float eps) {
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t p = 0; p < N * C; p++) {
    const float *xp = x + p * HW;
    float *yp = y + p * HW;
    int64_t c = p % C;
    double shift = xp[0], s = 0.0, ss = 0.0;
#pragma omp simd reduction(+ : s, ss)
    for (int64_t i = 0; i < HW; i++) {
      double d = (double)xp[i] - shift;
      s += d;
      ss += d * d;
    }
    double dm = s / (double)HW;
    double m = shift + dm;
    double var = ss / (double)HW - dm * dm;
    if (var < 0.0) var = 0.0;
    double r = 1.0 / sqrt(var + (double)eps);
    if (mean) mean[p] = (float)m;
    if (rstd) rstd[p] = (float)r;
    /* The mean as a float pair hi + lo: x - hi is exact for x near the mean
     * (Sterbenz), so y keeps its precision even when |mean| >> std. */
    float hi = (float)m, lo = (float)(m - (double)hi);
    float g = gamma ? gamma[c] : 1.0f, b = beta ? beta[c] : 0.0f;
    float scale = (float)((double)g * r);
#pragma omp simd
    for (int64_t i = 0; i < HW; i++) yp[i] = ((xp[i] - hi) - lo) * scale + b;
  }
}

int st_cpu_instance_norm_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                                  const float *mean, const float *rstd, const float *gamma, int64_t N, int64_t C,
                                  int64_t HW) {
  /* Per-plane sums of dy and dy*xhat; reduced over n afterwards in a fixed
   * order so parameter gradients are reproducible run to run. */
  double *sums = malloc((size_t)(N * C) * 2 * sizeof(double));
  if (!sums) return st_error("instance norm backward: out of memory for %lld plane sums", (long long)(N * C));
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t p = 0; p < N * C; p++) {
    const float *xp = x + p * HW, *dyp = dy + p * HW;
    const float m = mean[p], r = rstd[p];
    double sdy = 0.0, sdyx = 0.0;
#pragma omp simd reduction(+ : sdy, sdyx)
    for (int64_t i = 0; i < HW; i++) {
      double d = dyp[i];
      sdy += d;
      sdyx += d * (double)((xp[i] - m) * r);
    }
    sums[2 * p] = sdy;
    sums[2 * p + 1] = sdyx;
    if (dx) {
      /* dx = g*r * (dy - mean(dy) - xhat * mean(dy*xhat)) */
      float g = gamma ? gamma[p % C] : 1.0f;
      float k = g * r, a = (float)(sdy / (double)HW), bq = (float)(sdyx / (double)HW);
      float *dxp = dx + p * HW;
#pragma omp simd
      for (int64_t i = 0; i < HW; i++) dxp[i] = k * (dyp[i] - a - (xp[i] - m) * r * bq);
    }
  }
  for (int64_t c = 0; c < C; c++) {
    double sdy = 0.0, sdyx = 0.0;
    for (int64_t n = 0; n < N; n++) {
      sdy += sums[2 * (n * C + c)];
      sdyx += sums[2 * (n * C + c) + 1];
    }
    if (dbeta) dbeta[c] += (float)sdy;
    if (dgamma) dgamma[c] += (float)sdyx;
  }
  free(sums);
  return 0;
}
