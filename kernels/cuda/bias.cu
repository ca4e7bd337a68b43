/* Per-channel bias and its gradient (see bias.h). */
#include "kernels/cuda/bias.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/reduce.h"

__global__ void bias_add_kernel(float *y, const float *b, int64_t total, int64_t K, int64_t HW) {
  ST_CUDA_GRID_LOOP(i, total) y[i] += b[(i / HW) % K];
}

/* One block per channel k. */
__global__ void bias_grad_kernel(float *db, const float *dy, int64_t N, int64_t K, int64_t HW) {
  const int64_t k = blockIdx.x;
  double s = 0.0, unused = 0.0;
  for (int64_t n = 0; n < N; n++) {
    const float *p = dy + (n * K + k) * HW;
    for (int64_t i = threadIdx.x; i < HW; i += blockDim.x) s += (double)p[i];
  }
  st_block_sum2(s, unused);
  if (threadIdx.x == 0) db[k] += (float)s;
}

int st_cuda_bias_add(int dev, float *y, const float *b, int64_t N, int64_t K, int64_t HW) {
  const int64_t total = N * K * HW;
  if (total <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  bias_add_kernel<<<st_cuda_blocks(total), ST_CUDA_THREADS>>>(y, b, total, K, HW);
  ST_CUDA_LAUNCH_CHECK("bias_add_kernel");
  return 0;
}

int st_cuda_bias_grad(int dev, float *db, const float *dy, int64_t N, int64_t K, int64_t HW) {
  if (K <= 0) return 0;
  if (K > 2147483647LL)
    return st_error("conv bias gradient: %lld channels are more than one CUDA grid holds", (long long)K);
  if (st_cuda_use_device(dev) != 0) return -1;
  bias_grad_kernel<<<(unsigned)K, 512>>>(db, dy, N, K, HW);
  ST_CUDA_LAUNCH_CHECK("bias_grad_kernel");
  return 0;
}
