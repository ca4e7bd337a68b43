/* conv_transpose2d on the CPU: SGEMM + col2im (forward), im2col + SGEMM (backward).
 *
 * Raw contiguous float pointers; shapes were checked by engine/ops/conv_transpose2d.c.
 * x [N, Ci, H, W], w [Ci, Co, kh, kw], b [Co] or NULL, y [N, Co, OH, OW] where
 * y[.., r, c] is row r + crop_top, column c + crop_left of the full
 * ((H-1)*sh + kh) x ((W-1)*sw + kw) output (zero past its end).
 */
#ifndef STRATA_KERNELS_CPU_CONV_TRANSPOSE2D_H
#define STRATA_KERNELS_CPU_CONV_TRANSPOSE2D_H

#include "kernels/conv_transpose2d_desc.h"

/* Returns 0, or -1 (error recorded) when scratch memory is short. */
int st_cpu_conv_transpose2d_forward(const st_conv_transpose2d_desc *d, float *y, const float *x, const float *w,
                                    const float *b);

/* dx assigned, dw and db accumulated; any may be NULL. x is needed only for dw, w only for dx. */
int st_cpu_conv_transpose2d_backward(const st_conv_transpose2d_desc *d, float *dx, float *dw, float *db,
                                     const float *dy, const float *x, const float *w);

#endif
