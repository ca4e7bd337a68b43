#include "conv2d.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/memory.h"
#include "im2col.h"

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

/* Row and column source tables for the padded [Hp, Wp] plane. */
static int *pad_tables(const st_cpu_conv2d_desc *d, int Hp, int Wp) {
  int *t = malloc(sizeof(int) * (size_t)(Hp + Wp));
  if (!t) {
    st_error("conv2d: out of memory for padding index tables");
    return NULL;
  }
  for (int i = 0; i < Hp; i++) t[i] = pad_src(i, d->pt, d->H, d->pad_mode);
  for (int j = 0; j < Wp; j++) t[Hp + j] = pad_src(j, d->pl, d->W, d->pad_mode);
  return t;
}

static void pad_image(const st_cpu_conv2d_desc *d, const int *tab, int Hp, int Wp, const float *x, float *xp) {
  const int *rt = tab, *ct = tab + Hp;
#pragma omp parallel for schedule(static) if ((long)d->C * Hp * Wp >= 32768)
  for (int c = 0; c < d->C; c++) {
    const float *src = x + (long)c * d->H * d->W;
    float *dst = xp + (long)c * Hp * Wp;
    for (int i = 0; i < Hp; i++) {
      const float *row = src + (long)rt[i] * d->W;
      for (int j = 0; j < Wp; j++) dst[(long)i * Wp + j] = row[ct[j]];
    }
  }
}

/* dx = the padded gradient with every copy summed back onto its source. */
static void unpad_image(const st_cpu_conv2d_desc *d, const int *tab, int Hp, int Wp, const float *dxp, float *dx) {
  const int *rt = tab, *ct = tab + Hp;
#pragma omp parallel for schedule(static) if ((long)d->C * Hp * Wp >= 32768)
  for (int c = 0; c < d->C; c++) {
    const float *src = dxp + (long)c * Hp * Wp;
    float *dst = dx + (long)c * d->H * d->W;
    memset(dst, 0, sizeof(float) * (size_t)d->H * (size_t)d->W);
    for (int i = 0; i < Hp; i++) {
      float *row = dst + (long)rt[i] * d->W;
      for (int j = 0; j < Wp; j++) row[ct[j]] += src[(long)i * Wp + j];
    }
  }
}

/* ---- shared set-up ---- */

typedef struct {
  st_cpu_im2col_geom g; /* over the (possibly pre-padded) input */
  int padded;           /* reflect/replicate with a non-zero pad: use a temporary */
  int pointwise;        /* 1x1, stride 1, no padding: x itself is the column matrix */
  int tile;             /* output rows per tile */
  int *tab;             /* padding index tables when padded */
  float *col, *xp, *dxp;
} plan;

static void plan_free(plan *p) {
  free(p->tab);
  if (p->col) st_mem_free(st_cpu(), p->col);
  if (p->xp) st_mem_free(st_cpu(), p->xp);
  if (p->dxp) st_mem_free(st_cpu(), p->dxp);
}

static float *scratch(size_t n, const char *what) {
  return st_mem_alloc(st_cpu(), (n ? n : 1) * sizeof(float), what);
}

static int plan_init(plan *p, const st_cpu_conv2d_desc *d, int need_xp, int need_dxp, int need_col) {
  memset(p, 0, sizeof *p);
  const int any_pad = d->pt || d->pb || d->pl || d->pr;
  p->padded = d->pad_mode != 0 && any_pad;
  st_cpu_im2col_geom *g = &p->g;
  g->C = d->C;
  g->H = p->padded ? d->H + d->pt + d->pb : d->H;
  g->W = p->padded ? d->W + d->pl + d->pr : d->W;
  g->kh = d->kh;
  g->kw = d->kw;
  g->sh = d->sh;
  g->sw = d->sw;
  g->pt = p->padded ? 0 : d->pt;
  g->pl = p->padded ? 0 : d->pl;
  g->GH = d->OH;
  g->GW = d->OW;
  p->pointwise = d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && !any_pad;
  p->tile = st_cpu_im2col_tile_rows(g, st_cpu_col_budget);
  if (p->padded) {
    size_t plane = (size_t)d->C * (size_t)g->H * (size_t)g->W;
    if (!(p->tab = pad_tables(d, g->H, g->W))) goto fail;
    if (need_xp && !(p->xp = scratch(plane, "conv2d padded input"))) goto fail;
    if (need_dxp && !(p->dxp = scratch(plane, "conv2d padded input gradient"))) goto fail;
  }
  if (need_col && !p->pointwise) {
    size_t n = (size_t)d->C * d->kh * d->kw * (size_t)p->tile * (size_t)d->OW;
    if (!(p->col = scratch(n, "conv2d column buffer"))) goto fail;
  }
  return 0;
fail:
  plan_free(p);
  return -1;
}

/* ---- forward ---- */

int st_cpu_conv2d_forward(const st_cpu_conv2d_desc *d, float *y, const float *x, const float *w, const float *b) {
  plan p;
  if (plan_init(&p, d, 1, 0, 1) != 0) return -1;
  const long HW = (long)d->H * d->W, P = (long)d->OH * d->OW;
  const int CKK = d->C * d->kh * d->kw;
  for (int n = 0; n < d->N; n++) {
    const float *xn = x + (long)n * d->C * HW;
    float *yn = y + (long)n * d->K * P;
    if (p.padded) {
      pad_image(d, p.tab, p.g.H, p.g.W, xn, p.xp);
      xn = p.xp;
    }
    /* Start from the bias (or zero) and let every GEMM accumulate onto it. */
    float beta = 0.0f;
    if (b) {
#pragma omp parallel for schedule(static) if ((long)d->K * P >= 32768)
      for (int k = 0; k < d->K; k++)
        for (long i = 0; i < P; i++) yn[k * P + i] = b[k];
      beta = 1.0f;
    }
    if (p.pointwise) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->K, (int)P, d->C, 1.0f, w, d->C, xn, (int)HW, beta,
                  yn, (int)P);
      continue;
    }
    for (int r0 = 0; r0 < d->OH; r0 += p.tile) {
      const int r1 = r0 + p.tile < d->OH ? r0 + p.tile : d->OH;
      const int T = (r1 - r0) * d->OW;
      st_cpu_im2col(&p.g, xn, r0, r1, p.col);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->K, T, CKK, 1.0f, w, CKK, p.col, T, beta,
                  yn + (long)r0 * d->OW, (int)P);
    }
  }
  plan_free(&p);
  return 0;
}

/* ---- backward ---- */

int st_cpu_conv2d_backward(const st_cpu_conv2d_desc *d, float *dx, float *dw, float *db, const float *dy,
                           const float *x, const float *w) {
  const long HW = (long)d->H * d->W, P = (long)d->OH * d->OW;
  const int CKK = d->C * d->kh * d->kw;
  if (db) {
#pragma omp parallel for schedule(static) if ((long)d->N * d->K * P >= 32768)
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
  if (plan_init(&p, d, dw != NULL, dx != NULL, 1) != 0) return -1;
  const long HWp = (long)p.g.H * p.g.W;
  for (int n = 0; n < d->N; n++) {
    const float *xn = dw ? x + (long)n * d->C * HW : NULL;
    const float *dyn = dy + (long)n * d->K * P;
    float *dxn = dx ? dx + (long)n * d->C * HW : NULL;
    float *dxt = dxn; /* where col2im accumulates: dx itself or the padded temporary */
    if (p.padded) {
      if (dw) {
        pad_image(d, p.tab, p.g.H, p.g.W, xn, p.xp);
        xn = p.xp;
      }
      dxt = p.dxp;
    }
    if (p.pointwise) {
      if (dw)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->K, d->C, (int)P, 1.0f, dyn, (int)P, xn, (int)HW, 1.0f,
                    dw, d->C);
      if (dx)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d->C, (int)P, d->K, 1.0f, w, d->C, dyn, (int)P, 0.0f,
                    dxn, (int)HW);
      continue;
    }
    if (dx) memset(dxt, 0, sizeof(float) * (size_t)(d->C * HWp));
    for (int r0 = 0; r0 < d->OH; r0 += p.tile) {
      const int r1 = r0 + p.tile < d->OH ? r0 + p.tile : d->OH;
      const int T = (r1 - r0) * d->OW;
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
    if (dx && p.padded) unpad_image(d, p.tab, p.g.H, p.g.W, p.dxp, dxn);
  }
  plan_free(&p);
  return 0;
}
