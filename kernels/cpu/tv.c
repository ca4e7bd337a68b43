/* CPU total variation. The forward sums planes in a fixed number of chunks
 * (each in double) and adds the chunk sums in order, so the loss does not
 * depend on the number of threads. */
#include "kernels/cpu/tv.h"

#define TV_CHUNKS 64

void st_cpu_tv_sums(const float *x, int64_t planes, int64_t h, int64_t w, double *sx, double *sy) {
  double px[TV_CHUNKS], py[TV_CHUNKS];
#pragma omp parallel for schedule(static)
  for (int k = 0; k < TV_CHUNKS; k++) {
    int64_t lo = planes * k / TV_CHUNKS, hi = planes * (k + 1) / TV_CHUNKS;
    double a = 0.0, b = 0.0;
    for (int64_t q = lo; q < hi; q++) {
      const float *p = x + q * h * w;
      for (int64_t i = 0; i < h; i++)
        for (int64_t j = 0; j < w; j++) {
          double v = p[i * w + j];
          if (j + 1 < w) {
            double d = p[i * w + j + 1] - v;
            a += d * d;
          }
          if (i + 1 < h) {
            double d = p[(i + 1) * w + j] - v;
            b += d * d;
          }
        }
    }
    px[k] = a;
    py[k] = b;
  }
  double tx = 0.0, ty = 0.0;
  for (int k = 0; k < TV_CHUNKS; k++) {
    tx += px[k];
    ty += py[k];
  }
  *sx = tx;
  *sy = ty;
}

void st_cpu_tv_backward(float *dx, const float *x, int64_t planes, int64_t h, int64_t w, float ax, float ay) {
  /* d/dx[i,j] of sum (x[i,j+1]-x[i,j])^2 is 2(x[i,j]-x[i,j-1]) - 2(x[i,j+1]-x[i,j]),
   * each term present only when that neighbour exists; likewise for rows. */
  float gx = 2.0f * ax, gy = 2.0f * ay;
#pragma omp parallel for schedule(static)
  for (int64_t q = 0; q < planes; q++) {
    const float *p = x + q * h * w;
    float *d = dx + q * h * w;
    for (int64_t i = 0; i < h; i++)
      for (int64_t j = 0; j < w; j++) {
        float v = p[i * w + j], g = 0.0f;
        if (j > 0) g += gx * (v - p[i * w + j - 1]);
        if (j + 1 < w) g -= gx * (p[i * w + j + 1] - v);
        if (i > 0) g += gy * (v - p[(i - 1) * w + j]);
        if (i + 1 < h) g -= gy * (p[(i + 1) * w + j] - v);
        d[i * w + j] = g;
      }
  }
}
