/* conv2d on the CPU: im2col + SGEMM, tiled over output rows.
 *
 * Raw contiguous float pointers; shapes were checked by engine/ops/conv2d.c.
 * x [N, C, H, W], w [K, C, kh, kw] (OIHW), b [K] or NULL, y [N, K, OH, OW].
 */
#ifndef STRATA_KERNELS_CPU_CONV2D_H
#define STRATA_KERNELS_CPU_CONV2D_H

typedef struct {
  int N, C, H, W;           /* input */
  int K, kh, kw;            /* output channels, kernel */
  int sh, sw;               /* stride */
  int pt, pb, pl, pr;       /* padding */
  int pad_mode;             /* st_pad_mode: 0 zero, 1 reflect, 2 replicate */
  int OH, OW;               /* output, (H + pt + pb - kh) / sh + 1 etc. */
} st_cpu_conv2d_desc;

/* y = conv(x, w) + b. Returns 0, or -1 (error recorded) when scratch memory is short. */
int st_cpu_conv2d_forward(const st_cpu_conv2d_desc *d, float *y, const float *x, const float *w, const float *b);

/* dx = dL/dx (assigned), dw += dL/dw, db += dL/db; any of the three may be NULL.
 * x is needed only for dw, w only for dx. */
int st_cpu_conv2d_backward(const st_cpu_conv2d_desc *d, float *dx, float *dw, float *db, const float *dy,
                           const float *x, const float *w);

#endif
