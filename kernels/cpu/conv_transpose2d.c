#include "conv_transpose2d.h"

#include <cblas.h>
#include <string.h>

#include "engine/error.h"
#include "kernels/cpu/blas_threads.h"
#include "engine/memory.h"
#include "conv2d.h"
#include "dnnl_conv.h"
#include "im2col.h"

/* A transposed conv is the adjoint of the conv2d that maps y back onto x's
 * grid: stride s, padding before = the crop. So the output y plays the
 * im2col "image" and the input x the "grid"; forward scatters with col2im,
 * backward gathers with im2col. */
static st_cpu_im2col_geom geom(const st_conv_transpose2d_desc *d) {
  st_cpu_im2col_geom g;
  g.C = d->Co;
  g.H = d->OH;
  g.W = d->OW;
  g.kh = d->kh;
  g.kw = d->kw;
  g.sh = d->sh;
  g.sw = d->sw;
  g.pt = d->crop_top;
  g.pl = d->crop_left;
  g.GH = d->H;
  g.GW = d->W;
  return g;
}

static float *col_buffer(const st_cpu_im2col_geom *g, int tile) {
  size_t n = (size_t)g->C * g->kh * g->kw * (size_t)tile * (size_t)g->GW;
  return st_mem_alloc(st_cpu(), (n ? n : 1) * sizeof(float), "conv_transpose2d column buffer");
}

static int im2col_forward(const st_conv_transpose2d_desc *d, float *y, const float *x, const float *w,
                          const float *b) {
  st_blas_ready();
  const st_cpu_im2col_geom g = geom(d);
  const int tile = st_cpu_im2col_tile_rows(&g, st_cpu_col_budget);
  const int CoKK = d->Co * d->kh * d->kw;
  const long HW = (long)d->H * d->W, P = (long)d->OH * d->OW;
  float *col = col_buffer(&g, tile);
  if (!col) return -1;
  for (int n = 0; n < d->N; n++) {
    const float *xn = x + (long)n * d->Ci * HW;
    float *yn = y + (long)n * d->Co * P;
    for (int c = 0; c < d->Co; c++) {
      const float v = b ? b[c] : 0.0f;
      for (long i = 0; i < P; i++) yn[c * P + i] = v;
    }
    for (int r0 = 0; r0 < d->H; r0 += tile) {
      const int r1 = r0 + tile < d->H ? r0 + tile : d->H;
      const int T = (r1 - r0) * d->W;
      /* col[Co*kh*kw, T] = w^T x: each input pixel's contribution to its output patch. */
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CoKK, T, d->Ci, 1.0f, w, CoKK, xn + (long)r0 * d->W,
                  (int)HW, 0.0f, col, T);
      st_cpu_col2im(&g, col, r0, r1, yn);
    }
  }
  st_mem_free(st_cpu(), col);
  return 0;
}

static int im2col_backward(const st_conv_transpose2d_desc *d, float *dx, float *dw, float *db, const float *dy,
                           const float *x, const float *w) {
  st_blas_ready();
  const long HW = (long)d->H * d->W, P = (long)d->OH * d->OW;
  if (db) {
    for (int c = 0; c < d->Co; c++) {
      double s = 0.0; /* planes of 10^5+ values: sum in double */
      for (int n = 0; n < d->N; n++) {
        const float *gp = dy + ((long)n * d->Co + c) * P;
        for (long i = 0; i < P; i++) s += gp[i];
      }
      db[c] += (float)s;
    }
  }
  if (!dx && !dw) return 0;

  const st_cpu_im2col_geom g = geom(d);
  const int tile = st_cpu_im2col_tile_rows(&g, st_cpu_col_budget);
  const int CoKK = d->Co * d->kh * d->kw;
  float *col = col_buffer(&g, tile);
  if (!col) return -1;
  for (int n = 0; n < d->N; n++) {
    const float *dyn = dy + (long)n * d->Co * P;
    for (int r0 = 0; r0 < d->H; r0 += tile) {
      const int r1 = r0 + tile < d->H ? r0 + tile : d->H;
      const int T = (r1 - r0) * d->W;
      /* Each input pixel's gradient is the dot of its output patch with the weights. */
      st_cpu_im2col(&g, dyn, r0, r1, col);
      if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->Ci, T, CoKK, 1.0f, w, CoKK, col, T, 0.0f,
                    dx + (long)n * d->Ci * HW + (long)r0 * d->W, (int)HW);
      if (dw)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->Ci, CoKK, T, 1.0f,
                    x + (long)n * d->Ci * HW + (long)r0 * d->W, (int)HW, col, T, 1.0f, dw, CoKK);
    }
  }
  st_mem_free(st_cpu(), col);
  return 0;
}

/* oneDNN's deconvolution unless im2col is forced (or oneDNN declines). */
static int use_dnnl(void) { return st_cpu_conv_effective_impl() != ST_CONV_IM2COL; }

int st_cpu_conv_transpose2d_forward(const st_conv_transpose2d_desc *d, float *y, const float *x, const float *w,
                                    const float *b) {
  int rc = use_dnnl() ? st_dnnl_conv_transpose2d_forward(d, y, x, w, b) : 1;
  return rc != 1 ? rc : im2col_forward(d, y, x, w, b);
}

int st_cpu_conv_transpose2d_backward(const st_conv_transpose2d_desc *d, float *dx, float *dw, float *db,
                                     const float *dy, const float *x, const float *w) {
  if (use_dnnl()) {
    int rc;
    if (dx) {
      if ((rc = st_dnnl_conv_transpose2d_backward_data(d, dx, dy, w)) == -1) return -1;
      if (rc == 0) dx = NULL; /* done */
    }
    if (dw) {
      if ((rc = st_dnnl_conv_transpose2d_backward_weights(d, dw, dy, x)) == -1) return -1;
      if (rc == 0) dw = NULL;
    }
  }
  return im2col_backward(d, dx, dw, db, dy, x, w);
}
