/* 2-D padding (CPU). Each output row is its source row (or zeros) with the
 * few border columns looked up; the interior is a plain copy. */
#include "kernels/cpu/pad2d.h"

#include <string.h>

void st_cpu_pad2d_forward(float *y, const float *x, int64_t planes, int64_t H, int64_t W, int top, int bottom,
                          int left, int right, st_pad_mode mode) {
  const int64_t OH = H + top + bottom, OW = W + left + right;
#pragma omp parallel for collapse(2) if (planes * OH * OW >= 32768)
  for (int64_t p = 0; p < planes; p++) {
    for (int64_t oy = 0; oy < OH; oy++) {
      float *yr = y + (p * OH + oy) * OW;
      int64_t sy = st_cpu_pad_index(oy - top, H, mode);
      if (sy < 0) {
        memset(yr, 0, (size_t)OW * sizeof(float));
        continue;
      }
      const float *xr = x + (p * H + sy) * W;
      for (int64_t ox = 0; ox < left; ox++) {
        int64_t sx = st_cpu_pad_index(ox - left, W, mode);
        yr[ox] = sx < 0 ? 0.0f : xr[sx];
      }
      memcpy(yr + left, xr, (size_t)W * sizeof(float));
      for (int64_t ox = left + W; ox < OW; ox++) {
        int64_t sx = st_cpu_pad_index(ox - left, W, mode);
        yr[ox] = sx < 0 ? 0.0f : xr[sx];
      }
    }
  }
}

void st_cpu_pad2d_backward(float *dx, const float *dy, int64_t planes, int64_t H, int64_t W, int top, int bottom,
                           int left, int right, st_pad_mode mode) {
  const int64_t OH = H + top + bottom, OW = W + left + right;
  /* One plane per iteration: reflected and replicated rows add into the same
   * dx row, so a plane must stay with one thread. */
#pragma omp parallel for if (planes * OH * OW >= 32768)
  for (int64_t p = 0; p < planes; p++) {
    float *dxp = dx + p * H * W;
    memset(dxp, 0, (size_t)(H * W) * sizeof(float));
    for (int64_t oy = 0; oy < OH; oy++) {
      int64_t sy = st_cpu_pad_index(oy - top, H, mode);
      if (sy < 0) continue;
      const float *dyr = dy + (p * OH + oy) * OW;
      float *dxr = dxp + sy * W;
      for (int64_t ox = 0; ox < left; ox++) {
        int64_t sx = st_cpu_pad_index(ox - left, W, mode);
        if (sx >= 0) dxr[sx] += dyr[ox];
      }
      for (int64_t i = 0; i < W; i++) dxr[i] += dyr[left + i];
      for (int64_t ox = left + W; ox < OW; ox++) {
        int64_t sx = st_cpu_pad_index(ox - left, W, mode);
        if (sx >= 0) dxr[sx] += dyr[ox];
      }
    }
  }
}
