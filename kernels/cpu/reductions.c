/* Whole-array reductions (CPU): serial scans, so the sum's rounding is that
 * of index order and the same on every run. */
#include "kernels/cpu/reductions.h"

#include <math.h>

double st_cpu_sum(const float *x, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; i++) s += x[i];
  return s;
}

void st_cpu_min_max(float *mn, float *mx, const float *x, int64_t n) {
  float lo = x[0], hi = x[0];
  for (int64_t i = 1; i < n; i++) {
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  *mn = lo;
  *mx = hi;
}

int st_cpu_all_finite(const float *x, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (!isfinite(x[i])) return 0;
  return 1;
}
