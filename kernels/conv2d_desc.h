/* One conv2d's geometry, filled by engine/ops/conv2d.c after its checks and
 * read alike by the CPU kernel (kernels/cpu/conv2d.c) and the CUDA one
 * (kernels/cuda/conv2d.cu): device-neutral, as kernels/maxpool2d_window.h.
 * x [N, C, H, W], w [K, C, kh, kw] (OIHW), y [N, K, OH, OW]. */
#ifndef STRATA_KERNELS_CONV2D_DESC_H
#define STRATA_KERNELS_CONV2D_DESC_H

typedef struct {
  int N, C, H, W;           /* input */
  int K, kh, kw;            /* output channels, kernel */
  int sh, sw;               /* stride */
  int pt, pb, pl, pr;       /* padding */
  int pad_mode;             /* st_pad_mode (kernels/pad_mode.h): 0 zero, 1 reflect, 2 replicate */
  int OH, OW;               /* output, (H + pt + pb - kh) / sh + 1 etc. */
} st_conv2d_desc;

#endif
