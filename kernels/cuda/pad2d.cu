/* 2-D padding (CUDA). The forward is one thread per output element; the
 * backward is one thread per input element that gathers every padded copy of
 * it (no atomics, so the result is reproducible). */
#include "kernels/cuda/pad2d.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"
#include "kernels/cuda/launch.h"

/* The source index along a dimension of size n for padded index i (already
 * shifted by the pad before), or -1 where zero padding reads nothing; as
 * st_cpu_pad_index. */
__device__ __forceinline__ int64_t pad_index(int64_t i, int64_t n, int mode) {
  if (i >= 0 && i < n) return i;
  if (mode == ST_PAD_REFLECT) return i < 0 ? -i : 2 * (n - 1) - i;
  if (mode == ST_PAD_REPLICATE) return i < 0 ? 0 : n - 1;
  return -1;
}

/* The padded positions q (in [-before, n - 1 + after], unshifted) that copy
 * source index i, as up to three ranges lo[k]..hi[k]; returns their count. */
__device__ __forceinline__ int copies_of(int64_t i, int64_t n, int before, int after, int mode, int64_t lo[3],
                                         int64_t hi[3]) {
  int k = 0;
  if (mode == ST_PAD_REPLICATE) {
    lo[0] = i == 0 ? -(int64_t)before : i;
    hi[0] = i == n - 1 ? n - 1 + after : i;
    return 1;
  }
  lo[k] = hi[k] = i;
  k++;
  if (mode == ST_PAD_REFLECT) {
    if (i >= 1 && i <= before) { /* q = -i reflects to i */
      lo[k] = hi[k] = -i;
      k++;
    }
    if (i <= n - 2 && i >= n - 1 - after) { /* q = 2(n-1) - i reflects to i */
      lo[k] = hi[k] = 2 * (n - 1) - i;
      k++;
    }
  }
  return k;
}

__global__ void pad2d_forward_kernel(float *y, const float *x, int64_t total, int64_t H, int64_t W, int top, int left,
                                     int64_t OH, int64_t OW, int mode) {
  ST_CUDA_GRID_LOOP(k, total) {
    const int64_t ox = k % OW, oy = (k / OW) % OH, p = k / (OW * OH);
    const int64_t sy = pad_index(oy - top, H, mode), sx = pad_index(ox - left, W, mode);
    y[k] = (sy < 0 || sx < 0) ? 0.0f : x[(p * H + sy) * W + sx];
  }
}

__global__ void pad2d_backward_kernel(float *dx, const float *dy, int64_t total, int64_t H, int64_t W, int top,
                                      int bottom, int left, int right, int64_t OH, int64_t OW, int mode) {
  ST_CUDA_GRID_LOOP(k, total) {
    const int64_t j = k % W, i = (k / W) % H, p = k / (W * H);
    int64_t rlo[3], rhi[3], clo[3], chi[3];
    const int nr = copies_of(i, H, top, bottom, mode, rlo, rhi);
    const int nc = copies_of(j, W, left, right, mode, clo, chi);
    const float *dyp = dy + p * OH * OW;
    float s = 0.0f;
    for (int a = 0; a < nr; a++)
      for (int64_t q = rlo[a]; q <= rhi[a]; q++)
        for (int b = 0; b < nc; b++)
          for (int64_t u = clo[b]; u <= chi[b]; u++) s += dyp[(q + top) * OW + (u + left)];
    dx[k] = s;
  }
}

extern "C" int st_cuda_pad2d_forward(int dev, float *y, const float *x, int64_t planes, int64_t H, int64_t W, int top,
                                     int bottom, int left, int right, st_pad_mode mode) {
  const int64_t OH = H + top + bottom, OW = W + left + right, total = planes * OH * OW;
  if (total <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  pad2d_forward_kernel<<<st_cuda_blocks(total), ST_CUDA_THREADS>>>(y, x, total, H, W, top, left, OH, OW, (int)mode);
  ST_CUDA_LAUNCH_CHECK("pad2d_forward_kernel");
  return 0;
}

extern "C" int st_cuda_pad2d_backward(int dev, float *dx, const float *dy, int64_t planes, int64_t H, int64_t W,
                                      int top, int bottom, int left, int right, st_pad_mode mode) {
  const int64_t OH = H + top + bottom, OW = W + left + right, total = planes * H * W;
  if (total <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  pad2d_backward_kernel<<<st_cuda_blocks(total), ST_CUDA_THREADS>>>(dx, dy, total, H, W, top, bottom, left, right, OH,
                                                                    OW, (int)mode);
  ST_CUDA_LAUNCH_CHECK("pad2d_backward_kernel");
  return 0;
}
