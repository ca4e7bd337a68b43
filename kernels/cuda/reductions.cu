/* Whole-array reductions (CUDA). Sums and counts: a fixed grid of partial
 * sums in double, then st_cuda_finish_sums (reproducible). Minimum and
 * maximum: per-block results (exact, so order does not matter) combined on
 * the host. */
#include "kernels/cuda/reductions.h"

#include <math.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/reduce.h"

extern "C" {
#include "engine/device.h"
#include "engine/memory.h"
}

/* part[blk] = this block's sum of x, part[nblocks + blk] its count of non-finite elements. */
__global__ void sum_partial_kernel(double *part, const float *x, int64_t n) {
  double s = 0.0, bad = 0.0;
  ST_CUDA_GRID_LOOP(i, n) {
    s += x[i];
    if (!isfinite(x[i])) bad += 1.0;
  }
  st_block_sum2(s, bad);
  if (threadIdx.x == 0) {
    part[blockIdx.x] = s;
    part[gridDim.x + blockIdx.x] = bad;
  }
}

/* part[2 blk], part[2 blk + 1] = this block's smallest and largest non-NaN
 * element (+inf and -inf when it has none). blockDim.x is ST_CUDA_THREADS. */
__global__ void min_max_partial_kernel(float *part, const float *x, int64_t n) {
  __shared__ float lo_s[ST_CUDA_THREADS], hi_s[ST_CUDA_THREADS];
  float lo = INFINITY, hi = -INFINITY;
  ST_CUDA_GRID_LOOP(i, n) {
    const float v = x[i]; /* NaN fails both comparisons: skipped */
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  const int t = threadIdx.x;
  lo_s[t] = lo;
  hi_s[t] = hi;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (t < s) {
      lo_s[t] = lo_s[t + s] < lo_s[t] ? lo_s[t + s] : lo_s[t];
      hi_s[t] = hi_s[t + s] > hi_s[t] ? hi_s[t + s] : hi_s[t];
    }
    __syncthreads();
  }
  if (t == 0) {
    part[2 * blockIdx.x] = lo_s[0];
    part[2 * blockIdx.x + 1] = hi_s[0];
  }
}

static int reduce_blocks(int64_t n) {
  int nb = (int)st_cuda_blocks(n);
  return nb > ST_CUDA_REDUCE_BLOCKS ? ST_CUDA_REDUCE_BLOCKS : nb;
}

/* out[0] = sum, out[1] = count of non-finite elements. */
static int sum_and_bad(int dev, const float *x, int64_t n, double out[2]) {
  out[0] = out[1] = 0.0;
  if (n <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  int rc = -1, nb = reduce_blocks(n);
  double *part = (double *)st_mem_alloc(st_cuda(dev), (size_t)(2 * nb) * sizeof(double), "sum partial sums");
  if (!part) return -1;
  sum_partial_kernel<<<nb, ST_CUDA_THREADS>>>(part, x, n);
  ST_CUDA_LAUNCH_CHECK_GOTO("sum_partial_kernel", done);
  if (st_cuda_finish_sums(dev, part, nb, 2, out) != 0) goto done;
  rc = 0;
done:
  st_mem_free(st_cuda(dev), part);
  return rc;
}

extern "C" int st_cuda_sum(int dev, double *sum, const float *x, int64_t n) {
  double r[2];
  if (sum_and_bad(dev, x, n, r) != 0) return -1;
  *sum = r[0];
  return 0;
}

extern "C" int st_cuda_all_finite(int dev, int *all, const float *x, int64_t n) {
  double r[2];
  if (sum_and_bad(dev, x, n, r) != 0) return -1;
  *all = r[1] == 0.0;
  return 0;
}

extern "C" int st_cuda_min_max(int dev, float *mn, float *mx, const float *x, int64_t n) {
  if (n < 1) return st_error("st_cuda_min_max: no elements");
  if (st_cuda_use_device(dev) != 0) return -1;
  int rc = -1, nb = reduce_blocks(n);
  float first, host[2 * ST_CUDA_REDUCE_BLOCKS];
  float *part = (float *)st_mem_alloc(st_cuda(dev), (size_t)(2 * nb) * sizeof(float), "min/max partials");
  if (!part) return -1;
  min_max_partial_kernel<<<nb, ST_CUDA_THREADS>>>(part, x, n);
  ST_CUDA_LAUNCH_CHECK_GOTO("min_max_partial_kernel", done);
  ST_CUDA_CHECK_GOTO(cudaMemcpy(host, part, (size_t)(2 * nb) * sizeof(float), cudaMemcpyDeviceToHost), done);
  ST_CUDA_CHECK_GOTO(cudaMemcpy(&first, x, sizeof(float), cudaMemcpyDeviceToHost), done);
  *mn = host[0];
  *mx = host[1];
  for (int b = 1; b < nb; b++) {
    *mn = host[2 * b] < *mn ? host[2 * b] : *mn;
    *mx = host[2 * b + 1] > *mx ? host[2 * b + 1] : *mx;
  }
  if (isnan(first)) *mn = *mx = first;
  rc = 0;
done:
  st_mem_free(st_cuda(dev), part);
  return rc;
}
