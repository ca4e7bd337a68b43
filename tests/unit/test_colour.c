/* preserve_colors (CPU): against numpy's float64 computation through the
 * inverted YCbCr matrix (tests/fixtures/gen_colour_fixture.py) on unclipped
 * float input and on 8-bit input, against PIL's 8-bit YCbCr round trip within
 * its quantisation (4 levels); the identities (an image with its own colours is itself; a grey
 * image keeps the original's chroma); argument errors. */
#include <math.h>
#include <string.h>

#include "../fixtures/colour_fixture.h"
#include "error.h"
#include "ops/ops.h"
#include "tap.h"

#define N (3 * COLF_H * COLF_W)

static st_tensor *image(const float *v) {
  int64_t s[3] = { 3, COLF_H, COLF_W };
  st_tensor *t = st_tensor_new(3, s, st_cpu());
  memcpy(st_tensor_data(t), v, N * sizeof(float));
  return t;
}

/* clamp: compare what an 8-bit image holds (PIL clips out-of-gamut colours). */
static double max_diff(const st_tensor *y, const float *ref, int clamp) {
  double m = 0;
  for (int i = 0; i < N; i++) {
    double v = st_tensor_data(y)[i];
    if (clamp) v = fmin(255.0, fmax(0.0, v));
    m = fmax(m, fabs(v - ref[i]));
  }
  return m;
}

static double run(const float *lum, const float *chroma, const float *ref, int clamp) {
  st_tensor *l = image(lum), *c = image(chroma), *y = image(lum);
  int rc = st_preserve_colors(y, l, c);
  double d = rc ? INFINITY : max_diff(y, ref, clamp);
  st_tensor_release(l);
  st_tensor_release(c);
  st_tensor_release(y);
  return d;
}

int main(void) {
  double d = run(colf_lum, colf_chroma, colf_numpy, 0);
  tap_ok(d < 2e-3, "unclipped float input: matches numpy (float64, inverted matrix), max diff %.2g", d);
  d = run(colf_lum8, colf_chroma8, colf_numpy8, 0);
  tap_ok(d < 2e-3, "8-bit input: matches numpy, max diff %.2g", d);
  d = run(colf_lum8, colf_chroma8, colf_pil8, 1);
  /* PIL stores Y, Cb and Cr as 8-bit between the conversions: a rounded Cb
   * moves B by up to 1.772 * 0.5, plus Y's rounding and the final one. */
  tap_ok(d <= 4.0, "8-bit input, clamped to 0..255: within 4 levels of PIL's 8-bit YCbCr round trip, max diff %.2g", d);

  /* An image with its own colours is itself (in range: no clamping). */
  d = run(colf_chroma, colf_chroma, colf_chroma, 0);
  tap_ok(d < 1e-3, "an image with its own chroma comes back unchanged, max diff %.2g", d);

  /* A grey stylization (R = G = B = v) takes the original's chroma: the
   * result minus its luminance is the original minus its luminance. */
  float grey[N];
  for (int i = 0; i < COLF_H * COLF_W; i++) grey[i] = grey[COLF_H * COLF_W + i] = grey[2 * COLF_H * COLF_W + i] = 100.0f;
  st_tensor *g = image(grey), *c = image(colf_chroma), *y = image(grey);
  st_preserve_colors(y, g, c);
  double worst = 0;
  int n = COLF_H * COLF_W;
  for (int i = 0; i < n; i++) {
    const float *o = colf_chroma, *r = st_tensor_data(y);
    double lo = 0.299 * o[i] + 0.587 * o[n + i] + 0.114 * o[2 * n + i];
    double ly = 0.299 * r[i] + 0.587 * r[n + i] + 0.114 * r[2 * n + i];
    worst = fmax(worst, fabs(ly - 100.0));
    for (int ch = 0; ch < 3; ch++) worst = fmax(worst, fabs((r[ch * n + i] - ly) - (o[ch * n + i] - lo)));
  }
  tap_ok(worst < 1e-3, "a grey stylization keeps its luminance and takes the original's colour offsets (%.2g)", worst);

  /* Errors: shapes and channels. */
  int64_t s2[3] = { 3, COLF_H, COLF_W + 1 }, s4[3] = { 4, COLF_H, COLF_W };
  st_tensor *wide = st_tensor_zeros(3, s2, st_cpu()), *four = st_tensor_zeros(3, s4, st_cpu());
  int rc = st_preserve_colors(y, g, wide);
  tap_ok(rc != 0 && strstr(st_last_error(), "original image"), "a differently sized original is refused: %s",
         st_last_error());
  rc = st_preserve_colors(four, four, four);
  tap_ok(rc != 0 && strstr(st_last_error(), "4 channels"), "a 4-channel image is refused: %s", st_last_error());
  st_tensor_release(g);
  st_tensor_release(c);
  st_tensor_release(y);
  st_tensor_release(wide);
  st_tensor_release(four);
  tap_plan(tap_n);
  return tap_failed != 0;
}
