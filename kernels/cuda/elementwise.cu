/* Elementwise arithmetic (CUDA). */
#include "kernels/cuda/elementwise.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"
#include "kernels/cuda/launch.h"

__global__ void add_kernel(float *y, const float *a, const float *b, int64_t n) {
  ST_CUDA_GRID_LOOP(i, n) y[i] = a[i] + b[i];
}

__global__ void affine_kernel(float *y, const float *x, float scale, float shift, int64_t n) {
  /* Multiply then add, rounded separately as the CPU kernel does (no FMA). */
  ST_CUDA_GRID_LOOP(i, n) y[i] = __fadd_rn(__fmul_rn(x[i], scale), shift);
}

extern "C" int st_cuda_add_forward(int dev, float *y, const float *a, const float *b, int64_t n) {
  if (n <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  add_kernel<<<st_cuda_blocks(n), ST_CUDA_THREADS>>>(y, a, b, n);
  ST_CUDA_LAUNCH_CHECK("add_kernel");
  return 0;
}

extern "C" int st_cuda_affine_forward(int dev, float *y, const float *x, float scale, float shift, int64_t n) {
  if (n <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  affine_kernel<<<st_cuda_blocks(n), ST_CUDA_THREADS>>>(y, x, scale, shift, n);
  ST_CUDA_LAUNCH_CHECK("affine_kernel");
  return 0;
}
