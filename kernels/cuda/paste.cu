/* Pasting an image into another (CUDA): one thread per source element. */
#include "kernels/cuda/paste.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"
#include "kernels/cuda/launch.h"

__global__ void paste_kernel(float *dst, const float *src, int64_t total, int64_t H, int64_t W, int64_t h, int64_t w,
                             int64_t r0, int64_t c0) {
  ST_CUDA_GRID_LOOP(k, total) {
    const int64_t j = k % w, i = (k / w) % h, c = k / (w * h);
    const int64_t r = r0 + i, q = c0 + j;
    if (r >= 0 && r < H && q >= 0 && q < W) dst[(c * H + r) * W + q] = src[k];
  }
}

extern "C" int st_cuda_paste(int dev, float *dst, const float *src, int64_t C, int64_t H, int64_t W, int64_t h,
                             int64_t w, int64_t r0, int64_t c0) {
  const int64_t total = C * h * w;
  if (total <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  paste_kernel<<<st_cuda_blocks(total), ST_CUDA_THREADS>>>(dst, src, total, H, W, h, w, r0, c0);
  ST_CUDA_LAUNCH_CHECK("paste_kernel");
  return 0;
}
