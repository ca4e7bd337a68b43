/* 2-D padding of [planes][H][W] float arrays (CPU) into [planes][H+top+bottom][W+left+right].
 * Reflect needs every pad < its dimension, replicate non-empty dimensions;
 * the caller checks that. */
#ifndef STRATA_KERNELS_CPU_PAD2D_H
#define STRATA_KERNELS_CPU_PAD2D_H

#include <stdint.h>

#include "kernels/pad_mode.h"

/* The source index along a dimension of size n for padded index i - pad_before,
 * or -1 where zero padding reads nothing. */
static inline int64_t st_cpu_pad_index(int64_t i, int64_t n, st_pad_mode mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case ST_PAD_REFLECT: return i < 0 ? -i : 2 * (n - 1) - i;
    case ST_PAD_REPLICATE: return i < 0 ? 0 : n - 1;
    default: return -1;
  }
}

void st_cpu_pad2d_forward(float *y, const float *x, int64_t planes, int64_t H, int64_t W, int top, int bottom,
                          int left, int right, st_pad_mode mode);
/* dx (assigned) = the sum over every position of y that copies each x element. */
void st_cpu_pad2d_backward(float *dx, const float *dy, int64_t planes, int64_t H, int64_t W, int top, int bottom,
                           int left, int right, st_pad_mode mode);

#endif
