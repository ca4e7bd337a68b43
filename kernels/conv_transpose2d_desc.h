/* One conv_transpose2d's geometry, filled by engine/ops/conv_transpose2d.c
 * after its checks and read alike by the CPU and CUDA kernels (device-neutral).
 * x [N, Ci, H, W], w [Ci, Co, kh, kw], y [N, Co, OH, OW]: y[.., r, c] is row
 * r + crop_top, column c + crop_left of the full ((H-1)*sh + kh) x
 * ((W-1)*sw + kw) output (zero past its end). */
#ifndef STRATA_KERNELS_CONV_TRANSPOSE2D_DESC_H
#define STRATA_KERNELS_CONV_TRANSPOSE2D_DESC_H

typedef struct {
  int N, Ci, H, W;          /* input */
  int Co, kh, kw;           /* output channels, kernel */
  int sh, sw;               /* stride */
  int crop_top, crop_left;  /* offset of y inside the full output */
  int OH, OW;               /* y's size */
} st_conv_transpose2d_desc;

#endif
