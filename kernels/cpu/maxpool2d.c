/* CPU max pooling. Padding is never read: each window is clipped to the plane
 * (the op guarantees every window holds at least one real cell), which is the
 * same as padding with -inf. */
#include "kernels/cpu/maxpool2d.h"

#include <string.h>

#include "kernels/maxpool2d_window.h"

/* p with explicit pads for an h x w input (TF 'SAME' resolved). */
static st_maxpool2d_params explicit_pads(const st_maxpool2d_params *p, int64_t h, int64_t w) {
  st_maxpool2d_params r = *p;
  if (r.same) {
    st_maxpool2d_same_pads(h, r.kernel_h, r.stride_h, &r.pad_top, &r.pad_bottom);
    st_maxpool2d_same_pads(w, r.kernel_w, r.stride_w, &r.pad_left, &r.pad_right);
    r.same = 0;
  }
  return r;
}

/* Forward and backward share the window rule so that the gradient goes where
 * the value came from. */
static inline int64_t window_argmax(const float *x, int64_t h, int64_t w, int64_t i, int64_t j,
                                    const st_maxpool2d_params *p) {
  return st_maxpool2d_window_argmax(x, h, w, i, j, p->kernel_h, p->kernel_w, p->stride_h, p->stride_w, p->pad_top,
                                    p->pad_left);
}

/* VGG's 2x2 stride-2 pool is most of the pooling work: the same choice as
 * window_argmax (first maximum, first NaN) over four fixed cells, without the
 * clipping and loop overhead. Padding after the input (TF 'SAME' on an odd
 * size) only clips the last row or column of windows, which take the general
 * path (full_2x2 says which). */
static inline int is_vgg_pool(const st_maxpool2d_params *p) {
  return p->kernel_h == 2 && p->kernel_w == 2 && p->stride_h == 2 && p->stride_w == 2 && p->pad_top == 0 &&
         p->pad_left == 0;
}

static inline int full_2x2(int64_t h, int64_t w, int64_t i, int64_t j) { return 2 * i + 1 < h && 2 * j + 1 < w; }

/* Fast paths with selects rather than branches ("v > m" is unpredictable on
 * real data); a window holding a NaN (rare, so predictable) takes the first
 * NaN, as window_argmax does. Ties keep the earlier cell. */
static inline int64_t argmax_2x2(const float *x, int64_t w, int64_t i, int64_t j) {
  const float *r0 = x + 2 * i * w + 2 * j, *r1 = r0 + w;
  float a = r0[0], b = r0[1], c = r1[0], d = r1[1];
  int best;
  if ((a != a) | (b != b) | (c != c) | (d != d)) {
    best = a != a ? 0 : b != b ? 1 : c != c ? 2 : 3;
  } else {
    float m = a;
    best = 0;
    best = b > m ? 1 : best;
    m = b > m ? b : m;
    best = c > m ? 2 : best;
    m = c > m ? c : m;
    best = d > m ? 3 : best;
  }
  return (2 * i + (best >> 1)) * w + 2 * j + (best & 1);
}

static inline float max_2x2(const float *x, int64_t w, int64_t i, int64_t j) {
  const float *r0 = x + 2 * i * w + 2 * j, *r1 = r0 + w;
  float a = r0[0], b = r0[1], c = r1[0], d = r1[1];
  float ab = b > a ? b : a, cd = d > c ? d : c, m = cd > ab ? cd : ab;
  /* any NaN makes the sum NaN, so the NaN propagates as in the general path */
  return ((a != a) | (b != b) | (c != c) | (d != d)) ? a + b + c + d : m;
}

void st_cpu_maxpool2d_forward(float *y, const float *x, int64_t planes, int64_t h, int64_t w, int64_t oh,
                              int64_t ow, const st_maxpool2d_params *p) {
  const st_maxpool2d_params r = explicit_pads(p, h, w);
  p = &r;
  int vgg = is_vgg_pool(p);
#pragma omp parallel for schedule(static)
  for (int64_t q = 0; q < planes; q++) {
    const float *xp = x + q * h * w;
    float *yp = y + q * oh * ow;
    if (vgg) {
      for (int64_t i = 0; i < oh; i++)
        for (int64_t j = 0; j < ow; j++)
          yp[i * ow + j] = full_2x2(h, w, i, j) ? max_2x2(xp, w, i, j) : xp[window_argmax(xp, h, w, i, j, p)];
    } else {
      for (int64_t i = 0; i < oh; i++)
        for (int64_t j = 0; j < ow; j++) yp[i * ow + j] = xp[window_argmax(xp, h, w, i, j, p)];
    }
  }
}

void st_cpu_maxpool2d_backward(float *dx, const float *dy, const float *x, int64_t planes, int64_t h, int64_t w,
                               int64_t oh, int64_t ow, const st_maxpool2d_params *p) {
  const st_maxpool2d_params r = explicit_pads(p, h, w);
  p = &r;
  int vgg = is_vgg_pool(p);
  /* One plane per thread: overlapping windows add into the same dx cells
   * only within a plane, so there is no race. */
#pragma omp parallel for schedule(static)
  for (int64_t q = 0; q < planes; q++) {
    const float *xp = x + q * h * w;
    const float *dyp = dy + q * oh * ow;
    float *dxp = dx + q * h * w;
    memset(dxp, 0, (size_t)(h * w) * sizeof(float));
    if (vgg) {
      for (int64_t i = 0; i < oh; i++)
        for (int64_t j = 0; j < ow; j++)
          dxp[full_2x2(h, w, i, j) ? argmax_2x2(xp, w, i, j) : window_argmax(xp, h, w, i, j, p)] += dyp[i * ow + j];
    } else {
      for (int64_t i = 0; i < oh; i++)
        for (int64_t j = 0; j < ow; j++) dxp[window_argmax(xp, h, w, i, j, p)] += dyp[i * ow + j];
    }
  }
}
