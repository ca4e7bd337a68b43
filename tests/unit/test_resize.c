/* Bilinear resize (CPU): identity at equal sizes, constants stay constant,
 * a 2x downscale of a ramp averages pixel pairs, planes are independent, and
 * the values match PIL's Image.resize(..., BILINEAR) on float ('F') images,
 * both shrinking (the widened, antialiasing triangle) and enlarging.
 *
 * The pil_* arrays were generated once with Pillow 9.4 (python3-pil) by this
 * snippet and pasted here; the test does not run python:
 *
 *   import numpy as np; from PIL import Image
 *   rng = np.random.RandomState(7)
 *   x = np.round(rng.rand(9, 11), 3).astype(np.float32)                  # pil_in
 *   for oh, ow in [(4, 5), (3, 7), (12, 14), (5, 17)]:                   # pil_OHxOW
 *       np.asarray(Image.fromarray(x, mode="F").resize((ow, oh), Image.BILINEAR))
 *   def img(H, W):                                                       # formula_image()
 *       i, j = np.mgrid[0:H, 0:W]; return ((i*i*7 + j*13 + i*j*3) % 256).astype(np.float32)
 *   for H, W, oh, ow in [(40, 37, 7, 5), (3, 4, 8, 11)]:                 # pil_fHxW_OHxOW
 *       same resize of img(H, W)
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "ops/ops.h"
#include "tap.h"
#include "testutil.h"

static const float pil_in[99] = {
    0.076, 0.78, 0.438, 0.723, 0.978, 0.538, 0.501, 0.072, 0.268, 0.5, 0.679, 0.804, 0.381, 0.066, 0.288, 0.91,
    0.213, 0.452, 0.931, 0.025, 0.601, 0.95, 0.23, 0.548, 0.909, 0.133, 0.523, 0.75, 0.669, 0.468, 0.205, 0.491,
    0.372, 0.477, 0.366, 0.838, 0.769, 0.314, 0.573, 0.276, 0.453, 0.353, 0.657, 0.37, 0.459, 0.719, 0.413,
    0.906, 0.18, 0.741, 0.422, 0.426, 0.634, 0.523, 0.415, 0.001, 0.092, 0.709, 0.524, 0.696, 0.955, 0.683,
    0.053, 0.309, 0.593, 0.235, 0.965, 0.945, 0.848, 0.472, 0.841, 0.131, 0.309, 0.463, 0.742, 0.486, 0.137,
    0.344, 0.324, 0.3, 0.166, 0.415, 0.448, 0.775, 0.796, 0.522, 0.461, 0.778, 0.887, 0.675, 0.8, 0.939, 0.041,
    0.876, 0.277, 0.476, 0.797, 0.717, 0.147};
static const float pil_4x5[20] = {
    0.4716612, 0.5087333, 0.5607566, 0.4126333, 0.5403973, 0.502374, 0.5726219, 0.5234644, 0.4395305, 0.4739338,
    0.4824994, 0.5934024, 0.5844859, 0.4322795, 0.4404808, 0.6165469, 0.5114131, 0.4901131, 0.5995309, 0.5259891};
static const float pil_3x7[21] = {
    0.470825, 0.4733333, 0.5688437, 0.5377631, 0.4983281, 0.3397778, 0.62125, 0.4381333, 0.6262777, 0.5613195,
    0.5854035, 0.4102431, 0.4729815, 0.4218667, 0.570475, 0.5701528, 0.4811875, 0.519625, 0.5372266, 0.5860903,
    0.454375};
static const float pil_12x14[168] = {
    0.076, 0.5537143, 0.6212143, 0.50925, 0.7321072, 0.9324642, 0.7108572, 0.5234643, 0.4243928, 0.08732142,
    0.219, 0.3922857, 0.5575357, 0.679, 0.531, 0.5307456, 0.3796741, 0.2669062, 0.4684241, 0.8490045, 0.5708348,
    0.3881071, 0.4951071, 0.6039286, 0.2393125, 0.3555893, 0.6548125, 0.848375, 0.58875, 0.4902723, 0.4150714,
    0.3440625, 0.2489821, 0.6693393, 0.5520715, 0.461125, 0.573375, 0.749375, 0.2587188, 0.3428125, 0.6155179,
    0.73325, 0.260875, 0.4402723, 0.6992991, 0.7282187, 0.2226562, 0.4460937, 0.637125, 0.6854464, 0.5924197,
    0.4716161, 0.2841562, 0.3779196, 0.46675, 0.37175, 0.446125, 0.407192, 0.6014509, 0.8075312, 0.6770223,
    0.4025134, 0.4949464, 0.4890536, 0.3482946, 0.4502411, 0.3645937, 0.4961518, 0.55075, 0.37025, 0.46575,
    0.5477723, 0.5800089, 0.6429375, 0.8323259, 0.3417456, 0.5020982, 0.5559196, 0.3795491, 0.4336652, 0.5055,
    0.5525312, 0.5169598, 0.398125, 0.28725, 0.4206741, 0.5025045, 0.5836875, 0.7488482, 0.4430089, 0.6453482,
    0.7028527, 0.4781339, 0.2944732, 0.455625, 0.5320134, 0.4844018, 0.3475, 0.1215, 0.1738348, 0.4436518,
    0.6741562, 0.5245223, 0.6790134, 0.7978348, 0.7672411, 0.54125, 0.12325, 0.2984062, 0.4791071, 0.4649152,
    0.22275, 0.8445, 0.8403437, 0.8347768, 0.7425938, 0.4907991, 0.7613795, 0.4653438, 0.2818304, 0.36575,
    0.40975, 0.6188437, 0.5868928, 0.3868348, 0.14925, 0.576875, 0.5633035, 0.5330223, 0.4493125, 0.29125,
    0.52225, 0.4256205, 0.4356384, 0.6129062, 0.6685938, 0.6211562, 0.5326473, 0.4919911, 0.537625, 0.547625,
    0.4851964, 0.4704241, 0.4795938, 0.4494063, 0.3070937, 0.4773839, 0.6005446, 0.6039196, 0.6728661,
    0.6378437, 0.5886295, 0.5519777, 0.541375, 0.887, 0.7431428, 0.7330357, 0.83475, 0.9069286, 0.2013571,
    0.5479643, 0.6406786, 0.3125357, 0.4688929, 0.71675, 0.7541429, 0.5337857, 0.147};
static const float pil_5x17[85] = {
    0.399, 0.4900252, 0.5594622, 0.3781471, 0.3872437, 0.5192479, 0.7922605, 0.7390042, 0.4138571, 0.4644202,
    0.4850672, 0.4698151, 0.2866219, 0.249542, 0.4975504, 0.6647101, 0.7732143, 0.4148125, 0.435989, 0.4914522,
    0.6654706, 0.5772463, 0.3707794, 0.4804154, 0.55275, 0.594, 0.5367353, 0.518625, 0.5475, 0.3544632,
    0.2989118, 0.5227941, 0.5191618, 0.47975, 0.3554706, 0.4180312, 0.4994982, 0.560474, 0.6655086, 0.7573564,
    0.4655709, 0.480782, 0.7518235, 0.555917, 0.4183322, 0.3507336, 0.430955, 0.5101384, 0.5616367, 0.4603841,
    0.3620588, 0.5473125, 0.5542243, 0.5784485, 0.6689155, 0.59025, 0.447636, 0.6320074, 0.6212684, 0.4479375,
    0.4901985, 0.4791507, 0.4041323, 0.4962096, 0.553511, 0.5207132, 0.3946066, 0.2878125, 0.6598572, 0.6052689,
    0.5491849, 0.5784874, 0.5830546, 0.5557731, 0.3513487, 0.3928739, 0.6393571, 0.5444705, 0.5278614,
    0.6051849, 0.6492731, 0.6553488, 0.6007185, 0.4986303, 0.4167143};
static const float pil_f40x37_7x5[35] = {
    106.4698, 131.4186, 125.0635, 127.7516, 133.2535, 125.5873, 126.7514, 126.2921, 131.4961, 134.5428,
    121.9196, 125.5805, 117.5006, 133.2025, 127.1897, 128.578, 126.2405, 125.9426, 130.884, 126.6594, 122.7689,
    126.8335, 129.4261, 119.4786, 118.0285, 129.6842, 122.3999, 126.7227, 125.129, 126.6676, 145.9021, 125.5232,
    129.9865, 129.9188, 140.7188};
static const float pil_f3x4_8x11[88] = {
    0, 0.5909091, 5.318182, 10.04545, 14.77273, 19.5, 24.22727, 28.95455, 33.68182, 38.40909, 39, 0.4375,
    1.036932, 5.832386, 10.62784, 15.4233, 20.21875, 25.0142, 29.80966, 34.60511, 39.40057, 40, 3.0625,
    3.713068, 8.917614, 14.12216, 19.3267, 24.53125, 29.73579, 34.94034, 40.14489, 45.34943, 46, 5.6875,
    6.389205, 12.00284, 17.61648, 23.23011, 28.84375, 34.45739, 40.07102, 45.68466, 51.2983, 52, 10.9375,
    11.69034, 17.71307, 23.7358, 29.75852, 35.78125, 41.80398, 47.82671, 53.84943, 59.87216, 60.625, 18.8125,
    19.61648, 26.0483, 32.48011, 38.91193, 45.34375, 51.77557, 58.20739, 64.63921, 71.07102, 71.875, 26.6875,
    27.54261, 34.38352, 41.22443, 48.06534, 54.90625, 61.74716, 68.58807, 75.42898, 82.26988, 83.125, 28,
    28.86364, 35.77273, 42.68182, 49.59091, 56.5, 63.40909, 70.31818, 77.22727, 84.13636, 85};


static double max_err(const float *a, const float *b, int64_t n) {
  double e = 0;
  for (int64_t i = 0; i < n; i++) e = fmax(e, fabs((double)a[i] - (double)b[i]));
  return e;
}

/* Resizes one H x W plane held in `in` to OH x OW and compares with `want`. */
static void check_plane(const float *in, int64_t H, int64_t W, const float *want, int64_t OH, int64_t OW, double tol,
                        const char *what) {
  st_tensor *x = st_tensor_new4(1, 1, H, W, st_cpu()), *y = st_tensor_new4(1, 1, OH, OW, st_cpu());
  memcpy(st_tensor_data(x), in, (size_t)(H * W) * sizeof(float));
  int rc = st_resize_bilinear_forward(y, x);
  double e = rc ? INFINITY : max_err(st_tensor_data(y), want, OH * OW);
  tap_ok(e <= tol, "%s: %lldx%lld -> %lldx%lld matches PIL (max err %.3g)", what, (long long)H, (long long)W,
         (long long)OH, (long long)OW, e);
  st_tensor_release(x), st_tensor_release(y);
}

static void formula_image(float *p, int64_t H, int64_t W) {
  for (int64_t i = 0; i < H; i++)
    for (int64_t j = 0; j < W; j++) p[i * W + j] = (float)((i * i * 7 + j * 13 + i * j * 3) % 256);
}

int main(void) {
  tu_seed(0x94D049BB133111EBull);
  st_device cpu = st_cpu();

  /* ---- identity when the sizes are equal ---- */
  {
    st_tensor *x = st_tensor_new4(2, 3, 7, 5, cpu), *y = st_tensor_new4(2, 3, 7, 5, cpu);
    for (int64_t i = 0; i < x->numel; i++) st_tensor_data(x)[i] = (float)urand();
    tap_ok(st_resize_bilinear_forward(y, x) == 0 &&
               memcmp(st_tensor_data(x), st_tensor_data(y), x->numel * sizeof(float)) == 0,
           "equal sizes: an exact copy");
    st_tensor_release(x), st_tensor_release(y);
  }

  /* ---- a constant image stays constant, shrinking, enlarging and mixed ---- */
  {
    static const int64_t outs[][2] = {{5, 7}, {20, 31}, {3, 40}, {1, 1}, {13, 9}};
    st_tensor *x = st_tensor_new4(1, 2, 13, 9, cpu);
    st_tensor_fill(x, 0.7f);
    for (int k = 0; k < 5; k++) {
      st_tensor *y = st_tensor_new4(1, 2, outs[k][0], outs[k][1], cpu);
      int rc = st_resize_bilinear_forward(y, x);
      double e = 0;
      for (int64_t i = 0; i < y->numel; i++) e = fmax(e, fabs(st_tensor_data(y)[i] - 0.7));
      tap_ok(rc == 0 && e <= 1e-6, "constant 13x9 -> %lldx%lld stays constant (max err %.3g)",
             (long long)outs[k][0], (long long)outs[k][1], e);
      st_tensor_release(y);
    }
    st_tensor_release(x);
  }

  /* ---- 2x downscale of a horizontal ramp x[i][j] = j, width 8 -> 4 ----
   * The filter is a triangle of half-width 2 input pixels; centre 2o+1 gives
   * weights 1/8, 3/8, 3/8, 1/8 on columns 2o-1 .. 2o+2: the pair average
   * 2o + 0.5 inside. At the edges the missing tap is dropped and the rest
   * renormalised: (0*3 + 1*3 + 2*1) / 7 = 5/7 and (5*1 + 6*3 + 7*3) / 7 = 44/7. */
  {
    st_tensor *x = st_tensor_new4(1, 1, 6, 8, cpu), *y = st_tensor_new4(1, 1, 3, 4, cpu);
    for (int i = 0; i < 6; i++)
      for (int j = 0; j < 8; j++) st_tensor_data(x)[i * 8 + j] = (float)j;
    st_resize_bilinear_forward(y, x);
    const float want[4] = {5.0f / 7.0f, 2.5f, 4.5f, 44.0f / 7.0f};
    double e = 0;
    for (int i = 0; i < 3; i++) e = fmax(e, max_err(st_tensor_data(y) + i * 4, want, 4));
    tap_ok(e <= 1e-5, "2x downscale of a ramp: pair averages inside, renormalised edges (max err %.3g)", e);
    /* The same ramp along the height. */
    st_tensor *xt = st_tensor_new4(1, 1, 8, 6, cpu), *yt = st_tensor_new4(1, 1, 4, 3, cpu);
    for (int i = 0; i < 8; i++)
      for (int j = 0; j < 6; j++) st_tensor_data(xt)[i * 6 + j] = (float)i;
    st_resize_bilinear_forward(yt, xt);
    e = 0;
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 3; j++) e = fmax(e, fabs(st_tensor_data(yt)[i * 3 + j] - want[i]));
    tap_ok(e <= 1e-5, "2x downscale of a vertical ramp (max err %.3g)", e);
    /* Enlarging 2x is plain bilinear with half-pixel centres: 0, 0.25, 0.75, 1.25, ..., clamped at the ends. */
    st_tensor *u = st_tensor_new4(1, 1, 1, 16, cpu), *row = st_tensor_new4(1, 1, 1, 8, cpu);
    memcpy(st_tensor_data(row), st_tensor_data(x), 8 * sizeof(float)); /* the first row of the ramp */
    st_resize_bilinear_forward(u, row);
    e = 0;
    for (int j = 0; j < 16; j++) {
      double pos = (j + 0.5) / 2.0 - 0.5;
      e = fmax(e, fabs(st_tensor_data(u)[j] - fmin(fmax(pos, 0.0), 7.0)));
    }
    tap_ok(e <= 1e-6, "2x upscale of a ramp: bilinear with edge clamping (max err %.3g)", e);
    st_tensor_release(x), st_tensor_release(y), st_tensor_release(xt), st_tensor_release(yt);
    st_tensor_release(u), st_tensor_release(row);
  }

  /* ---- against PIL (values in 0..1, so 1e-5 is far below 0.5/255) ---- */
  check_plane(pil_in, 9, 11, pil_4x5, 4, 5, 1e-5, "random, shrink");
  check_plane(pil_in, 9, 11, pil_3x7, 3, 7, 1e-5, "random, shrink by different factors");
  check_plane(pil_in, 9, 11, pil_12x14, 12, 14, 1e-5, "random, enlarge");
  check_plane(pil_in, 9, 11, pil_5x17, 5, 17, 1e-5, "random, shrink height, enlarge width");
  {
    float big[40 * 37], small[3 * 4];
    formula_image(big, 40, 37);
    formula_image(small, 3, 4);
    /* 0..255 values: 2e-3 is still well under half a grey level. */
    check_plane(big, 40, 37, pil_f40x37_7x5, 7, 5, 2e-3, "0..255 pattern, shrink ~6-7x");
    check_plane(small, 3, 4, pil_f3x4_8x11, 8, 11, 2e-3, "0..255 pattern, enlarge ~2.7x");
  }

  /* ---- planes are resized independently ---- */
  {
    st_tensor *x = st_tensor_new4(2, 3, 9, 11, cpu), *y = st_tensor_new4(2, 3, 4, 5, cpu);
    for (int p = 0; p < 6; p++)
      for (int i = 0; i < 99; i++) st_tensor_data(x)[p * 99 + i] = pil_in[i] * (float)(p + 1) - (float)p;
    st_resize_bilinear_forward(y, x);
    double e = 0;
    for (int p = 0; p < 6; p++)
      for (int i = 0; i < 20; i++)
        e = fmax(e, fabs(st_tensor_data(y)[p * 20 + i] - (pil_4x5[i] * (double)(p + 1) - p)));
    tap_ok(e <= 1e-4, "a [2, 3] batch resizes each plane alone (max err %.3g)", e);
    st_tensor_release(x), st_tensor_release(y);
  }

  /* ---- a large shrink (photo to training size) runs and keeps the mean ---- */
  {
    st_tensor *x = st_tensor_new4(1, 3, 1200, 1600, cpu), *y = st_tensor_new4(1, 3, 256, 256, cpu);
    float *p = st_tensor_data(x);
    for (int64_t i = 0; i < x->numel; i++) p[i] = (float)(255.0 * urand());
    int rc = st_resize_bilinear_forward(y, x);
    double mx = 0, my = 0, lo = 1e9, hi = -1e9;
    for (int64_t i = 0; i < x->numel; i++) mx += p[i];
    for (int64_t i = 0; i < y->numel; i++) {
      float v = st_tensor_data(y)[i];
      my += v, lo = fmin(lo, v), hi = fmax(hi, v);
    }
    mx /= x->numel, my /= y->numel;
    /* Noise averaged over ~6x5 pixels per output: outputs stay near the mean, not 0..255 (no aliasing). */
    tap_ok(rc == 0 && fabs(mx - my) < 0.5 && lo > 60 && hi < 195,
           "1200x1600 noise -> 256x256: mean %.2f vs %.2f, range [%.1f, %.1f]", my, mx, lo, hi);
    st_tensor_release(x), st_tensor_release(y);
  }

  /* ---- argument errors ---- */
  {
    st_tensor *x = st_tensor_new4(2, 3, 9, 11, cpu), *y = st_tensor_new4(2, 4, 4, 5, cpu);
    int rc = st_resize_bilinear_forward(y, x);
    tap_ok(rc == -1 && strstr(st_last_error(), "y") && strstr(st_last_error(), "[2, 3, 4, 5]") &&
               strstr(st_last_error(), "[2, 4, 4, 5]"),
           "channel mismatch names y and both shapes (%s)", st_last_error());
    st_tensor *y3 = st_tensor_new(3, (int64_t[]){3, 4, 5}, cpu);
    rc = st_resize_bilinear_forward(y3, x);
    tap_ok(rc == -1 && strstr(st_last_error(), "4-dimensional"), "a 3-d y is an error (%s)", st_last_error());
    st_tensor *y0 = st_tensor_new4(2, 3, 0, 5, cpu);
    rc = st_resize_bilinear_forward(y0, x);
    tap_ok(rc == -1 && strstr(st_last_error(), "empty"), "an empty output size is an error (%s)", st_last_error());
    st_tensor_release(x), st_tensor_release(y), st_tensor_release(y3), st_tensor_release(y0);
  }
  return tap_done();
}
