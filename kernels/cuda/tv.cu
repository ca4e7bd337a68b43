/* Total variation (CUDA): partial sums per block in double, then
 * st_cuda_finish_sums; the gradient is one thread per pixel. */
#include "kernels/cuda/tv.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/reduce.h"

extern "C" {
#include "engine/device.h"
#include "engine/memory.h"
}

/* part[blk] = this block's horizontal sum, part[nblocks + blk] the vertical one. */
__global__ void tv_partial_kernel(double *part, const float *x, int64_t total, int64_t h, int64_t w) {
  double a = 0.0, b = 0.0;
  ST_CUDA_GRID_LOOP(k, total) {
    const int64_t j = k % w, i = (k / w) % h;
    const double v = x[k];
    if (j + 1 < w) {
      double d = (double)x[k + 1] - v;
      a += d * d;
    }
    if (i + 1 < h) {
      double d = (double)x[k + w] - v;
      b += d * d;
    }
  }
  st_block_sum2(a, b);
  if (threadIdx.x == 0) {
    part[blockIdx.x] = a;
    part[gridDim.x + blockIdx.x] = b;
  }
}

__global__ void tv_backward_kernel(float *dx, const float *x, int64_t total, int64_t h, int64_t w, float gx,
                                   float gy) {
  /* d/dx[i,j] of sum (x[i,j+1]-x[i,j])^2 is 2(x[i,j]-x[i,j-1]) - 2(x[i,j+1]-x[i,j]),
   * each term present only when that neighbour exists; likewise for rows.
   * Accumulated in the CPU kernel's order. */
  ST_CUDA_GRID_LOOP(k, total) {
    const int64_t j = k % w, i = (k / w) % h;
    const float v = x[k];
    float g = 0.0f;
    if (j > 0) g += gx * (v - x[k - 1]);
    if (j + 1 < w) g -= gx * (x[k + 1] - v);
    if (i > 0) g += gy * (v - x[k - w]);
    if (i + 1 < h) g -= gy * (x[k + w] - v);
    dx[k] = g;
  }
}

extern "C" int st_cuda_tv_sums(int dev, const float *x, int64_t planes, int64_t h, int64_t w, double *sx, double *sy) {
  const int64_t total = planes * h * w;
  *sx = *sy = 0.0;
  if (total <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  int rc = -1;
  double sums[2];
  int nb = (int)st_cuda_blocks(total);
  if (nb > ST_CUDA_REDUCE_BLOCKS) nb = ST_CUDA_REDUCE_BLOCKS;
  double *part = (double *)st_mem_alloc(st_cuda(dev), 2 * (size_t)nb * sizeof(double), "tv partial sums");
  if (!part) return -1;
  tv_partial_kernel<<<nb, ST_CUDA_THREADS>>>(part, x, total, h, w);
  ST_CUDA_LAUNCH_CHECK_GOTO("tv_partial_kernel", done);
  if (st_cuda_finish_sums(dev, part, nb, 2, sums) != 0) goto done;
  *sx = sums[0];
  *sy = sums[1];
  rc = 0;
done:
  st_mem_free(st_cuda(dev), part);
  return rc;
}

extern "C" int st_cuda_tv_backward(int dev, float *dx, const float *x, int64_t planes, int64_t h, int64_t w, float ax,
                                   float ay) {
  const int64_t total = planes * h * w;
  if (total <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  tv_backward_kernel<<<st_cuda_blocks(total), ST_CUDA_THREADS>>>(dx, x, total, h, w, 2.0f * ax, 2.0f * ay);
  ST_CUDA_LAUNCH_CHECK("tv_backward_kernel");
  return 0;
}
