/* FCRN interleaving (CPU): a pure data movement, one output row pair per
 * OpenMP iteration (even row from a and c, odd row from b and d). */
#include "kernels/cpu/interleave.h"

void st_cpu_interleave_forward(float *y, const float *a, const float *b, const float *c, const float *d,
                               int64_t planes, int64_t h, int64_t w) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < planes * h; r++) { /* r = plane * h + i */
    const int64_t off = r * w;
    float *even = y + 2 * r * 2 * w, *odd = even + 2 * w;
    for (int64_t j = 0; j < w; j++) {
      even[2 * j] = a[off + j];
      even[2 * j + 1] = c[off + j];
      odd[2 * j] = b[off + j];
      odd[2 * j + 1] = d[off + j];
    }
  }
}

void st_cpu_interleave_backward(float *da, float *db, float *dc, float *dd, const float *dy, int64_t planes,
                                int64_t h, int64_t w) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < planes * h; r++) {
    const int64_t off = r * w;
    const float *even = dy + 2 * r * 2 * w, *odd = even + 2 * w;
    for (int64_t j = 0; j < w; j++) {
      if (da) da[off + j] = even[2 * j];
      if (dc) dc[off + j] = even[2 * j + 1];
      if (db) db[off + j] = odd[2 * j];
      if (dd) dd[off + j] = odd[2 * j + 1];
    }
  }
}
