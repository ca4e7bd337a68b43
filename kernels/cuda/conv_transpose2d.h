/* conv_transpose2d on the device through cuDNN (CUDA twin of
 * kernels/cpu/conv_transpose2d.h).
 *
 * Raw contiguous device pointers; shapes were checked by
 * engine/ops/conv_transpose2d.c, which fills the descriptor (kernels/conv_transpose2d_desc.h)
 * the CPU kernel takes too. x [N, Ci, H, W], w [Ci, Co, kh, kw], b [Co] or NULL,
 * y [N, Co, OH, OW]: rows crop_top.. and columns crop_left.. of the full
 * ((H-1)*sh + kh) x ((W-1)*sw + kw) output (zero past its end).
 * Return 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_CONV_TRANSPOSE2D_H
#define STRATA_KERNELS_CUDA_CONV_TRANSPOSE2D_H

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/conv_transpose2d_desc.h"

int st_cuda_conv_transpose2d_forward(int dev, const st_conv_transpose2d_desc *d, float *y, const float *x,
                                     const float *w, const float *b);

/* dx assigned, dw and db accumulated; any may be NULL. x is needed only for
 * dw, w only for dx. */
int st_cuda_conv_transpose2d_backward(int dev, const st_conv_transpose2d_desc *d, float *dx, float *dw, float *db,
                                      const float *dy, const float *x, const float *w);

#ifdef __cplusplus
}
#endif

#endif
