/* Forward convs in row bands (kernels/cpu/dnnl_conv.c): with the band limits
 * lowered so small images are cut into bands, conv2d and conv_transpose2d
 * forward give what the whole conv gives (Winograd and direct, strides 1 and
 * 2, TensorFlow "same" pads, a 9x9 kernel, batch 2, bands that do not divide
 * the height), and the allocator's peak during a call (oneDNN's blocked
 * copies and scratchpad) is a band's, not the image's. */
#include <math.h>
#include <stdlib.h>

#include "engine/memory.h"
#include "kernels/cpu/dnnl_conv.h"
#include "tap.h"
#include "testutil.h"

static const size_t DEFAULT_ABOVE = (size_t)64 << 20, DEFAULT_BYTES = (size_t)8 << 20;

static float *randoms(size_t n) {
  float *p = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; i++) p[i] = frand();
  return p;
}

static double max_diff(const float *a, const float *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - (double)b[i]);
    if (!(d <= m)) m = d; /* NaN too */
  }
  return m;
}

typedef struct {
  const char *name;
  int deconv, alg;
  st_conv2d_desc c;           /* when !deconv */
  st_conv_transpose2d_desc t; /* when deconv */
  int rows;                   /* band height to ask for (output rows) */
} tcase;

static size_t n_x(const tcase *k) {
  return k->deconv ? (size_t)k->t.N * k->t.Ci * k->t.H * k->t.W : (size_t)k->c.N * k->c.C * k->c.H * k->c.W;
}
static size_t n_w(const tcase *k) {
  return k->deconv ? (size_t)k->t.Ci * k->t.Co * k->t.kh * k->t.kw : (size_t)k->c.K * k->c.C * k->c.kh * k->c.kw;
}
static int n_out_ch(const tcase *k) { return k->deconv ? k->t.Co : k->c.K; }
static size_t n_y(const tcase *k) {
  return k->deconv ? (size_t)k->t.N * k->t.Co * k->t.OH * k->t.OW : (size_t)k->c.N * k->c.K * k->c.OH * k->c.OW;
}
/* Bytes of one output row of the batch: the band limit for `rows` rows. */
static size_t row_bytes(const tcase *k) {
  return k->deconv ? (size_t)k->t.N * k->t.Co * k->t.OW * 4 : (size_t)k->c.N * k->c.K * k->c.OW * 4;
}

static int fwd(const tcase *k, float *y, const float *x, const float *w, const float *b) {
  return k->deconv ? st_dnnl_conv_transpose2d_forward(&k->t, y, x, w, b)
                   : st_dnnl_conv2d_forward(&k->c, k->alg, ST_DNNL_ANY, y, x, w, b);
}

/* Runs k whole and in bands of k->rows output rows (limits lowered so any
 * size bands; the src rows per band stay within the same byte budget, which
 * for a stride-2 conv halves the rows). */
static void compare(const tcase *k) {
  float *x = randoms(n_x(k)), *w = randoms(n_w(k)), *b = randoms((size_t)n_out_ch(k));
  float *whole = calloc(n_y(k), sizeof(float)), *band = calloc(n_y(k), sizeof(float));
  int rc1 = fwd(k, whole, x, w, b);
  st_dnnl_set_bands(0, row_bytes(k) * (size_t)k->rows, NULL, NULL);
  int rc2 = fwd(k, band, x, w, b);
  st_dnnl_set_bands(DEFAULT_ABOVE, DEFAULT_BYTES, NULL, NULL);
  double e = max_diff(whole, band, n_y(k));
  tap_ok(rc1 == 0 && rc2 == 0 && e <= 1e-4, "%s: in bands of %d rows as whole (max abs diff %.3g)", k->name, k->rows,
         e);
  free(x), free(w), free(b), free(whole), free(band);
}

/* The allocator's peak over a call rises by a band's temporaries, not the
 * image's: the banded call runs first (the process's peak is then its own),
 * the whole one second (it can only raise the peak further). */
static void check_peak(void) {
  tcase k = {"peak", 0, ST_DNNL_DIRECT, {1, 32, 128, 128, 32, 3, 3, 1, 1, 1, 1, 1, 1, 0, 128, 128}, {0}, 16};
  float *x = randoms(n_x(&k)), *w = randoms(n_w(&k)), *b = randoms(32), *y = calloc(n_y(&k), sizeof(float));
  st_mem_empty_cache(st_cpu());
  const size_t base = st_mem_get_stats(st_cpu()).in_use;
  st_dnnl_set_bands(0, row_bytes(&k) * 16, NULL, NULL);
  int rc1 = fwd(&k, y, x, w, b);
  const size_t banded = st_mem_get_stats(st_cpu()).peak - base;
  st_dnnl_set_bands(DEFAULT_ABOVE, DEFAULT_BYTES, NULL, NULL);
  int rc2 = fwd(&k, y, x, w, b);
  const size_t whole = st_mem_get_stats(st_cpu()).peak - base;
  const size_t image = n_y(&k) * sizeof(float);
  tap_diag("temporaries of a 32x128x128 conv: whole %.2f MiB, in 8 bands %.2f MiB", whole / 1048576.0,
           banded / 1048576.0);
  tap_ok(rc1 == 0 && rc2 == 0 && banded * 3 <= whole && banded < image,
         "in bands the call's temporaries are a fraction of the whole call's and less than its output");
  free(x), free(w), free(b), free(y);
}

int main(void) {
  tu_seed(14);
  if (!st_dnnl_enabled()) {
    tap_skip_all("built without oneDNN: nothing runs in bands");
    return 0;
  }
  check_peak();
  /* st_conv2d_desc: N, C, H, W, K, kh, kw, sh, sw, pt, pb, pl, pr, pad_mode, OH, OW
   * st_conv_transpose2d_desc: N, Ci, H, W, Co, kh, kw, sh, sw, crop_top, crop_left, OH, OW */
  const tcase cases[] = {
      {"3x3/1 Winograd, batch 2", 0, ST_DNNL_WINOGRAD, {2, 16, 37, 29, 16, 3, 3, 1, 1, 1, 1, 1, 1, 0, 37, 29}, {0}, 8},
      {"3x3/1 direct, batch 2", 0, ST_DNNL_DIRECT, {2, 16, 37, 29, 16, 3, 3, 1, 1, 1, 1, 1, 1, 0, 37, 29}, {0}, 8},
      {"3x3/2 same (0, 1)", 0, ST_DNNL_DIRECT, {1, 8, 37, 30, 16, 3, 3, 2, 2, 0, 1, 0, 1, 0, 18, 15}, {0}, 4},
      {"3x3/2 pad 1", 0, ST_DNNL_DIRECT, {1, 8, 38, 30, 16, 3, 3, 2, 2, 1, 1, 1, 1, 0, 19, 15}, {0}, 4},
      {"9x9/1 pad 4, 3 inputs", 0, ST_DNNL_DIRECT, {1, 3, 30, 21, 16, 9, 9, 1, 1, 4, 4, 4, 4, 0, 30, 21}, {0}, 4},
      {"9x9/1 unpadded", 0, ST_DNNL_DIRECT, {1, 3, 30, 21, 16, 9, 9, 1, 1, 0, 0, 0, 0, 0, 22, 13}, {0}, 4},
      {"transposed 3x3/2, crop 0", 1, 0, {0}, {2, 16, 13, 11, 8, 3, 3, 2, 2, 0, 0, 26, 22}, 4},
      {"transposed 3x3/2, crop 1", 1, 0, {0}, {1, 16, 13, 11, 8, 3, 3, 2, 2, 1, 1, 26, 22}, 4},
      {"transposed 3x3/2, crop 1, odd", 1, 0, {0}, {1, 16, 13, 11, 8, 3, 3, 2, 2, 1, 1, 25, 21}, 8},
      {"transposed 3x3/2, full", 1, 0, {0}, {1, 16, 13, 11, 8, 3, 3, 2, 2, 0, 0, 27, 23}, 4},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) compare(&cases[i]);
  return tap_done();
}
