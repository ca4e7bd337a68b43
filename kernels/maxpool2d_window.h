/* The max-pooling window rule shared by kernels/cpu/maxpool2d.c and
 * kernels/cuda/maxpool2d.cu (one definition, so both devices pick the same
 * cell): the offset within an h x w plane of window (i, j)'s maximum, the
 * window clipped to the plane (the same as -inf padding); the first maximum
 * in row-major order (strict >), or the first NaN, as PyTorch picks. */
#ifndef STRATA_KERNELS_MAXPOOL2D_WINDOW_H
#define STRATA_KERNELS_MAXPOOL2D_WINDOW_H

#include <stdint.h>

#ifdef __CUDACC__
#define ST_MAXPOOL_FN static __host__ __device__ __forceinline__
#else
#define ST_MAXPOOL_FN static inline
#endif

ST_MAXPOOL_FN int64_t st_maxpool2d_window_argmax(const float *x, int64_t h, int64_t w, int64_t i, int64_t j, int kh,
                                                 int kw, int sh, int sw, int pad_top, int pad_left) {
  int64_t h0 = i * sh - pad_top, w0 = j * sw - pad_left;
  int64_t h1 = h0 + kh, w1 = w0 + kw;
  if (h0 < 0) h0 = 0;
  if (w0 < 0) w0 = 0;
  if (h1 > h) h1 = h;
  if (w1 > w) w1 = w;
  int64_t best = h0 * w + w0;
  float m = x[best];
  if (m != m) return best;
  for (int64_t r = h0; r < h1; r++)
    for (int64_t c = w0; c < w1; c++) {
      float v = x[r * w + c];
      if (v > m) {
        m = v;
        best = r * w + c;
      } else if (v != v) {
        return r * w + c;
      }
    }
  return best;
}

/* TensorFlow 'SAME' pooling along one axis of n cells: ceil(n / s) windows;
 * the padding needed beyond the input, (out - 1) * s + k - n (at most k - 1,
 * so every window holds a real cell), goes half before (rounded down) and the
 * rest after. Returns the output size. */
ST_MAXPOOL_FN int64_t st_maxpool2d_same_pads(int64_t n, int k, int s, int *before, int *after) {
  int64_t out = (n + s - 1) / s;
  int64_t total = (out - 1) * s + k - n;
  if (total < 0) total = 0;
  *before = (int)(total / 2);
  *after = (int)(total - total / 2);
  return out;
}

#endif
