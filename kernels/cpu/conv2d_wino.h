/* Winograd F(4x4, 3x3) convolution with AVX2 + FMA transforms, for 3x3
 * stride-1 zero-padded convs where oneDNN 2.6 has only its direct AVX2 kernel
 * (its Winograd is AVX-512 only). Each 4x4 output tile costs 36 products per
 * (input, output) channel pair instead of 144: the input and output tiles are
 * transformed (B^T d B, A^T m A), the 36 elementwise products summed over
 * channels become 36 SGEMMs (dnnl_sgemm, which honours ONEDNN_MAX_CPU_ISA).
 * conv2d.c decides where it runs (choose()); these only check they can.
 *
 * Its rounding error grows with the transforms' constants (up to 8 in A, 1/24
 * in G): a few times that of a direct conv, see tests/unit/test_conv2d_wino.c. */
#ifndef STRATA_KERNELS_CPU_CONV2D_WINO_H
#define STRATA_KERNELS_CPU_CONV2D_WINO_H

#include "kernels/conv2d_desc.h"

/* Scratch for one chunk of tile rows (transformed inputs and products), in
 * floats; at least one tile row is done at a time. Tests shrink it. */
extern long st_wino_chunk_floats;

/* 1 where the kernels can run: x86-64 with AVX2 + FMA allowed by cpu_isa.h. */
int st_wino_available(void);

/* 1 where d is a case they handle: 3x3, stride 1, zero padding of at most 2. */
int st_wino_shape_ok(const st_conv2d_desc *d);

/* y [N, K, OH, OW] = conv(x, w) + b (b may be NULL). Returns 0, 1 when it
 * declines (not available, or the shape is not one it handles), or -1 when
 * scratch memory is short (error recorded). */
int st_wino_conv2d_forward(const st_conv2d_desc *d, float *y, const float *x, const float *w, const float *b);

/* dx [N, C, H, W] = dL/dx (assigned) from dy [N, K, OH, OW]: the forward
 * Winograd conv of dy with the weights flipped and transposed. Same returns. */
int st_wino_conv2d_backward_data(const st_conv2d_desc *d, float *dx, const float *dy, const float *w);

/* dw [K, C, 3, 3] += dL/dw from x and dy: G^T [sum over tiles of
 * (A dy A^T) * (B^T x B)] G, the 36 sums over tiles as GEMMs. Same returns. */
int st_wino_conv2d_backward_weights(const st_conv2d_desc *d, float *dw, const float *dy, const float *x);

#endif
