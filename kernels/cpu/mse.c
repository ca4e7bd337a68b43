/* CPU squared differences. The forward sums in a fixed number of chunks, each
 * in double, and adds the chunk sums in order, so the loss does not depend on
 * the number of OpenMP threads. */
#include "kernels/cpu/mse.h"

#define SQDIFF_CHUNKS 64

double st_cpu_sqdiff_sum(const float *a, const float *b, int64_t outer, int64_t inner, int b_broadcast) {
  int64_t total = outer * inner;
  double part[SQDIFF_CHUNKS];
#pragma omp parallel for schedule(static)
  for (int k = 0; k < SQDIFF_CHUNKS; k++) {
    int64_t lo = total * k / SQDIFF_CHUNKS, hi = total * (k + 1) / SQDIFF_CHUNKS;
    double s = 0.0;
    for (int64_t i = lo; i < hi; i++) {
      double d = (double)a[i] - (double)b[b_broadcast ? i % inner : i];
      s += d * d;
    }
    part[k] = s;
  }
  double s = 0.0;
  for (int k = 0; k < SQDIFF_CHUNKS; k++) s += part[k];
  return s;
}

void st_cpu_sqdiff_backward(float *da, float *db, const float *a, const float *b, int64_t outer, int64_t inner,
                            int b_broadcast, float scale) {
  int64_t total = outer * inner;
  if (da) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < total; i++) da[i] = scale * (a[i] - b[b_broadcast ? i % inner : i]);
  }
  if (db && !b_broadcast) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < total; i++) db[i] = -scale * (a[i] - b[i]);
  } else if (db) {
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < inner; j++) {
      double s = 0.0;
      for (int64_t n = 0; n < outer; n++) s += (double)a[n * inner + j] - (double)b[j];
      db[j] = (float)(-(double)scale * s);
    }
  }
}
