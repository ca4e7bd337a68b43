/* Luminance of one image, chroma of another (see colour.h for the formulas). */
#include "colour.h"

static inline float clamp255(float v) { return v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v); }

void st_cpu_preserve_colors(float *y, const float *lum, const float *chroma, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; i++) {
    float r = clamp255(lum[i]), g = clamp255(lum[n + i]), b = clamp255(lum[2 * n + i]);
    float luma = 0.299f * r + 0.587f * g + 0.114f * b;
    float r0 = chroma[i], g0 = chroma[n + i], b0 = chroma[2 * n + i];
    /* Cb - 128 and Cr - 128 of the original */
    float cb = -0.168736f * r0 - 0.331264f * g0 + 0.5f * b0;
    float cr = 0.5f * r0 - 0.418688f * g0 - 0.081312f * b0;
    y[i] = luma + 1.402f * cr;
    y[n + i] = luma - 0.344136f * cb - 0.714136f * cr;
    y[2 * n + i] = luma + 1.772f * cb;
  }
}
