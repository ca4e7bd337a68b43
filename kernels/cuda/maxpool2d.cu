/* Max pooling (CUDA). The forward is one thread per output. The backward is
 * one thread per input cell, which visits every window containing the cell
 * (in row-major window order, as the CPU kernel adds them) and takes dy of
 * those whose argmax is the cell: no atomics, no index buffer, and the same
 * sums as the CPU to the last bit. */
#include "kernels/cuda/maxpool2d.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"
#include "kernels/cuda/launch.h"
#include "kernels/maxpool2d_window.h"

/* The window geometry, passed by value to the kernels. */
typedef struct {
  int kh, kw, sh, sw, pt, pl;
} pool_geom;

__device__ __forceinline__ int64_t window_argmax(const float *x, int64_t h, int64_t w, int64_t i, int64_t j,
                                                 pool_geom g) {
  return st_maxpool2d_window_argmax(x, h, w, i, j, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl);
}

__global__ void maxpool2d_forward_kernel(float *y, const float *x, int64_t planes, int64_t h, int64_t w, int64_t oh,
                                         int64_t ow, pool_geom g) {
  ST_CUDA_GRID_LOOP(k, planes * oh * ow) {
    const int64_t j = k % ow, i = (k / ow) % oh, q = k / (ow * oh);
    const float *xp = x + q * h * w;
    y[k] = xp[window_argmax(xp, h, w, i, j, g)];
  }
}

/* The window indices along one axis whose span [i*s - pad, i*s - pad + k)
 * holds position r: lo..hi (empty when lo > hi). */
__device__ __forceinline__ void windows_of(int64_t r, int k, int s, int pad, int64_t n_out, int64_t *lo, int64_t *hi) {
  const int64_t num = r + pad - k + 1; /* i*s >= num */
  *lo = num <= 0 ? 0 : (num + s - 1) / s;
  const int64_t top = (r + pad) / s; /* i*s <= r + pad, r + pad >= 0 */
  *hi = top < n_out - 1 ? top : n_out - 1;
}

__global__ void maxpool2d_backward_kernel(float *dx, const float *dy, const float *x, int64_t planes, int64_t h,
                                          int64_t w, int64_t oh, int64_t ow, pool_geom g) {
  ST_CUDA_GRID_LOOP(k, planes * h * w) {
    const int64_t c = k % w, r = (k / w) % h, q = k / (w * h);
    const float *xp = x + q * h * w, *dyp = dy + q * oh * ow;
    const int64_t cell = r * w + c;
    int64_t i0, i1, j0, j1;
    windows_of(r, g.kh, g.sh, g.pt, oh, &i0, &i1);
    windows_of(c, g.kw, g.sw, g.pl, ow, &j0, &j1);
    float s = 0.0f;
    for (int64_t i = i0; i <= i1; i++)
      for (int64_t j = j0; j <= j1; j++)
        if (window_argmax(xp, h, w, i, j, g) == cell) s += dyp[i * ow + j];
    dx[k] = s;
  }
}

/* The geometry for an h x w input: TF 'SAME' pads follow from the size. */
static pool_geom geom_of(const st_maxpool2d_params *p, int64_t h, int64_t w) {
  pool_geom g = {p->kernel_h, p->kernel_w, p->stride_h, p->stride_w, p->pad_top, p->pad_left};
  if (p->same) {
    int after;
    st_maxpool2d_same_pads(h, p->kernel_h, p->stride_h, &g.pt, &after);
    st_maxpool2d_same_pads(w, p->kernel_w, p->stride_w, &g.pl, &after);
  }
  return g;
}

extern "C" int st_cuda_maxpool2d_forward(int dev, float *y, const float *x, int64_t planes, int64_t h, int64_t w,
                                         int64_t oh, int64_t ow, const st_maxpool2d_params *p) {
  const int64_t total = planes * oh * ow;
  if (total <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  maxpool2d_forward_kernel<<<st_cuda_blocks(total), ST_CUDA_THREADS>>>(y, x, planes, h, w, oh, ow, geom_of(p, h, w));
  ST_CUDA_LAUNCH_CHECK("maxpool2d_forward_kernel");
  return 0;
}

extern "C" int st_cuda_maxpool2d_backward(int dev, float *dx, const float *dy, const float *x, int64_t planes,
                                          int64_t h, int64_t w, int64_t oh, int64_t ow, const st_maxpool2d_params *p) {
  const int64_t total = planes * h * w;
  if (total <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  maxpool2d_backward_kernel<<<st_cuda_blocks(total), ST_CUDA_THREADS>>>(dx, dy, x, planes, h, w, oh, ow,
                                                                        geom_of(p, h, w));
  ST_CUDA_LAUNCH_CHECK("maxpool2d_backward_kernel");
  return 0;
}
