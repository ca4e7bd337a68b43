/* FCRN interleaving (CUDA): pure data movement, one thread per element of the
 * quarter maps (it moves that element's 2x2 block of y), so the results are
 * the CPU's exactly. */
#include "kernels/cuda/interleave.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"
#include "kernels/cuda/launch.h"

/* Element q = r * w + j of the quarter maps, r = plane * h + i, sits at rows
 * 2r (even: a, c) and 2r + 1 (odd: b, d), columns 2j and 2j + 1 of y. */
__global__ void interleave_forward_kernel(float *y, const float *a, const float *b, const float *c, const float *d,
                                          int64_t w, int64_t n) {
  ST_CUDA_GRID_LOOP(q, n) {
    const int64_t r = q / w, j = q - r * w;
    float *even = y + 4 * r * w + 2 * j, *odd = even + 2 * w;
    even[0] = a[q];
    even[1] = c[q];
    odd[0] = b[q];
    odd[1] = d[q];
  }
}

__global__ void interleave_backward_kernel(float *da, float *db, float *dc, float *dd, const float *dy, int64_t w,
                                           int64_t n) {
  ST_CUDA_GRID_LOOP(q, n) {
    const int64_t r = q / w, j = q - r * w;
    const float *even = dy + 4 * r * w + 2 * j, *odd = even + 2 * w;
    if (da) da[q] = even[0];
    if (dc) dc[q] = even[1];
    if (db) db[q] = odd[0];
    if (dd) dd[q] = odd[1];
  }
}

extern "C" int st_cuda_interleave_forward(int dev, float *y, const float *a, const float *b, const float *c,
                                          const float *d, int64_t planes, int64_t h, int64_t w) {
  const int64_t n = planes * h * w;
  if (n <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  interleave_forward_kernel<<<st_cuda_blocks(n), ST_CUDA_THREADS>>>(y, a, b, c, d, w, n);
  ST_CUDA_LAUNCH_CHECK("interleave_forward_kernel");
  return 0;
}

extern "C" int st_cuda_interleave_backward(int dev, float *da, float *db, float *dc, float *dd, const float *dy,
                                           int64_t planes, int64_t h, int64_t w) {
  const int64_t n = planes * h * w;
  if (n <= 0 || (!da && !db && !dc && !dd)) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  interleave_backward_kernel<<<st_cuda_blocks(n), ST_CUDA_THREADS>>>(da, db, dc, dd, dy, w, n);
  ST_CUDA_LAUNCH_CHECK("interleave_backward_kernel");
  return 0;
}
