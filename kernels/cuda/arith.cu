/* Tensor arithmetic (CUDA): grid-stride loops; the operation is the same for
 * every thread, so the switch costs no divergence. */
#include "kernels/cuda/arith.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"
#include "kernels/cuda/launch.h"

__device__ __forceinline__ float apply(st_arith_op op, float a, float b) {
  switch (op) {
    case ST_ARITH_ADD: return __fadd_rn(a, b);
    case ST_ARITH_SUB: return __fsub_rn(a, b);
    case ST_ARITH_MUL: return __fmul_rn(a, b);
    case ST_ARITH_DIV: break;
  }
  return __fdiv_rn(a, b);
}

__global__ void arith_kernel(float *y, const float *a, const float *b, int64_t n, st_arith_op op) {
  ST_CUDA_GRID_LOOP(i, n) y[i] = apply(op, a[i], b[i]);
}

__global__ void arith_scalar_kernel(float *y, const float *x, float s, int scalar_first, int64_t n, st_arith_op op) {
  ST_CUDA_GRID_LOOP(i, n) y[i] = scalar_first ? apply(op, s, x[i]) : apply(op, x[i], s);
}

__global__ void abs_kernel(float *y, const float *x, int64_t n) {
  ST_CUDA_GRID_LOOP(i, n) y[i] = fabsf(x[i]);
}

__global__ void axpy_kernel(float *y, float alpha, const float *x, int64_t n) {
  ST_CUDA_GRID_LOOP(i, n) y[i] = __fadd_rn(y[i], __fmul_rn(alpha, x[i]));
}

extern "C" int st_cuda_arith(int dev, float *y, const float *a, const float *b, int64_t n, st_arith_op op) {
  if (n <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  arith_kernel<<<st_cuda_blocks(n), ST_CUDA_THREADS>>>(y, a, b, n, op);
  ST_CUDA_LAUNCH_CHECK("arith_kernel");
  return 0;
}

extern "C" int st_cuda_arith_scalar(int dev, float *y, const float *x, float s, int scalar_first, int64_t n,
                                    st_arith_op op) {
  if (n <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  arith_scalar_kernel<<<st_cuda_blocks(n), ST_CUDA_THREADS>>>(y, x, s, scalar_first, n, op);
  ST_CUDA_LAUNCH_CHECK("arith_scalar_kernel");
  return 0;
}

extern "C" int st_cuda_abs(int dev, float *y, const float *x, int64_t n) {
  if (n <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  abs_kernel<<<st_cuda_blocks(n), ST_CUDA_THREADS>>>(y, x, n);
  ST_CUDA_LAUNCH_CHECK("abs_kernel");
  return 0;
}

extern "C" int st_cuda_axpy(int dev, float *y, float alpha, const float *x, int64_t n) {
  if (n <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  axpy_kernel<<<st_cuda_blocks(n), ST_CUDA_THREADS>>>(y, alpha, x, n);
  ST_CUDA_LAUNCH_CHECK("axpy_kernel");
  return 0;
}
