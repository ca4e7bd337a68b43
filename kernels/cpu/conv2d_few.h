/* The few-output-channel direct convolution (K <= 4, stride 1, zero padding
 * read as masked lanes): shared geometry and the AVX2 + FMA version
 * (conv2d_few_avx2.c). The AVX-512 version and the dispatch live in conv2d.c;
 * the AVX2 one runs where cpu_isa.h says AVX-512 is not allowed. */
#ifndef STRATA_KERNELS_CPU_CONV2D_FEW_H
#define STRATA_KERNELS_CPU_CONV2D_FEW_H

typedef struct {
  int C, K, kh, kw, H, W, pt, pl, OH, OW; /* zero padding pt (top), pl (left); the rest is implied by OH, OW */
} st_few_geom;

/* One image: y [K, OH, OW] = conv(x [C, H, W], w [K, C, kh, kw]) + b (b may be NULL). */
void st_few_forward_avx2(const st_few_geom *g, const float *x, const float *w, const float *b, float *y);

/* dw [K, C, kh, kw] += the weight gradient of one image (x [C, H, W], dy [K, OH, OW]). */
void st_few_backward_weights_avx2(const st_few_geom *g, const float *x, const float *dy, float *dw);

/* Which version the few-channel kernel runs now: "avx512", "avx2", or NULL
 * where it cannot run (no AVX2 + FMA, or not x86-64): tests, bench header. */
const char *st_cpu_conv_few_isa(void);

#endif
