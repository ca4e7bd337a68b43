/* The few-output-channel convolution (conv2d_few.h) with AVX2 + FMA: the
 * same scheme as the AVX-512 kernel in conv2d.c with 8-lane vectors and 16
 * registers, so fewer vectors per block (K x V accumulators + K weights + 1
 * input <= 16). Lanes outside the image are masked loads (vmaskmovps does
 * not fault on masked-off lanes), so the image is never copied. */
#include "kernels/cpu/conv2d_few.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma")))
/* Vectors of 8 outputs per forward block, and taps per weight-gradient task. */
#define FEW2_V(K) ((K) == 1 ? 8 : (K) == 2 ? 6 : (K) == 3 ? 4 : 3)
#define FEW2_JB(K) ((K) == 1 ? 12 : (K) == 2 ? 6 : (K) == 3 ? 4 : 3)

/* Lanes l of 8 with 0 <= q + l < W (and l < n): all bits set where valid. */
AVX2_INLINE __m256i lanes(long q, int W, int n) {
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i t = _mm256_add_epi32(iota, _mm256_set1_epi32((int)q));
  const __m256i ge0 = _mm256_cmpgt_epi32(t, _mm256_set1_epi32(-1));
  const __m256i ltw = _mm256_cmpgt_epi32(_mm256_set1_epi32(W), t);
  const __m256i ltn = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), iota);
  return _mm256_and_si256(_mm256_and_si256(ge0, ltw), ltn);
}

/* y[k, oh, ow0 .. ow0 + 8V) for k < K; masked: some lane reads outside the row. */
AVX2_INLINE void fwd_block(const int K, const int V, const int masked, const st_few_geom *g, const float *x,
                           const float *w, const float *b, float *y, int oh, int ow0) {
  __m256 acc[4][8];
  const long HW = (long)g->H * g->W, wk = (long)g->C * g->kh * g->kw, P = (long)g->OH * g->OW;
#pragma GCC unroll 4
  for (int k = 0; k < K; k++) {
    const __m256 v0 = _mm256_set1_ps(b ? b[k] : 0.0f);
#pragma GCC unroll 8
    for (int v = 0; v < V; v++) acc[k][v] = v0;
  }
  for (int c = 0; c < g->C; c++) {
    for (int i = 0; i < g->kh; i++) {
      const int ih = oh + i - g->pt;
      if (ih < 0 || ih >= g->H) continue; /* a zero row */
      const float *row = x + c * HW + (long)ih * g->W + (ow0 - g->pl);
      const float *wr = w + ((long)c * g->kh + i) * g->kw;
      for (int j = 0; j < g->kw; j++) {
        __m256 wv[4];
#pragma GCC unroll 4
        for (int k = 0; k < K; k++) wv[k] = _mm256_broadcast_ss(wr + k * wk + j);
#pragma GCC unroll 8
        for (int v = 0; v < V; v++) {
          __m256 xv = masked ? _mm256_maskload_ps(row + j + 8 * v, lanes((long)ow0 - g->pl + j + 8 * v, g->W, 8))
                             : _mm256_loadu_ps(row + j + 8 * v);
          __asm__("" : "+x"(xv)); /* one load per vector, not one folded into every FMA */
#pragma GCC unroll 4
          for (int k = 0; k < K; k++) acc[k][v] = _mm256_fmadd_ps(wv[k], xv, acc[k][v]);
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int v = 0; v < V; v++) {
    const int n = g->OW - ow0 - 8 * v;
    if (n <= 0) break;
#pragma GCC unroll 4
    for (int k = 0; k < K; k++) {
      float *dst = y + k * P + (long)oh * g->OW + ow0 + 8 * v;
      if (n >= 8) _mm256_storeu_ps(dst, acc[k][v]);
      else _mm256_maskstore_ps(dst, lanes(0, 8, n), acc[k][v]);
    }
  }
}

#define FWD(K) (masked ? fwd_block(K, FEW2_V(K), 1, g, x, w, b, y, oh, ow0) \
                       : fwd_block(K, FEW2_V(K), 0, g, x, w, b, y, oh, ow0))

/* One block; its own target function because the OpenMP body is outlined without it. */
static AVX2 void fwd_task(const st_few_geom *g, const float *x, const float *w, const float *b, float *y, int oh,
                          int ow0) {
  const int width = 8 * FEW2_V(g->K);
  const int masked = ow0 - g->pl < 0 || ow0 + width - 1 + g->kw - 1 - g->pl >= g->W;
  switch (g->K) {
  case 1: FWD(1); break;
  case 2: FWD(2); break;
  case 3: FWD(3); break;
  default: FWD(4); break;
  }
}

void st_few_forward_avx2(const st_few_geom *g, const float *x, const float *w, const float *b, float *y) {
  const int width = 8 * FEW2_V(g->K), nb = (g->OW + width - 1) / width;
#pragma omp parallel for schedule(static)
  for (int t = 0; t < g->OH * nb; t++) fwd_task(g, x, w, b, y, t / nb, (t % nb) * width);
}

AVX2_INLINE float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* out[k*JB + j] = sum over (oh, ow) of dy[k, oh, ow] * x[c, oh + i - pt, ow + j0 + j - pl] (zero outside). */
AVX2_INLINE void bwdw_task(const int K, const int JB, const st_few_geom *g, const float *x, const float *dy, int c,
                           int i, int j0, float *out) {
  __m256 acc[4][12];
  const long HW = (long)g->H * g->W, P = (long)g->OH * g->OW;
#pragma GCC unroll 4
  for (int k = 0; k < K; k++)
#pragma GCC unroll 12
    for (int j = 0; j < JB; j++) acc[k][j] = _mm256_setzero_ps();
  const int q0 = j0 - g->pl; /* input column of output column 0 at tap j0 */
  for (int oh = 0; oh < g->OH; oh++) {
    const int ih = oh + i - g->pt;
    if (ih < 0 || ih >= g->H) continue;
    const float *row = x + c * HW + (long)ih * g->W + q0;
    const float *d = dy + (long)oh * g->OW;
    for (int ow = 0; ow < g->OW; ow += 8) {
      const int n = g->OW - ow;
      __m256 dv[4];
      if (n >= 8 && ow + q0 >= 0 && ow + q0 + 7 + JB - 1 < g->W) { /* every lane of every tap inside */
#pragma GCC unroll 4
        for (int k = 0; k < K; k++) dv[k] = _mm256_loadu_ps(d + k * P + ow);
#pragma GCC unroll 12
        for (int j = 0; j < JB; j++) {
          __m256 xv = _mm256_loadu_ps(row + ow + j);
          __asm__("" : "+x"(xv));
#pragma GCC unroll 4
          for (int k = 0; k < K; k++) acc[k][j] = _mm256_fmadd_ps(dv[k], xv, acc[k][j]);
        }
      } else {
        const __m256i m = lanes(0, 8, n);
#pragma GCC unroll 4
        for (int k = 0; k < K; k++) dv[k] = _mm256_maskload_ps(d + k * P + ow, m);
#pragma GCC unroll 12
        for (int j = 0; j < JB; j++) {
          __m256 xv = _mm256_maskload_ps(row + ow + j, lanes((long)ow + q0 + j, g->W, n));
          __asm__("" : "+x"(xv));
#pragma GCC unroll 4
          for (int k = 0; k < K; k++) acc[k][j] = _mm256_fmadd_ps(dv[k], xv, acc[k][j]);
        }
      }
    }
  }
#pragma GCC unroll 4
  for (int k = 0; k < K; k++)
#pragma GCC unroll 12
    for (int j = 0; j < JB; j++) out[k * JB + j] = hsum(acc[k][j]);
}

static AVX2 void bwdw_run(const st_few_geom *g, const float *x, const float *dy, int c, int i, int j0,
                          float out[48]) {
  switch (g->K) {
  case 1: bwdw_task(1, FEW2_JB(1), g, x, dy, c, i, j0, out); break;
  case 2: bwdw_task(2, FEW2_JB(2), g, x, dy, c, i, j0, out); break;
  case 3: bwdw_task(3, FEW2_JB(3), g, x, dy, c, i, j0, out); break;
  default: bwdw_task(4, FEW2_JB(4), g, x, dy, c, i, j0, out); break;
  }
}

void st_few_backward_weights_avx2(const st_few_geom *g, const float *x, const float *dy, float *dw) {
  const int JB = FEW2_JB(g->K), nj = (g->kw + JB - 1) / JB;
#pragma omp parallel for schedule(static)
  for (int t = 0; t < g->C * g->kh * nj; t++) {
    const int c = t / (g->kh * nj), i = (t / nj) % g->kh, j0 = (t % nj) * JB;
    float out[48];
    bwdw_run(g, x, dy, c, i, j0, out);
    for (int k = 0; k < g->K; k++)
      for (int j = 0; j < JB && j0 + j < g->kw; j++)
        dw[(((long)k * g->C + c) * g->kh + i) * g->kw + j0 + j] += out[k * JB + j];
  }
}
#else
/* Not x86-64: conv2d.c never calls these (cpu_isa.h reports ST_ISA_BASE). */
void st_few_forward_avx2(const st_few_geom *g, const float *x, const float *w, const float *b, float *y) {
  (void)g, (void)x, (void)w, (void)b, (void)y;
}
void st_few_backward_weights_avx2(const st_few_geom *g, const float *x, const float *dy, float *dw) {
  (void)g, (void)x, (void)dy, (void)dw;
}
#endif
