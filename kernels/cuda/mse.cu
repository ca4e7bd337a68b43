/* Squared differences (CUDA): a fixed grid of partial sums in double, then
 * st_cuda_finish_sums, so the loss does not change from run to run. */
#include "kernels/cuda/mse.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/reduce.h"

extern "C" {
#include "engine/device.h"
#include "engine/memory.h"
}

__global__ void sqdiff_partial_kernel(double *part, const float *a, const float *b, int64_t total, int64_t inner,
                                      int bc) {
  double s = 0.0, unused = 0.0;
  ST_CUDA_GRID_LOOP(i, total) {
    double d = (double)a[i] - (double)b[bc ? i % inner : i];
    s += d * d;
  }
  st_block_sum2(s, unused);
  if (threadIdx.x == 0) part[blockIdx.x] = s;
}

__global__ void sqdiff_grad_kernel(float *da, float *db, const float *a, const float *b, int64_t total,
                                   int64_t inner, int bc, float scale) {
  ST_CUDA_GRID_LOOP(i, total) {
    float d = a[i] - b[bc ? i % inner : i];
    if (da) da[i] = scale * d;
    if (db) db[i] = -scale * d;
  }
}

/* db[j] = -scale * sum_n (a[n, j] - b[j]), in double, n in order. */
__global__ void sqdiff_broadcast_db_kernel(float *db, const float *a, const float *b, int64_t outer, int64_t inner,
                                           float scale) {
  ST_CUDA_GRID_LOOP(j, inner) {
    double s = 0.0;
    for (int64_t n = 0; n < outer; n++) s += (double)a[n * inner + j] - (double)b[j];
    db[j] = (float)(-(double)scale * s);
  }
}

extern "C" int st_cuda_sqdiff_sum(int dev, double *sum, const float *a, const float *b, int64_t outer, int64_t inner,
                                  int b_broadcast) {
  const int64_t total = outer * inner;
  *sum = 0.0;
  if (total <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  int rc = -1;
  int nb = (int)st_cuda_blocks(total);
  if (nb > ST_CUDA_REDUCE_BLOCKS) nb = ST_CUDA_REDUCE_BLOCKS;
  double *part = (double *)st_mem_alloc(st_cuda(dev), (size_t)nb * sizeof(double), "sqdiff partial sums");
  if (!part) return -1;
  sqdiff_partial_kernel<<<nb, ST_CUDA_THREADS>>>(part, a, b, total, inner, b_broadcast);
  ST_CUDA_LAUNCH_CHECK_GOTO("sqdiff_partial_kernel", done);
  if (st_cuda_finish_sums(dev, part, nb, 1, sum) != 0) goto done;
  rc = 0;
done:
  st_mem_free(st_cuda(dev), part);
  return rc;
}

extern "C" int st_cuda_sqdiff_backward(int dev, float *da, float *db, const float *a, const float *b, int64_t outer,
                                       int64_t inner, int b_broadcast, float scale) {
  const int64_t total = outer * inner;
  if (total <= 0 || (!da && !db)) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  float *db_elem = b_broadcast ? NULL : db;
  if (da || db_elem) {
    sqdiff_grad_kernel<<<st_cuda_blocks(total), ST_CUDA_THREADS>>>(da, db_elem, a, b, total, inner, b_broadcast,
                                                                   scale);
    ST_CUDA_LAUNCH_CHECK("sqdiff_grad_kernel");
  }
  if (db && b_broadcast) {
    sqdiff_broadcast_db_kernel<<<st_cuda_blocks(inner), ST_CUDA_THREADS>>>(db, a, b, outer, inner, scale);
    ST_CUDA_LAUNCH_CHECK("sqdiff_broadcast_db_kernel");
  }
  return 0;
}
