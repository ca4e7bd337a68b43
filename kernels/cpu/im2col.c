#include "im2col.h"

#include <string.h>

long st_cpu_col_budget = 1L << 20;

/* Grid columns [*lo, *hi) whose image column q*sw - pl + j lies inside [0, W). */
static void valid_cols(const st_cpu_im2col_geom *g, int j, int *lo, int *hi) {
  int a = g->pl - j;             /* need q*sw >= a */
  int b = g->W - 1 + g->pl - j;  /* need q*sw <= b */
  int l = a <= 0 ? 0 : (a + g->sw - 1) / g->sw;
  int h = b < 0 ? 0 : b / g->sw + 1;
  if (h > g->GW) h = g->GW;
  if (l > h) l = h;
  *lo = l;
  *hi = h;
}

void st_cpu_im2col(const st_cpu_im2col_geom *g, const float *image, int g0, int g1, float *col) {
  const int kk = g->kh * g->kw, rows = g->C * kk, GW = g->GW;
  const long T = (long)(g1 - g0) * GW;
  for (int r = 0; r < rows; r++) {
    const int c = r / kk, i = (r % kk) / g->kw, j = r % g->kw;
    int lo, hi;
    valid_cols(g, j, &lo, &hi);
    float *dst = col + (long)r * T;
    for (int gr = g0; gr < g1; gr++, dst += GW) {
      const int ih = gr * g->sh - g->pt + i;
      if (ih < 0 || ih >= g->H || lo == hi) {
        memset(dst, 0, sizeof(float) * (size_t)GW);
        continue;
      }
      /* src[t*sw] is grid column lo + t */
      const float *src = image + ((long)c * g->H + ih) * g->W + ((long)lo * g->sw - g->pl + j);
      for (int q = 0; q < lo; q++) dst[q] = 0.0f;
      if (g->sw == 1) {
        memcpy(dst + lo, src, sizeof(float) * (size_t)(hi - lo));
      } else {
        for (int q = lo; q < hi; q++) dst[q] = src[(long)(q - lo) * g->sw];
      }
      for (int q = hi; q < GW; q++) dst[q] = 0.0f;
    }
  }
}

void st_cpu_col2im(const st_cpu_im2col_geom *g, const float *col, int g0, int g1, float *image) {
  const int kk = g->kh * g->kw, GW = g->GW;
  const long T = (long)(g1 - g0) * GW;
  for (int c = 0; c < g->C; c++) {
    for (int i = 0; i < g->kh; i++) {
      for (int j = 0; j < g->kw; j++) {
        int lo, hi;
        valid_cols(g, j, &lo, &hi);
        if (lo == hi) continue;
        const float *src = col + ((long)c * kk + i * g->kw + j) * T;
        for (int gr = g0; gr < g1; gr++, src += GW) {
          const int ih = gr * g->sh - g->pt + i;
          if (ih < 0 || ih >= g->H) continue;
          float *dst = image + ((long)c * g->H + ih) * g->W + ((long)lo * g->sw - g->pl + j);
          const float *s = src + lo;
          const int n = hi - lo;
          if (g->sw == 1) {
            for (int t = 0; t < n; t++) dst[t] += s[t];
          } else {
            for (int t = 0; t < n; t++) dst[(long)t * g->sw] += s[t];
          }
        }
      }
    }
  }
}

int st_cpu_im2col_tile_rows(const st_cpu_im2col_geom *g, long budget) {
  long per_row = (long)g->C * g->kh * g->kw * g->GW;
  long rows = per_row > 0 ? budget / per_row : g->GH;
  if (rows < 1) rows = 1;
  if (rows > g->GH) rows = g->GH;
  return (int)rows;
}
