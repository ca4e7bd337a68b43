#include "conv2d.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/memory.h"
#include "im2col.h"

/* Two lowerings of the same convolution, both tiled so scratch stays bounded:
 *
 * - standard: col = im2col(x) has C*kh*kw rows, one column per output
 *   position; y = w @ col.
 * - dual (stride 1 only): Z = w' @ x has K*kh*kw rows, one column per input
 *   position (w' is w with taps flipped, laid out [K*kh*kw, C]); y = col2im(Z).
 *   With few output channels (the transformer's last 9x9 conv 32->3) this
 *   moves ~10x less memory than the standard path, whose GEMM would have only
 *   3 rows. Backward mirrors it: im2col(dy) gives both dx and dw.
 *
 * The loops outside the GEMMs are serial on purpose: OpenBLAS (pthreads)
 * threads the GEMMs, and idle OpenMP workers spinning after a parallel region
 * take the cores those GEMM threads need (measured: 2x slower end to end). */

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

static void pad_image(const st_cpu_conv2d_desc *d, const int *rt, const int *ct, int Hp, int Wp, const float *x,
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
static void unpad_image(const st_cpu_conv2d_desc *d, const int *rt, const int *ct, int Hp, int Wp, const float *dxp,
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

static void flip_weights(const st_cpu_conv2d_desc *d, const float *w, float *wt) {
  for (int k = 0; k < d->K; k++)
    for (int c = 0; c < d->C; c++)
      for (int i = 0; i < d->kh; i++)
        for (int j = 0; j < d->kw; j++)
          wt[(((long)k * d->kh + (d->kh - 1 - i)) * d->kw + (d->kw - 1 - j)) * d->C + c] =
              w[(((long)k * d->C + c) * d->kh + i) * d->kw + j];
}

static void unflip_add(const st_cpu_conv2d_desc *d, const float *dwt, float *dw) {
  for (int k = 0; k < d->K; k++)
    for (int c = 0; c < d->C; c++)
      for (int i = 0; i < d->kh; i++)
        for (int j = 0; j < d->kw; j++)
          dw[(((long)k * d->C + c) * d->kh + i) * d->kw + j] +=
              dwt[(((long)k * d->kh + (d->kh - 1 - i)) * d->kw + (d->kw - 1 - j)) * d->C + c];
}

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

static int plan_init(plan *p, const st_cpu_conv2d_desc *d, int need) {
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

static const float *padded_input(const st_cpu_conv2d_desc *d, plan *p, const float *xn) {
  if (!p->padded) return xn;
  pad_image(d, p->tab, p->tab + p->Hi, p->Hi, p->Wi, xn, p->xp);
  return p->xp;
}

/* ---- forward ---- */

int st_cpu_conv2d_forward(const st_cpu_conv2d_desc *d, float *y, const float *x, const float *w, const float *b) {
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

int st_cpu_conv2d_backward(const st_cpu_conv2d_desc *d, float *dx, float *dw, float *db, const float *dy,
                           const float *x, const float *w) {
  const long HW = (long)d->H * d->W, P = (long)d->OH * d->OW;
  const int CKK = d->C * d->kh * d->kw, KKK = d->K * d->kh * d->kw;
  if (db) {
    for (int k = 0; k < d->K; k++) {
      double s = 0.0; /* planes of 10^5+ values: sum in double */
      for (int n = 0; n < d->N; n++) {
        const float *g = dy + ((long)n * d->K + k) * P;
        for (long i = 0; i < P; i++) s += g[i];
      }
      db[k] += (float)s;
    }
  }
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
