/* Luminance of one image, chroma of another (CUDA): one thread per pixel.
 * __fmul_rn / __fadd_rn / __fsub_rn keep nvcc from fusing multiply-adds, so
 * every value is rounded in the CPU kernel's order (kernels/cpu/colour.c). */
#include "kernels/cuda/colour.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"
#include "kernels/cuda/launch.h"

__device__ __forceinline__ float clamp255(float v) { return v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v); }

__global__ void preserve_colors_kernel(float *y, const float *lum, const float *chroma, int64_t n) {
  ST_CUDA_GRID_LOOP(i, n) {
    const float r = clamp255(lum[i]), g = clamp255(lum[n + i]), b = clamp255(lum[2 * n + i]);
    const float luma = __fadd_rn(__fadd_rn(__fmul_rn(0.299f, r), __fmul_rn(0.587f, g)), __fmul_rn(0.114f, b));
    const float r0 = chroma[i], g0 = chroma[n + i], b0 = chroma[2 * n + i];
    const float cb = __fadd_rn(__fsub_rn(__fmul_rn(-0.168736f, r0), __fmul_rn(0.331264f, g0)), __fmul_rn(0.5f, b0));
    const float cr = __fsub_rn(__fsub_rn(__fmul_rn(0.5f, r0), __fmul_rn(0.418688f, g0)), __fmul_rn(0.081312f, b0));
    y[i] = __fadd_rn(luma, __fmul_rn(1.402f, cr));
    y[n + i] = __fsub_rn(__fsub_rn(luma, __fmul_rn(0.344136f, cb)), __fmul_rn(0.714136f, cr));
    y[2 * n + i] = __fadd_rn(luma, __fmul_rn(1.772f, cb));
  }
}

extern "C" int st_cuda_preserve_colors(int dev, float *y, const float *lum, const float *chroma, int64_t n) {
  if (n <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  preserve_colors_kernel<<<st_cuda_blocks(n), ST_CUDA_THREADS>>>(y, lum, chroma, n);
  ST_CUDA_LAUNCH_CHECK("preserve_colors_kernel");
  return 0;
}
