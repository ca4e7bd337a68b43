#include "conv2d.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/memory.h"
#include "kernels/cpu/blas_threads.h"
#include "kernels/cpu/conv2d_few.h"
#include "kernels/cpu/conv2d_wino.h"
#include "kernels/cpu/cpu_isa.h"
#include "dnnl_conv.h"
#include "im2col.h"

/* Three implementations, picked per shape and pass by choose() at the end:
 * oneDNN (kernels/cpu/dnnl_conv.c) for most convs, a direct AVX-512 kernel
 * for few output channels, and the im2col lowerings below (everything in
 * builds without oneDNN).
 *
 * Two lowerings of the same convolution, both tiled so scratch stays bounded:
 *
 * - standard: col = im2col(x) has C*kh*kw rows, one column per output
 *   position; y = w @ col.
 * - dual (stride 1 only): Z = w' @ x has K*kh*kw rows, one column per input
 *   position (w' is w with taps flipped, laid out [K*kh*kw, C]); y = col2im(Z).
 *   With few output channels (the transformer's last 9x9 conv 32->3) this
 *   moves ~10x less memory than the standard path, whose GEMM would have only
 *   3 rows. Backward mirrors it: im2col(dy) gives both dx and dw.
 *
 * The im2col loops outside the GEMMs are serial on purpose: OpenBLAS
 * (pthreads) threads the GEMMs, and idle OpenMP workers spinning after a
 * parallel region take the cores those GEMM threads need (measured: 2x slower
 * end to end unless libgomp's spinning is cut short, see engine/main.c). */

/* ---- reflect / replicate padding: done into a per-image temporary so the
 * convolution proper only ever sees zero padding. ---- */

/* Source index in [0, n) of padded position p (p - before may be outside). */
static int pad_src(int p, int before, int n, int mode) {
  int t = p - before;
  if (mode == 1) { /* reflect without repeating the edge */
    if (t < 0) t = -t;
    if (t >= n) t = 2 * (n - 1) - t;
  } else { /* replicate */
    if (t < 0) t = 0;
    if (t >= n) t = n - 1;
  }
  return t;
}

static void pad_image(const st_conv2d_desc *d, const int *rt, const int *ct, int Hp, int Wp, const float *x,
                      float *xp) {
  for (int c = 0; c < d->C; c++) {
    const float *src = x + (long)c * d->H * d->W;
    float *dst = xp + (long)c * Hp * Wp;
    for (int i = 0; i < Hp; i++, dst += Wp) {
      const float *row = src + (long)rt[i] * d->W;
      for (int j = 0; j < d->pl; j++) dst[j] = row[ct[j]];
      memcpy(dst + d->pl, row, sizeof(float) * (size_t)d->W);
      for (int j = d->pl + d->W; j < Wp; j++) dst[j] = row[ct[j]];
    }
  }
}

/* dx = the padded gradient with every copy summed back onto its source. */
static void unpad_image(const st_conv2d_desc *d, const int *rt, const int *ct, int Hp, int Wp, const float *dxp,
                        float *dx) {
  for (int c = 0; c < d->C; c++) {
    const float *src = dxp + (long)c * Hp * Wp;
    float *dst = dx + (long)c * d->H * d->W;
    memset(dst, 0, sizeof(float) * (size_t)d->H * (size_t)d->W);
    for (int i = 0; i < Hp; i++, src += Wp) {
      float *row = dst + (long)rt[i] * d->W;
      for (int j = 0; j < Wp; j++) row[ct[j]] += src[j];
    }
  }
}

/* ---- flipped weights for the dual path: wt[(k, a, b), c] = w[k, c, kh-1-a, kw-1-b] ---- */

static void flip_weights(const st_conv2d_desc *d, const float *w, float *wt) {
  for (int k = 0; k < d->K; k++)
    for (int c = 0; c < d->C; c++)
      for (int i = 0; i < d->kh; i++)
        for (int j = 0; j < d->kw; j++)
          wt[(((long)k * d->kh + (d->kh - 1 - i)) * d->kw + (d->kw - 1 - j)) * d->C + c] =
              w[(((long)k * d->C + c) * d->kh + i) * d->kw + j];
}

static void unflip_add(const st_conv2d_desc *d, const float *dwt, float *dw) {
  for (int k = 0; k < d->K; k++)
    for (int c = 0; c < d->C; c++)
      for (int i = 0; i < d->kh; i++)
        for (int j = 0; j < d->kw; j++)
          dw[(((long)k * d->C + c) * d->kh + i) * d->kw + j] +=
              dwt[(((long)k * d->kh + (d->kh - 1 - i)) * d->kw + (d->kw - 1 - j)) * d->C + c];
}

static void bias_grad(int N, int K, long P, const float *dy, float *db);

/* ---- shared set-up ---- */

typedef struct {
  int Hi, Wi;           /* the input the lowering sees: x, or x pre-padded */
  int pt, pl;           /* its zero padding before */
  int padded;           /* reflect/replicate with a non-zero pad: use a temporary */
  int pointwise;        /* 1x1, stride 1, no padding: x itself is the column matrix */
  int dual;             /* use the dual lowering (see top) */
  st_cpu_im2col_geom g; /* standard: image = input, grid = output; dual: image = output, grid = input */
  int tile;             /* grid rows per tile */
  int *tab;             /* padding source rows [Hi] then columns [Wi], when padded */
  float *col, *xp, *dxp, *wt, *dwt;
} plan;

static float *scratch(size_t n, const char *what) {
  return st_mem_alloc(st_cpu(), (n ? n : 1) * sizeof(float), what);
}

static void release(float *p) {
  if (p) st_mem_free(st_cpu(), p);
}

static void plan_free(plan *p) {
  free(p->tab);
  release(p->col);
  release(p->xp);
  release(p->dxp);
  release(p->wt);
  release(p->dwt);
}

/* need: which scratch buffers the caller will use. */
enum { NEED_XP = 1, NEED_DXP = 2, NEED_WT = 4, NEED_DWT = 8 };

static int plan_init(plan *p, const st_conv2d_desc *d, int need) {
  memset(p, 0, sizeof *p);
  const int any_pad = d->pt || d->pb || d->pl || d->pr;
  p->padded = d->pad_mode != 0 && any_pad;
  p->Hi = p->padded ? d->H + d->pt + d->pb : d->H;
  p->Wi = p->padded ? d->W + d->pl + d->pr : d->W;
  p->pt = p->padded ? 0 : d->pt;
  p->pl = p->padded ? 0 : d->pl;
  p->pointwise = d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && !any_pad;
  /* Dual when its lowered matrix is at most half the standard one. */
  p->dual = !p->pointwise && d->sh == 1 && d->sw == 1 &&
            2.0 * d->K * p->Hi * p->Wi <= (double)d->C * d->OH * d->OW;
  st_cpu_im2col_geom *g = &p->g;
  g->kh = d->kh;
  g->kw = d->kw;
  g->sh = d->sh;
  g->sw = d->sw;
  if (p->dual) {
    g->C = d->K;
    g->H = d->OH;
    g->W = d->OW;
    g->pt = d->kh - 1 - p->pt; /* output row = input row + pt - i = input row - g->pt + (flipped tap) */
    g->pl = d->kw - 1 - p->pl;
    g->GH = p->Hi;
    g->GW = p->Wi;
  } else {
    g->C = d->C;
    g->H = p->Hi;
    g->W = p->Wi;
    g->pt = p->pt;
    g->pl = p->pl;
    g->GH = d->OH;
    g->GW = d->OW;
  }
  p->tile = st_cpu_im2col_tile_rows(g, st_cpu_col_budget);
  const size_t plane = (size_t)d->C * (size_t)p->Hi * (size_t)p->Wi;
  const size_t nw = (size_t)d->K * d->C * d->kh * d->kw;
  if (p->padded) {
    if (!(p->tab = malloc(sizeof(int) * (size_t)(p->Hi + p->Wi)))) {
      st_error("conv2d: out of memory for padding index tables");
      goto fail;
    }
    for (int i = 0; i < p->Hi; i++) p->tab[i] = pad_src(i, d->pt, d->H, d->pad_mode);
    for (int j = 0; j < p->Wi; j++) p->tab[p->Hi + j] = pad_src(j, d->pl, d->W, d->pad_mode);
    if ((need & NEED_XP) && !(p->xp = scratch(plane, "conv2d padded input"))) goto fail;
    if ((need & NEED_DXP) && !(p->dxp = scratch(plane, "conv2d padded input gradient"))) goto fail;
  }
  if (p->dual) {
    if ((need & NEED_WT) && !(p->wt = scratch(nw, "conv2d flipped weights"))) goto fail;
    if ((need & NEED_DWT) && !(p->dwt = scratch(nw, "conv2d flipped weight gradient"))) goto fail;
  }
  if (!p->pointwise) {
    size_t n = (size_t)g->C * g->kh * g->kw * (size_t)p->tile * (size_t)g->GW;
    if (!(p->col = scratch(n, "conv2d column buffer"))) goto fail;
  }
  return 0;
fail:
  plan_free(p);
  return -1;
}

static const float *padded_input(const st_conv2d_desc *d, plan *p, const float *xn) {
  if (!p->padded) return xn;
  pad_image(d, p->tab, p->tab + p->Hi, p->Hi, p->Wi, xn, p->xp);
  return p->xp;
}

/* ---- forward ---- */

static int im2col_forward(const st_conv2d_desc *d, float *y, const float *x, const float *w, const float *b) {
  st_blas_ready();
  plan p;
  if (plan_init(&p, d, NEED_XP | NEED_WT) != 0) return -1;
  const long HW = (long)d->H * d->W, P = (long)d->OH * d->OW, HWi = (long)p.Hi * p.Wi;
  const int CKK = d->C * d->kh * d->kw, KKK = d->K * d->kh * d->kw;
  if (p.dual) flip_weights(d, w, p.wt);
  for (int n = 0; n < d->N; n++) {
    const float *xn = padded_input(d, &p, x + (long)n * d->C * HW);
    float *yn = y + (long)n * d->K * P;
    /* Start from the bias (or zero) and let every GEMM / col2im add onto it. */
    for (int k = 0; k < d->K; k++) {
      const float v = b ? b[k] : 0.0f;
      for (long i = 0; i < P; i++) yn[k * P + i] = v;
    }
    if (p.pointwise) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->K, (int)P, d->C, 1.0f, w, d->C, xn, (int)HW, 1.0f,
                  yn, (int)P);
      continue;
    }
    for (int r0 = 0; r0 < p.g.GH; r0 += p.tile) {
      const int r1 = r0 + p.tile < p.g.GH ? r0 + p.tile : p.g.GH;
      const int T = (r1 - r0) * p.g.GW;
      if (p.dual) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, KKK, T, d->C, 1.0f, p.wt, d->C, xn + (long)r0 * p.Wi,
                    (int)HWi, 0.0f, p.col, T);
        st_cpu_col2im(&p.g, p.col, r0, r1, yn);
      } else {
        st_cpu_im2col(&p.g, xn, r0, r1, p.col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->K, T, CKK, 1.0f, w, CKK, p.col, T, 1.0f,
                    yn + (long)r0 * d->OW, (int)P);
      }
    }
  }
  plan_free(&p);
  return 0;
}

/* ---- backward ---- */

static int im2col_backward(const st_conv2d_desc *d, float *dx, float *dw, float *db, const float *dy,
                           const float *x, const float *w) {
  st_blas_ready();
  const long HW = (long)d->H * d->W, P = (long)d->OH * d->OW;
  const int CKK = d->C * d->kh * d->kw, KKK = d->K * d->kh * d->kw;
  if (db) bias_grad(d->N, d->K, P, dy, db);
  if (!dx && !dw) return 0;

  plan p;
  if (plan_init(&p, d, (dw ? NEED_XP | NEED_DWT : 0) | (dx ? NEED_DXP | NEED_WT : 0)) != 0) return -1;
  const long HWi = (long)p.Hi * p.Wi;
  if (p.dual && dx) flip_weights(d, w, p.wt);
  if (p.dual && dw) memset(p.dwt, 0, sizeof(float) * (size_t)d->K * (size_t)CKK);
  for (int n = 0; n < d->N; n++) {
    const float *xn = dw ? padded_input(d, &p, x + (long)n * d->C * HW) : NULL;
    const float *dyn = dy + (long)n * d->K * P;
    float *dxn = dx ? dx + (long)n * d->C * HW : NULL;
    float *dxt = p.padded ? p.dxp : dxn; /* the gradient of the (padded) input the lowering saw */
    if (p.pointwise) {
      if (dw)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->K, d->C, (int)P, 1.0f, dyn, (int)P, xn, (int)HW, 1.0f,
                    dw, d->C);
      if (dx)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d->C, (int)P, d->K, 1.0f, w, d->C, dyn, (int)P, 0.0f,
                    dxn, (int)HW);
      continue;
    }
    if (dx && !p.dual) memset(dxt, 0, sizeof(float) * (size_t)(d->C * HWi)); /* col2im adds */
    for (int r0 = 0; r0 < p.g.GH; r0 += p.tile) {
      const int r1 = r0 + p.tile < p.g.GH ? r0 + p.tile : p.g.GH;
      const int T = (r1 - r0) * p.g.GW;
      if (p.dual) {
        /* col[(k, a, b), input position] = the dy values that input position fed. */
        st_cpu_im2col(&p.g, dyn, r0, r1, p.col);
        if (dx)
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d->C, T, KKK, 1.0f, p.wt, d->C, p.col, T, 0.0f,
                      dxt + (long)r0 * p.Wi, (int)HWi);
        if (dw)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, KKK, d->C, T, 1.0f, p.col, T, xn + (long)r0 * p.Wi,
                      (int)HWi, 1.0f, p.dwt, d->C);
        continue;
      }
      const float *dyt = dyn + (long)r0 * d->OW;
      if (dw) {
        st_cpu_im2col(&p.g, xn, r0, r1, p.col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->K, CKK, T, 1.0f, dyt, (int)P, p.col, T, 1.0f, dw,
                    CKK);
      }
      if (dx) {
        /* The column buffer is free again: reuse it for the patch gradients. */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, T, d->K, 1.0f, w, CKK, dyt, (int)P, 0.0f, p.col,
                    T);
        st_cpu_col2im(&p.g, p.col, r0, r1, dxt);
      }
    }
    if (dx && p.padded) unpad_image(d, p.tab, p.tab + p.Hi, p.Hi, p.Wi, p.dxp, dxn);
  }
  if (p.dual && dw) unflip_add(d, p.dwt, dw);
  plan_free(&p);
  return 0;
}

/* ---- few output channels (K <= 4, stride 1): a direct AVX-512 kernel (AVX2: conv2d_few_avx2.c) ----
 *
 * The transformer's last conv (9x9, 32 -> 3) fits neither a GEMM (3 rows)
 * nor oneDNN's blocked layouts (K padded to 16: 5x the work, ~85 GFLOP/s).
 * Here a block of one output row keeps K x 8 vectors of 16 outputs in
 * registers while the taps stream over the input rows; the weight gradient
 * keeps K x JB taps of one input row in registers. Zero padding is read as
 * masked-off lanes and skipped rows, so the image is never copied. */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_FEW 1
#define FEW_V 8      /* vectors of 16 outputs per forward block */
#define FEW_MAXKW 16 /* widest kernel (mask table size) */
#define FEW_JB(K) ((K) == 1 ? 16 : (K) == 2 ? 12 : (K) == 3 ? 9 : 6) /* taps per weight-gradient task */
#define AVX512 __attribute__((target("avx512f,fma")))
#define AVX512_INLINE static inline __attribute__((always_inline, target("avx512f,fma")))

typedef st_few_geom few_geom;

/* AVX-512 where cpu_isa.h allows it, else the AVX2 + FMA version (conv2d_few_avx2.c). */
static int few_cpu_ok(void) { return st_cpu_isa() >= ST_ISA_AVX2; }
static int few_avx512(void) { return st_cpu_isa() >= ST_ISA_AVX512; }

/* Lanes l of 16 whose column q + l lies in [0, W). */
static inline __mmask16 col_mask(long q, int W) {
  long lo = -q, hi = W - q;
  lo = lo < 0 ? 0 : lo > 16 ? 16 : lo;
  hi = hi < 0 ? 0 : hi > 16 ? 16 : hi;
  return lo >= hi ? 0 : (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
}

/* y[k, oh, ow0 .. ow0 + 16*FEW_V) for every k < K. K and masked are
 * compile-time constants after inlining; mk[v][j] are the valid lanes of
 * vector v at tap column j: masked 0 ignores them (all full), 1 uses them for
 * the first and last vector only (the others are full), 2 for all. */
AVX512_INLINE void few_fwd_block(const int K, const int masked, const few_geom *g, const float *x, const float *w,
                                 const float *b, float *y, int oh, int ow0, __mmask16 mk[FEW_V][FEW_MAXKW]) {
  __m512 acc[4][FEW_V];
  const long HW = (long)g->H * g->W, wk = (long)g->C * g->kh * g->kw, P = (long)g->OH * g->OW;
#pragma GCC unroll 4
  for (int k = 0; k < K; k++) {
    const __m512 v0 = _mm512_set1_ps(b ? b[k] : 0.0f);
#pragma GCC unroll 8
    for (int v = 0; v < FEW_V; v++) acc[k][v] = v0;
  }
  for (int c = 0; c < g->C; c++) {
    /* The next output row needs one new input row per channel: fetch it now
     * (with many channels, too many streams for the hardware prefetcher). */
    const int in = oh + g->kh - g->pt;
    if (in >= 0 && in < g->H) {
      const char *nr = (const char *)(x + c * HW + (long)in * g->W + (ow0 > g->pl ? ow0 - g->pl : 0));
      for (int l = 0; l < (16 * FEW_V + g->kw) * 4; l += 64) _mm_prefetch(nr + l, _MM_HINT_T1);
    }
    for (int i = 0; i < g->kh; i++) {
      const int ih = oh + i - g->pt;
      if (ih < 0 || ih >= g->H) continue; /* a zero row */
      const float *row = x + c * HW + (long)ih * g->W + (ow0 - g->pl);
      const float *wr = w + ((long)c * g->kh + i) * g->kw;
      for (int j = 0; j < g->kw; j++) {
        __m512 wv[4];
#pragma GCC unroll 4
        for (int k = 0; k < K; k++) wv[k] = _mm512_set1_ps(wr[k * wk + j]);
#pragma GCC unroll 8
        for (int v = 0; v < FEW_V; v++) {
          const int edge = v == 0 || v == FEW_V - 1;
          __m512 xv = masked == 2 || (masked == 1 && edge) ? _mm512_maskz_loadu_ps(mk[v][j], row + j + 16 * v)
                                                          : _mm512_loadu_ps(row + j + 16 * v);
          __asm__("" : "+v"(xv)); /* one load per vector, not one folded into every FMA */
#pragma GCC unroll 4
          for (int k = 0; k < K; k++) acc[k][v] = _mm512_fmadd_ps(wv[k], xv, acc[k][v]);
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int v = 0; v < FEW_V; v++) {
    const int n = g->OW - ow0 - 16 * v;
    if (n <= 0) break;
    const __mmask16 m = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
#pragma GCC unroll 4
    for (int k = 0; k < K; k++) _mm512_mask_storeu_ps(y + k * P + (long)oh * g->OW + ow0 + 16 * v, m, acc[k][v]);
  }
}

#define FEW_FWD(K)                                                          \
  (!partial ? few_fwd_block(K, 0, g, x, w, b, y, oh, ow0, mk)             \
   : !inner ? few_fwd_block(K, 1, g, x, w, b, y, oh, ow0, mk)             \
            : few_fwd_block(K, 2, g, x, w, b, y, oh, ow0, mk))

/* One block of outputs: row oh, columns from ow0. Its own function with the
 * AVX-512 target because the OpenMP loop body around it is outlined into a
 * function without that target (clang outlines it so, and then cannot give
 * the vector barrier in few_fwd_block a 512-bit register). */
static AVX512 void few_forward_task(const few_geom *g, const float *x, const float *w, const float *b, float *y,
                                    int oh, int ow0) {
  __mmask16 mk[FEW_V][FEW_MAXKW];
  int partial = 0, inner = 0; /* some lane masked; some masked lane in a middle vector */
  for (int v = 0; v < FEW_V; v++)
    for (int j = 0; j < g->kw; j++) {
      mk[v][j] = col_mask((long)ow0 + 16 * v + j - g->pl, g->W);
      partial |= mk[v][j] != 0xFFFF;
      inner |= mk[v][j] != 0xFFFF && v > 0 && v < FEW_V - 1;
    }
  switch (g->K) {
  case 1: FEW_FWD(1); break;
  case 2: FEW_FWD(2); break;
  case 3: FEW_FWD(3); break;
  default: FEW_FWD(4); break;
  }
}

/* One image: y [K, OH, OW] = conv(x [C, H, W], w) + b. */
static void few_forward(const few_geom *g, const float *x, const float *w, const float *b, float *y) {
  if (!few_avx512()) {
    st_few_forward_avx2(g, x, w, b, y);
    return;
  }
  const int nb = (g->OW + 16 * FEW_V - 1) / (16 * FEW_V);
#pragma omp parallel for schedule(static)
  for (int t = 0; t < g->OH * nb; t++) few_forward_task(g, x, w, b, y, t / nb, (t % nb) * 16 * FEW_V);
}

/* out[k*JB + j] = sum over (oh, ow) of dy[k, oh, ow] * x[c, oh + i - pt, ow + j0 + j - pl] (zero outside). */
AVX512_INLINE void few_bwdw_task(const int K, const int JB, const few_geom *g, const float *x, const float *dy, int c,
                                 int i, int j0, float *out) {
  __m512 acc[4][16];
  const long HW = (long)g->H * g->W, P = (long)g->OH * g->OW;
#pragma GCC unroll 4
  for (int k = 0; k < K; k++)
#pragma GCC unroll 16
    for (int j = 0; j < JB; j++) acc[k][j] = _mm512_setzero_ps();
  const int q0 = j0 - g->pl; /* input column of output column 0 at tap j0 */
  for (int oh = 0; oh < g->OH; oh++) {
    const int ih = oh + i - g->pt;
    if (ih < 0 || ih >= g->H) continue;
    const float *row = x + c * HW + (long)ih * g->W + q0;
    const float *d = dy + (long)oh * g->OW;
    for (int ow = 0; ow < g->OW; ow += 16) {
      const int n = g->OW - ow;
      const __mmask16 m = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
      __m512 dv[4];
#pragma GCC unroll 4
      for (int k = 0; k < K; k++) dv[k] = _mm512_maskz_loadu_ps(m, d + k * P + ow);
      if (n >= 16 && ow + q0 >= 0 && ow + q0 + 15 + JB - 1 < g->W) { /* every lane of every tap inside */
#pragma GCC unroll 16
        for (int j = 0; j < JB; j++) {
          __m512 xv = _mm512_loadu_ps(row + ow + j);
          __asm__("" : "+v"(xv)); /* as in few_fwd_block */
#pragma GCC unroll 4
          for (int k = 0; k < K; k++) acc[k][j] = _mm512_fmadd_ps(dv[k], xv, acc[k][j]);
        }
      } else {
#pragma GCC unroll 16
        for (int j = 0; j < JB; j++) {
          __m512 xv = _mm512_maskz_loadu_ps(m & col_mask((long)ow + q0 + j, g->W), row + ow + j);
          __asm__("" : "+v"(xv));
#pragma GCC unroll 4
          for (int k = 0; k < K; k++) acc[k][j] = _mm512_fmadd_ps(dv[k], xv, acc[k][j]);
        }
      }
    }
  }
#pragma GCC unroll 4
  for (int k = 0; k < K; k++)
#pragma GCC unroll 16
    for (int j = 0; j < JB; j++) out[k * JB + j] = _mm512_reduce_add_ps(acc[k][j]);
}

/* One weight-gradient task (channel c, tap row i, tap columns from j0), with
 * the AVX-512 target for the reason given at few_forward_task. */
static AVX512 void few_bwdw_run(const few_geom *g, const float *x, const float *dy, int c, int i, int j0,
                                float out[64]) {
  switch (g->K) {
  case 1: few_bwdw_task(1, FEW_JB(1), g, x, dy, c, i, j0, out); break;
  case 2: few_bwdw_task(2, FEW_JB(2), g, x, dy, c, i, j0, out); break;
  case 3: few_bwdw_task(3, FEW_JB(3), g, x, dy, c, i, j0, out); break;
  default: few_bwdw_task(4, FEW_JB(4), g, x, dy, c, i, j0, out); break;
  }
}

/* dw += the weight gradient of one image (x [C, H, W], dy [K, OH, OW]). */
static void few_backward_weights(const few_geom *g, const float *x, const float *dy, float *dw) {
  if (!few_avx512()) {
    st_few_backward_weights_avx2(g, x, dy, dw);
    return;
  }
  const int JB = FEW_JB(g->K), nj = (g->kw + JB - 1) / JB;
#pragma omp parallel for schedule(static)
  for (int t = 0; t < g->C * g->kh * nj; t++) {
    const int c = t / (g->kh * nj), i = (t / nj) % g->kh, j0 = (t % nj) * JB;
    float out[64];
    few_bwdw_run(g, x, dy, c, i, j0, out);
    for (int k = 0; k < g->K; k++)
      for (int j = 0; j < JB && j0 + j < g->kw; j++)
        dw[(((long)k * g->C + c) * g->kh + i) * g->kw + j0 + j] += out[k * JB + j];
  }
}
#else
#define HAVE_FEW 0
#endif

const char *st_cpu_conv_few_isa(void) {
#if HAVE_FEW
  return few_cpu_ok() ? st_cpu_isa_name(st_cpu_isa()) : NULL;
#else
  return NULL;
#endif
}

/* Zero, reflect or replicate padding of one image into xp [C, Hp, Wp]; tab
 * maps padded rows [Hp] then columns [Wp] to source indices (-1: zero). */
static void pad_any(const st_conv2d_desc *d, const int *tab, int Hp, int Wp, const float *x, float *xp) {
#pragma omp parallel for schedule(static)
  for (int c = 0; c < d->C; c++) {
    const float *src = x + (long)c * d->H * d->W;
    float *dst = xp + (long)c * Hp * Wp;
    for (int i = 0; i < Hp; i++, dst += Wp) {
      if (tab[i] < 0) {
        memset(dst, 0, sizeof(float) * (size_t)Wp);
        continue;
      }
      const float *row = src + (long)tab[i] * d->W;
      for (int j = 0; j < d->pl; j++) dst[j] = tab[Hp + j] < 0 ? 0.0f : row[tab[Hp + j]];
      memcpy(dst + d->pl, row, sizeof(float) * (size_t)d->W);
      for (int j = d->pl + d->W; j < Wp; j++) dst[j] = tab[Hp + j] < 0 ? 0.0f : row[tab[Hp + j]];
    }
  }
}

static int *pad_tables(const st_conv2d_desc *d, int Hp, int Wp) {
  int *tab = malloc(sizeof(int) * (size_t)(Hp + Wp));
  if (!tab) {
    st_error("conv2d: out of memory for padding index tables");
    return NULL;
  }
  for (int i = 0; i < Hp; i++) {
    const int t = i - d->pt;
    tab[i] = d->pad_mode != 0 ? pad_src(i, d->pt, d->H, d->pad_mode) : t >= 0 && t < d->H ? t : -1;
  }
  for (int j = 0; j < Wp; j++) {
    const int t = j - d->pl;
    tab[Hp + j] = d->pad_mode != 0 ? pad_src(j, d->pl, d->W, d->pad_mode) : t >= 0 && t < d->W ? t : -1;
  }
  return tab;
}

#if HAVE_FEW
/* Runs the few-channel kernel over the batch: forward (y) or weight gradient
 * (dw from dy). Reflect / replicate padding goes through a padded copy. */
static int few_run(const st_conv2d_desc *d, float *y, const float *x, const float *w, const float *b, float *dw,
                   const float *dy) {
  const int copy = d->pad_mode != 0 && (d->pt || d->pb || d->pl || d->pr);
  const int Hp = d->H + d->pt + d->pb, Wp = d->W + d->pl + d->pr;
  few_geom g = {d->C, d->K, d->kh, d->kw, d->H, d->W, d->pt, d->pl, d->OH, d->OW};
  const long HW = (long)d->H * d->W, P = (long)d->OH * d->OW;
  int *tab = NULL;
  float *xp = NULL;
  if (copy) {
    if (!(tab = pad_tables(d, Hp, Wp))) return -1;
    if (!(xp = scratch((size_t)d->C * Hp * Wp, "conv2d padded input"))) {
      free(tab);
      return -1;
    }
    g.H = Hp, g.W = Wp, g.pt = g.pl = 0;
  }
  for (int n = 0; n < d->N; n++) {
    const float *xn = x + n * d->C * HW;
    if (copy) {
      pad_any(d, tab, Hp, Wp, xn, xp);
      xn = xp;
    }
    if (y) few_forward(&g, xn, w, b, y + n * d->K * P);
    else few_backward_weights(&g, xn, dy + n * d->K * P, dw);
  }
  release(xp);
  free(tab);
  return 0;
}

/* dx of a stride-1 zero-padded conv with few input channels: the forward
 * conv of dy (K channels, padded by k-1-pad) with wt[c, k] = w[k, c] flipped. */
static int few_backward_data(const st_conv2d_desc *d, float *dx, const float *dy, const float *w) {
  const long kk = (long)d->kh * d->kw;
  float *wt = scratch((size_t)d->K * d->C * kk, "conv2d transposed weights");
  if (!wt) return -1;
  for (int k = 0; k < d->K; k++)
    for (int c = 0; c < d->C; c++)
      for (long t = 0; t < kk; t++) wt[((long)c * d->K + k) * kk + (kk - 1 - t)] = w[((long)k * d->C + c) * kk + t];
  st_conv2d_desc t = {d->N, d->K, d->OH, d->OW, d->C, d->kh, d->kw, 1, 1, d->kh - 1 - d->pt, d->kh - 1 - d->pb,
                          d->kw - 1 - d->pl, d->kw - 1 - d->pr, 0, d->H, d->W};
  int rc = few_run(&t, dx, dy, wt, NULL, NULL, NULL);
  release(wt);
  return rc;
}
#endif

/* ---- dispatch: the fastest of the three per shape and pass ---- */

int st_cpu_conv_impl = ST_CONV_AUTO;

/* STRATA_CONV=im2col|direct|winograd|few overrides the automatic choice (benchmarks). */
int st_cpu_conv_effective_impl(void) {
  static int from_env = -1;
  if (st_cpu_conv_impl != ST_CONV_AUTO) return st_cpu_conv_impl;
  if (from_env < 0) {
    const char *v = getenv("STRATA_CONV");
    from_env = !v                       ? ST_CONV_AUTO
               : !strcmp(v, "im2col")   ? ST_CONV_IM2COL
               : !strcmp(v, "direct")   ? ST_CONV_DIRECT
               : !strcmp(v, "winograd") ? ST_CONV_WINOGRAD
               : !strcmp(v, "few")      ? ST_CONV_FEW
               : !strcmp(v, "wino")     ? ST_CONV_WINO
                                        : ST_CONV_AUTO;
  }
  return from_env;
}

enum { FWD, BWD_DATA, BWD_WEIGHTS };
enum { USE_IM2COL, USE_DNNL, USE_FEW, USE_WINO };

static int needs_pad(const st_conv2d_desc *d) { return d->pad_mode != 0 && (d->pt || d->pb || d->pl || d->pr); }

typedef struct {
  int use;    /* USE_* */
  int alg;    /* ST_DNNL_DIRECT / ST_DNNL_WINOGRAD */
  int layout; /* ST_DNNL_ANY / ST_DNNL_NHWC */
} choice;

/* The few-channel kernel runs the forward and weight gradient of convs with
 * K <= 4, and the data gradient of zero-padded convs with C <= 4 (a forward
 * conv of dy with the transposed, flipped weights: VGG's first conv). */
static int few_ok(const st_conv2d_desc *d, int pass) {
#if HAVE_FEW
  if (d->sh != 1 || d->sw != 1 || d->kw > FEW_MAXKW || !few_cpu_ok()) return 0;
  if (pass != BWD_DATA) return d->K <= 4;
  return d->C <= 4 && !needs_pad(d) && d->pt < d->kh && d->pb < d->kh && d->pl < d->kw && d->pr < d->kw;
#else
  (void)d, (void)pass;
  return 0;
#endif
}

/* strata's own Winograd (conv2d_wino.c) for all three passes of 3x3 stride-1
 * convs where oneDNN 2.6 has no Winograd (only for AVX-512):
 * when AVX2 is the most the ISA allows (an AVX2-only CPU, or
 * ONEDNN_MAX_CPU_ISA=AVX2), on maps and channel counts where it beat oneDNN's
 * direct AVX2 conv. Measured (CPU seconds, batch 4, Zen 5 capped at AVX2):
 * 1.5x at 64 channels 128x128, 2x at 128-512 channels from 16x16 up to 64x64
 * (forward, data and weight gradient alike); no gain at 32 channels or on 8x8
 * maps, where its thin GEMMs and transforms cost what they save. ST_CONV_WINO
 * forces it wherever it can run, any ISA (tests). */
static int wino_own(const st_conv2d_desc *d, int impl) {
  st_conv2d_desc z = *d;
  z.pad_mode = 0; /* reflect / replicate reach it as a zero-padding conv over a padded copy */
  if (!st_wino_available() || !st_wino_shape_ok(&z)) return 0;
  if (impl == ST_CONV_WINO) return 1;
  return impl == ST_CONV_AUTO && st_cpu_isa() == ST_ISA_AVX2 && d->C >= 64 && d->K >= 64 &&
         (long)d->OH * d->OW >= 256;
}

/* A fixed rule (never timing-based, so every run of a training computes
 * bit-identical results); bench/README.md has the measurements behind it. */
static choice choose(const st_conv2d_desc *d, int pass) {
  choice c = {USE_IM2COL, ST_DNNL_DIRECT, ST_DNNL_ANY};
  const int impl = st_cpu_conv_effective_impl();
  const int wino_ok = d->kh == 3 && d->kw == 3 && d->sh == 1 && d->sw == 1;
  if (impl == ST_CONV_IM2COL) return c;
  if ((impl == ST_CONV_AUTO || impl == ST_CONV_FEW || impl == ST_CONV_WINO) && few_ok(d, pass)) {
    c.use = USE_FEW;
    return c;
  }
  if (wino_own(d, impl)) {
    c.use = USE_WINO;
    return c;
  }
  if (!st_dnnl_enabled()) return c;
  c.use = USE_DNNL;
  if (impl == ST_CONV_DIRECT) return c;
  if (impl == ST_CONV_WINOGRAD) {
    c.alg = wino_ok ? ST_DNNL_WINOGRAD : ST_DNNL_DIRECT;
    return c;
  }
  /* Winograd only on maps of at least 16x16 outputs: on FCRN's 4x4 and 8x8
   * maps (and VGG's conv5 at 128x128) its transforms cost more than they save
   * (measured 1.6-2x slower than direct there, 1.1-1.5x faster from 16x16). */
  if (wino_ok && d->C >= 16 && d->K >= 16 && (long)d->OH * d->OW >= 256) c.alg = ST_DNNL_WINOGRAD;
  /* Few output channels: blocked layouts pad them to 16, but their data
   * gradient is a conv with few inputs, which oneDNN does well in NHWC. */
  if (d->K < 8 && pass == BWD_DATA) c.layout = ST_DNNL_NHWC;
  return c;
}

static void bias_grad(int N, int K, long P, const float *dy, float *db) {
  for (int k = 0; k < K; k++) {
    double s = 0.0; /* planes of 10^5+ values: sum in double */
    for (int n = 0; n < N; n++) {
      const float *g = dy + ((long)n * K + k) * P;
      for (long i = 0; i < P; i++) s += g[i];
    }
    db[k] += (float)s;
  }
}

/* Reflect / replicate padding for oneDNN: the whole batch padded into a
 * temporary, and the descriptor of the zero-padding conv over it. */
typedef struct {
  st_conv2d_desc z; /* the conv oneDNN sees */
  int *tab;             /* source rows [Hp] then columns [Wp] */
  float *buf;           /* [N, C, Hp, Wp] */
} padded;

static int padded_init(padded *q, const st_conv2d_desc *d, const char *what) {
  q->z = *d;
  q->z.H = d->H + d->pt + d->pb;
  q->z.W = d->W + d->pl + d->pr;
  q->z.pt = q->z.pb = q->z.pl = q->z.pr = 0;
  q->z.pad_mode = 0;
  q->tab = pad_tables(d, q->z.H, q->z.W);
  q->buf = q->tab ? scratch((size_t)d->N * d->C * q->z.H * q->z.W, what) : NULL;
  if (!q->buf) {
    free(q->tab);
    return -1;
  }
  return 0;
}

static void padded_free(padded *q) {
  free(q->tab);
  release(q->buf);
}

static void pad_batch(const st_conv2d_desc *d, padded *q, const float *x) {
  const long in = (long)d->C * d->H * d->W, out = (long)d->C * q->z.H * q->z.W;
  for (int n = 0; n < d->N; n++) pad_any(d, q->tab, q->z.H, q->z.W, x + n * in, q->buf + n * out);
}

/* oneDNN or the Winograd kernel on a zero-padding conv; 1 when it declines. */
static int lib_forward(const st_conv2d_desc *d, choice c, float *y, const float *x, const float *w, const float *b) {
  return c.use == USE_WINO ? st_wino_conv2d_forward(d, y, x, w, b)
                           : st_dnnl_conv2d_forward(d, c.alg, c.layout, y, x, w, b);
}

static int lib_backward_data(const st_conv2d_desc *d, choice c, float *dx, const float *dy, const float *w) {
  return c.use == USE_WINO ? st_wino_conv2d_backward_data(d, dx, dy, w)
                           : st_dnnl_conv2d_backward_data(d, c.alg, c.layout, dx, dy, w);
}

int st_cpu_conv2d_forward(const st_conv2d_desc *d, float *y, const float *x, const float *w, const float *b) {
  choice c = choose(d, FWD);
#if HAVE_FEW
  if (c.use == USE_FEW) return few_run(d, y, x, w, b, NULL, NULL);
#endif
  if (c.use == USE_DNNL || c.use == USE_WINO) {
    int rc;
    if (needs_pad(d)) {
      padded q;
      if (padded_init(&q, d, "conv2d padded input") != 0) return -1;
      pad_batch(d, &q, x);
      rc = lib_forward(&q.z, c, y, q.buf, w, b);
      padded_free(&q);
    } else {
      rc = lib_forward(d, c, y, x, w, b);
    }
    if (rc != 1) return rc;
  }
  return im2col_forward(d, y, x, w, b);
}

static int dnnl_backward_data(const st_conv2d_desc *d, choice c, float *dx, const float *dy, const float *w) {
  if (!needs_pad(d)) return lib_backward_data(d, c, dx, dy, w);
  padded q;
  if (padded_init(&q, d, "conv2d padded input gradient") != 0) return -1;
  int rc = lib_backward_data(&q.z, c, q.buf, dy, w);
  if (rc == 0) {
    const long in = (long)d->C * d->H * d->W, out = (long)d->C * q.z.H * q.z.W;
    for (int n = 0; n < d->N; n++) unpad_image(d, q.tab, q.tab + q.z.H, q.z.H, q.z.W, q.buf + n * out, dx + n * in);
  }
  padded_free(&q);
  return rc;
}

static int lib_backward_weights(const st_conv2d_desc *d, choice c, float *dw, const float *dy, const float *x) {
  return c.use == USE_WINO ? st_wino_conv2d_backward_weights(d, dw, dy, x)
                           : st_dnnl_conv2d_backward_weights(d, c.alg, c.layout, dw, dy, x);
}

static int dnnl_backward_weights(const st_conv2d_desc *d, choice c, float *dw, const float *dy, const float *x) {
  if (!needs_pad(d)) return lib_backward_weights(d, c, dw, dy, x);
  padded q;
  if (padded_init(&q, d, "conv2d padded input") != 0) return -1;
  pad_batch(d, &q, x);
  int rc = lib_backward_weights(&q.z, c, dw, dy, q.buf);
  padded_free(&q);
  return rc;
}

int st_cpu_conv2d_backward(const st_conv2d_desc *d, float *dx, float *dw, float *db, const float *dy,
                           const float *x, const float *w) {
  if (db) bias_grad(d->N, d->K, (long)d->OH * d->OW, dy, db);
  if (dx) {
    choice c = choose(d, BWD_DATA);
    int rc = c.use == USE_DNNL || c.use == USE_WINO ? dnnl_backward_data(d, c, dx, dy, w) : 1;
#if HAVE_FEW
    if (c.use == USE_FEW) rc = few_backward_data(d, dx, dy, w);
#endif
    if (rc == -1) return -1;
    if (rc == 0) dx = NULL; /* done */
  }
  if (dw) {
    choice c = choose(d, BWD_WEIGHTS);
    int rc = 1;
#if HAVE_FEW
    if (c.use == USE_FEW) rc = few_run(d, NULL, x, NULL, NULL, dw, dy);
#endif
    if (c.use == USE_DNNL || c.use == USE_WINO) rc = dnnl_backward_weights(d, c, dw, dy, x);
    if (rc == -1) return -1;
    if (rc == 0) dw = NULL;
  }
  return dx || dw ? im2col_backward(d, dx, dw, NULL, dy, x, w) : 0;
}
