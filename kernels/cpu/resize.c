/* Bilinear resize with an antialiasing (scale-widened) triangle filter (CPU). */
#include "kernels/cpu/resize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* The taps of one axis: output i reads inputs start[i] .. start[i]+count[i]-1
 * with weights w[i*ksize ..]. */
typedef struct {
  int64_t *start, *count;
  float *w;
  int64_t ksize;
} taps;

static void taps_free(taps *t) {
  free(t->start);
  free(t->count);
  free(t->w);
  t->start = t->count = NULL;
  t->w = NULL;
}

static double triangle(double x) {
  x = fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

static int taps_make(taps *t, int64_t in, int64_t out) {
  const double scale = (double)in / (double)out;
  const double fscale = scale > 1.0 ? scale : 1.0; /* widen only when shrinking */
  const double support = fscale;                   /* the triangle's half-width is 1 input pixel */
  t->ksize = (int64_t)ceil(support) * 2 + 1;
  t->start = malloc((size_t)out * sizeof(int64_t));
  t->count = malloc((size_t)out * sizeof(int64_t));
  t->w = malloc((size_t)(out * t->ksize) * sizeof(float));
  if (!t->start || !t->count || !t->w) {
    taps_free(t);
    return st_error("resize: out of memory for the filter taps (%lld outputs)", (long long)out);
  }
  for (int64_t i = 0; i < out; i++) {
    const double centre = ((double)i + 0.5) * scale; /* in input coordinates, pixel j spans [j, j+1) */
    /* The inputs whose centres j+0.5 lie within the support; rounding as PIL does. */
    int64_t lo = (int64_t)(centre - support + 0.5), hi = (int64_t)(centre + support + 0.5);
    if (lo < 0) lo = 0;
    if (hi > in) hi = in;
    double sum = 0.0;
    for (int64_t j = lo; j < hi; j++) sum += triangle(((double)j + 0.5 - centre) / fscale);
    float *w = t->w + i * t->ksize;
    for (int64_t j = 0; j < t->ksize; j++)
      w[j] = (j < hi - lo && sum > 0.0) ? (float)(triangle(((double)(lo + j) + 0.5 - centre) / fscale) / sum) : 0.0f;
    t->start[i] = lo;
    t->count[i] = hi - lo;
  }
  return 0;
}

int st_cpu_resize_bilinear_forward(float *y, const float *x, int64_t planes, int64_t H, int64_t W, int64_t OH,
                                   int64_t OW) {
  if (H == OH && W == OW) {
    memcpy(y, x, (size_t)(planes * H * W) * sizeof(float));
    return 0;
  }
  taps tw = {0}, th = {0};
  float *tmp = NULL;
  int rc = -1;
  if (taps_make(&tw, W, OW) || taps_make(&th, H, OH)) goto done;
  /* Rows first into tmp [planes][H][OW] (or straight into y when the height stays). */
  const float *rows = x;
  if (W != OW) {
    float *dst = y;
    if (H != OH) {
      tmp = malloc((size_t)(planes * H * OW) * sizeof(float));
      if (!tmp) {
        st_error("resize: out of memory for a %lld x %lld x %lld intermediate", (long long)planes, (long long)H,
                 (long long)OW);
        goto done;
      }
      dst = tmp;
    }
#pragma omp parallel for if (planes * H * OW >= 16384)
    for (int64_t r = 0; r < planes * H; r++) {
      const float *xr = x + r * W;
      float *dr = dst + r * OW;
      for (int64_t o = 0; o < OW; o++) {
        const float *w = tw.w + o * tw.ksize, *src = xr + tw.start[o];
        float s = 0.0f;
        for (int64_t k = 0; k < tw.count[o]; k++) s += w[k] * src[k];
        dr[o] = s;
      }
    }
    rows = dst;
  }
  if (H != OH) {
    /* Columns: each output row is a weighted sum of whole input rows (vectorises over the width). */
#pragma omp parallel for if (planes * OH * OW >= 16384)
    for (int64_t r = 0; r < planes * OH; r++) {
      const int64_t p = r / OH, o = r % OH;
      const float *w = th.w + o * th.ksize;
      float *yr = y + r * OW;
      for (int64_t i = 0; i < OW; i++) yr[i] = 0.0f;
      for (int64_t k = 0; k < th.count[o]; k++) {
        const float *src = rows + (p * H + th.start[o] + k) * OW;
        const float wk = w[k];
#pragma omp simd
        for (int64_t i = 0; i < OW; i++) yr[i] += wk * src[i];
      }
    }
  }
  rc = 0;
done:
  free(tmp);
  taps_free(&tw);
  taps_free(&th);
  return rc;
}
