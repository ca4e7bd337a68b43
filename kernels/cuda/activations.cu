/* ReLU and tanh (CUDA): one grid-stride loop each. Each element is read before
 * it is written by the same thread, so in-place use is safe. */
#include "kernels/cuda/activations.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"
#include "kernels/cuda/launch.h"

__global__ void relu_forward_kernel(float *y, const float *x, int64_t n) {
  ST_CUDA_GRID_LOOP(i, n) {
    float v = x[i];
    y[i] = v > 0.0f ? v : 0.0f; /* NaN -> 0, as the CPU kernel */
  }
}

__global__ void relu_backward_kernel(float *dx, const float *dy, const float *y, int64_t n) {
  ST_CUDA_GRID_LOOP(i, n) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

__global__ void tanh_forward_kernel(float *y, const float *x, int64_t n) {
  ST_CUDA_GRID_LOOP(i, n) y[i] = tanhf(x[i]);
}

__global__ void tanh_backward_kernel(float *dx, const float *dy, const float *y, int64_t n) {
  ST_CUDA_GRID_LOOP(i, n) {
    float v = y[i];
    dx[i] = dy[i] * (1.0f - v * v);
  }
}

extern "C" int st_cuda_relu_forward(int dev, float *y, const float *x, int64_t n) {
  if (n <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  relu_forward_kernel<<<st_cuda_blocks(n), ST_CUDA_THREADS>>>(y, x, n);
  ST_CUDA_LAUNCH_CHECK("relu_forward_kernel");
  return 0;
}

extern "C" int st_cuda_relu_backward(int dev, float *dx, const float *dy, const float *y, int64_t n) {
  if (n <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  relu_backward_kernel<<<st_cuda_blocks(n), ST_CUDA_THREADS>>>(dx, dy, y, n);
  ST_CUDA_LAUNCH_CHECK("relu_backward_kernel");
  return 0;
}

extern "C" int st_cuda_tanh_forward(int dev, float *y, const float *x, int64_t n) {
  if (n <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  tanh_forward_kernel<<<st_cuda_blocks(n), ST_CUDA_THREADS>>>(y, x, n);
  ST_CUDA_LAUNCH_CHECK("tanh_forward_kernel");
  return 0;
}

extern "C" int st_cuda_tanh_backward(int dev, float *dx, const float *dy, const float *y, int64_t n) {
  if (n <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  tanh_backward_kernel<<<st_cuda_blocks(n), ST_CUDA_THREADS>>>(dx, dy, y, n);
  ST_CUDA_LAUNCH_CHECK("tanh_backward_kernel");
  return 0;
}
