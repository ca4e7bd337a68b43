/* conv2d on the CPU: oneDNN (kernels/cpu/dnnl_conv.c) where the build has it
 * and it is faster, else im2col + SGEMM tiled over output rows.
 *
 * Raw contiguous float pointers; shapes were checked by engine/ops/conv2d.c.
 * x [N, C, H, W], w [K, C, kh, kw] (OIHW), b [K] or NULL, y [N, K, OH, OW].
 */
#ifndef STRATA_KERNELS_CPU_CONV2D_H
#define STRATA_KERNELS_CPU_CONV2D_H

#include "kernels/conv2d_desc.h"

/* y = conv(x, w) + b. Returns 0, or -1 (error recorded) when scratch memory is short. */
int st_cpu_conv2d_forward(const st_conv2d_desc *d, float *y, const float *x, const float *w, const float *b);

/* dx = dL/dx (assigned), dw += dL/dw, db += dL/db; any of the three may be NULL.
 * x is needed only for dw, w only for dx. */
int st_cpu_conv2d_backward(const st_conv2d_desc *d, float *dx, float *dw, float *db, const float *dy,
                           const float *x, const float *w);

/* Which implementation runs: ST_CONV_AUTO (default: a fixed per-shape rule,
 * see conv2d.c) or one forced for every case it supports (tests, benchmarks).
 * The environment variable STRATA_CONV=im2col|direct|winograd|few|wino forces one
 * too while this stays ST_CONV_AUTO. DIRECT and WINOGRAD are oneDNN's
 * (Winograd for 3x3 stride-1 convs with >= 16 channels and >= 16x16 outputs,
 * direct for the rest; im2col without
 * oneDNN); FEW is the direct kernel for K <= 4 at stride 1, AVX-512 or, under
 * ONEDNN_MAX_CPU_ISA=AVX2 or on AVX2-only CPUs, AVX2 + FMA (forward
 * and weight gradient; the rest runs as AUTO); WINO is strata's own AVX2
 * Winograd F(4x4, 3x3) (conv2d_wino.h) for the forward and data gradient of
 * every 3x3 stride-1 conv with pads <= 2 wherever AVX2 + FMA is allowed (AUTO
 * uses it only under an AVX2 cap or on AVX2-only CPUs; the rest runs as
 * AUTO). conv_transpose2d uses oneDNN
 * unless IM2COL is forced. */
enum { ST_CONV_AUTO = 0, ST_CONV_IM2COL, ST_CONV_DIRECT, ST_CONV_WINOGRAD, ST_CONV_FEW, ST_CONV_WINO };
extern int st_cpu_conv_impl;
/* st_cpu_conv_impl, or the environment's choice when that is ST_CONV_AUTO. */
int st_cpu_conv_effective_impl(void);

#endif
