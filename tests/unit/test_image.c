/* Image I/O: PNG/JPEG round trips, colour-type normalisation, detection by
 * content, and the reference photo. Files go to a mkdtemp() directory. */
#include <dirent.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <jpeglib.h>

#include "error.h"
#include "io/image.h"
#include "tap.h"
#include "testutil.h"

static char dir[64];

/* dir/name in one of a few rotating buffers. */
static const char *P(const char *name) {
  static char buf[8][512];
  static int k;
  char *b = buf[k++ % 8];
  snprintf(b, sizeof buf[0], "%s/%s", dir, name);
  return b;
}

static unsigned rng = 12345;
static unsigned rnd(void) {
  rng = rng * 1664525u + 1013904223u;
  return rng >> 8;
}

/* Writes a PNG straight through libpng (not our writer), rows packed as the
 * given colour type and depth. */
static int write_png_raw(const char *path, int w, int h, int depth, int ctype, int interlace,
                         const png_color *pal, int npal, const unsigned char *trns, int ntrns,
                         unsigned char **rows) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    fclose(f);
    return -1;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, w, h, depth, ctype, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (pal) png_set_PLTE(png, info, pal, npal);
  if (trns) png_set_tRNS(png, info, trns, ntrns, NULL);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return fclose(f);
}

/* Writes a JPEG straight through libjpeg: gray (1) or Adobe CMYK (4) pixels. */
static int write_jpeg_raw(const char *path, int w, int h, int comps, const unsigned char *pix) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  struct jpeg_compress_struct ci;
  struct jpeg_error_mgr err;
  ci.err = jpeg_std_error(&err);
  jpeg_create_compress(&ci);
  jpeg_stdio_dest(&ci, f);
  ci.image_width = w;
  ci.image_height = h;
  ci.input_components = comps;
  ci.in_color_space = comps == 1 ? JCS_GRAYSCALE : JCS_CMYK;
  jpeg_set_defaults(&ci);
  jpeg_set_quality(&ci, 95, TRUE);
  jpeg_start_compress(&ci, TRUE);
  while (ci.next_scanline < ci.image_height) {
    JSAMPROW r = (JSAMPROW)(pix + (size_t)ci.next_scanline * w * comps);
    jpeg_write_scanlines(&ci, &r, 1);
  }
  jpeg_finish_compress(&ci);
  jpeg_destroy_compress(&ci);
  return fclose(f);
}

static float px(const st_tensor *t, int c, int y, int x) {
  return st_tensor_data(t)[((int64_t)c * t->shape[1] + y) * t->shape[2] + x];
}

static int is_rgb(const st_tensor *t, int w, int h, const char *what) {
  int ok = t && t->ndim == 3 && t->shape[0] == 3 && t->shape[1] == h && t->shape[2] == w;
  tap_ok(ok, "%s reads as [3, %d, %d]", what, h, w);
  if (!t) tap_diag("error: %s", st_last_error());
  return ok;
}

static int file_starts(const char *path, const unsigned char *magic, size_t n) {
  unsigned char b[8] = {0};
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t got = fread(b, 1, n, f);
  fclose(f);
  return got == n && memcmp(b, magic, n) == 0;
}

static void test_png_round_trip(void) {
  const int W = 37, H = 23;
  st_tensor *img = st_tensor_new(3, (int64_t[]){3, H, W}, st_cpu());
  float *d = st_tensor_data(img);
  for (int64_t i = 0; i < img->numel; i++) d[i] = (float)(rnd() % 256);
  tap_ok(st_image_write(P("a.png"), img) == 0, "write 37x23 PNG");
  static const unsigned char png_sig[4] = {0x89, 'P', 'N', 'G'};
  tap_ok(file_starts(P("a.png"), png_sig, 4), "the .png file is a PNG");
  tap_ok(tu_count_files(dir, ".tmp.") == 0, "no temporary file left after the write");
  st_tensor *back = st_image_read(P("a.png"));
  if (is_rgb(back, W, H, "PNG")) {
    float maxd = 0;
    for (int64_t i = 0; i < img->numel; i++) maxd = fmaxf(maxd, fabsf(st_tensor_data(back)[i] - d[i]));
    tap_ok(maxd == 0, "PNG round trip is exact (max diff %g)", maxd);
  }
  int w = 0, h = 0, rc = st_image_decode_size(P("a.png"), &w, &h);
  tap_ok(rc == 0 && w == W && h == H,
         "decode_size on PNG gives %dx%d", w, h);
  /* Writing over an existing file replaces it. */
  st_tensor_fill(img, 7.0f);
  st_image_write(P("a.png"), img);
  st_tensor_release(back);
  back = st_image_read(P("a.png"));
  tap_ok(back && px(back, 2, 22, 36) == 7.0f, "rewriting replaces the file");
  st_tensor_release(back);
  st_tensor_release(img);
}

/* The writer's encoding (engine/io/png.c: chosen for speed): every row with
 * the Sub filter (filter byte 1), read back from the inflated IDAT stream,
 * and the pixels still exact. */
static void test_png_encoding(void) {
  const int W = 64, H = 40;
  st_tensor *img = st_tensor_new(3, (int64_t[]){3, H, W}, st_cpu());
  float *d = st_tensor_data(img);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) d[(c * H + y) * W + x] = (float)((x * 3 + y * 2 + c * 40 + (int)(rnd() % 5)) % 256);
  tap_ok(st_image_write(P("enc.png"), img) == 0, "write a 64x40 gradient PNG");
  FILE *f = fopen(P("enc.png"), "rb");
  unsigned char file[1 << 16], idat[1 << 16];
  size_t n = f ? fread(file, 1, sizeof file, f) : 0, m = 0;
  if (f) fclose(f);
  for (size_t i = 8; i + 12 <= n;) { /* chunks: length, type, data, CRC */
    size_t len = (size_t)file[i] << 24 | (size_t)file[i + 1] << 16 | (size_t)file[i + 2] << 8 | file[i + 3];
    if (i + 12 + len > n) break;
    if (memcmp(file + i + 4, "IDAT", 4) == 0 && m + len <= sizeof idat) {
      memcpy(idat + m, file + i + 8, len);
      m += len;
    }
    i += 12 + len;
  }
  static unsigned char raw[40 * (1 + 3 * 64)];
  uLongf rawlen = sizeof raw;
  int zrc = uncompress(raw, &rawlen, idat, m);
  int sub = zrc == Z_OK && rawlen == sizeof raw;
  for (int y = 0; sub && y < H; y++) sub = raw[(size_t)y * (1 + 3 * W)] == 1;
  tap_ok(sub, "every row is Sub-filtered (zlib %d, %lu bytes inflated)", zrc, (unsigned long)rawlen);
  st_tensor *back = st_image_read(P("enc.png"));
  float maxd = back ? 0 : 1;
  for (int64_t i = 0; back && i < img->numel; i++) maxd = fmaxf(maxd, fabsf(st_tensor_data(back)[i] - d[i]));
  tap_ok(maxd == 0, "and it reads back exactly (max diff %g)", maxd);
  st_tensor_release(back);
  st_tensor_release(img);
}

static void test_round_and_clamp(void) {
  /* [1, 3, 1, 6]: the 4-d form is accepted. */
  st_tensor *img = st_tensor_new(4, (int64_t[]){1, 3, 1, 6}, st_cpu());
  const float in[6] = {-10.0f, 300.0f, 12.4f, 12.6f, NAN, 254.6f};
  const float want[6] = {0, 255, 12, 13, 0, 255};
  for (int c = 0; c < 3; c++) memcpy(st_tensor_data(img) + 6 * c, in, sizeof in);
  tap_ok(st_image_write(P("clamp.PNG"), img) == 0, "write [1,3,1,6] as .PNG");
  st_tensor *back = st_image_read(P("clamp.PNG"));
  if (is_rgb(back, 6, 1, "clamped PNG")) {
    int ok = 1;
    for (int c = 0; c < 3; c++)
      for (int x = 0; x < 6; x++) ok &= px(back, c, 0, x) == want[x];
    tap_ok(ok, "values rounded and clamped to 0..255, NaN -> 0");
  }
  st_tensor_release(back);
  st_tensor_release(img);
}

static void test_jpeg_round_trip(void) {
  const int W = 64, H = 48;
  st_tensor *img = st_tensor_new(3, (int64_t[]){3, H, W}, st_cpu());
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++)
        st_tensor_data(img)[(c * H + y) * W + x] =
            127.5f + 100.0f * sinf(0.07f * x * (c + 1) + 0.05f * y) * cosf(0.04f * y - c);
  tap_ok(st_image_write(P("b.jpg"), img) == 0, "write smooth JPEG");
  tap_ok(st_image_write(P("b2.JPEG"), img) == 0, "write .JPEG (upper case)");
  static const unsigned char soi[3] = {0xff, 0xd8, 0xff};
  tap_ok(file_starts(P("b2.JPEG"), soi, 3), "the .JPEG file is a JPEG");
  st_tensor *back = st_image_read(P("b.jpg"));
  if (is_rgb(back, W, H, "JPEG")) {
    double mae = 0;
    for (int64_t i = 0; i < img->numel; i++)
      mae += fabsf(st_tensor_data(back)[i] - st_tensor_data(img)[i]);
    mae /= img->numel;
    tap_ok(mae < 3.0, "JPEG round trip mean abs error %.3f < 3", mae);
  }
  int w = 0, h = 0, rc = st_image_decode_size(P("b.jpg"), &w, &h);
  tap_ok(rc == 0 && w == W && h == H,
         "decode_size on JPEG gives %dx%d", w, h);
  st_tensor_release(back);
  st_tensor_release(img);
}

/* PNG colour types written with libpng directly all read as 3-channel RGB. */
static void test_png_color_types(void) {
  enum { W = 13, H = 9 };
  unsigned char buf[H][W * 8];
  unsigned char *rows[H];
  for (int y = 0; y < H; y++) rows[y] = buf[y];
  int ok;
  st_tensor *t;

  /* 8-bit gray */
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) buf[y][x] = (unsigned char)(y * 20 + x);
  write_png_raw(P("gray.png"), W, H, 8, PNG_COLOR_TYPE_GRAY, 0, NULL, 0, NULL, 0, rows);
  t = st_image_read(P("gray.png"));
  if (is_rgb(t, W, H, "8-bit gray PNG")) {
    ok = 1;
    for (int c = 0; c < 3; c++)
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) ok &= px(t, c, y, x) == y * 20 + x;
    tap_ok(ok, "gray copied into all three channels");
  }
  st_tensor_release(t);

  /* 8-bit gray with a transparent colour (tRNS): still plain gray */
  png_color_16 tcol = {0, 0, 0, 0, 45};
  {
    FILE *f = fopen(P("gray_trns.png"), "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (!setjmp(png_jmpbuf(png))) {
      png_init_io(png, f);
      png_set_IHDR(png, info, W, H, 8, PNG_COLOR_TYPE_GRAY, 0, 0, 0);
      png_set_tRNS(png, info, NULL, 0, &tcol);
      png_write_info(png, info);
      png_write_image(png, rows);
      png_write_end(png, NULL);
    }
    png_destroy_write_struct(&png, &info);
    fclose(f);
  }
  t = st_image_read(P("gray_trns.png"));
  if (is_rgb(t, W, H, "gray PNG with tRNS")) tap_ok(px(t, 0, 2, 5) == 45 && px(t, 2, 2, 5) == 45, "transparent gray colour kept as gray");
  st_tensor_release(t);

  /* 4-bit gray: v scales to v * 17 */
  memset(buf, 0, sizeof buf);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) buf[y][x / 2] |= (unsigned char)(((x + y) % 16) << (x % 2 ? 0 : 4));
  write_png_raw(P("gray4.png"), W, H, 4, PNG_COLOR_TYPE_GRAY, 0, NULL, 0, NULL, 0, rows);
  t = st_image_read(P("gray4.png"));
  if (is_rgb(t, W, H, "4-bit gray PNG")) {
    ok = 1;
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) ok &= px(t, 1, y, x) == ((x + y) % 16) * 17;
    tap_ok(ok, "4-bit gray expanded to 0..255");
  }
  st_tensor_release(t);

  /* RGBA: alpha dropped */
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      for (int c = 0; c < 4; c++) buf[y][4 * x + c] = (unsigned char)(c == 3 ? x * 19 : 30 * c + x + y);
  write_png_raw(P("rgba.png"), W, H, 8, PNG_COLOR_TYPE_RGBA, 0, NULL, 0, NULL, 0, rows);
  t = st_image_read(P("rgba.png"));
  if (is_rgb(t, W, H, "RGBA PNG")) {
    ok = 1;
    for (int c = 0; c < 3; c++)
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) ok &= px(t, c, y, x) == 30 * c + x + y;
    tap_ok(ok, "RGBA: colour kept, alpha dropped");
  }
  st_tensor_release(t);

  /* 16-bit RGB: v * 257 reads back as v */
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      for (int c = 0; c < 3; c++) {
        unsigned v = (unsigned)(x * 17 + y * 3 + c * 50) % 256 * 257;
        buf[y][6 * x + 2 * c] = (unsigned char)(v >> 8);
        buf[y][6 * x + 2 * c + 1] = (unsigned char)v;
      }
  write_png_raw(P("rgb16.png"), W, H, 16, PNG_COLOR_TYPE_RGB, 0, NULL, 0, NULL, 0, rows);
  t = st_image_read(P("rgb16.png"));
  if (is_rgb(t, W, H, "16-bit RGB PNG")) {
    ok = 1;
    for (int c = 0; c < 3; c++)
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) ok &= px(t, c, y, x) == (x * 17 + y * 3 + c * 50) % 256;
    tap_ok(ok, "16-bit values reduced to 8-bit");
  }
  st_tensor_release(t);

  /* palette with transparency */
  png_color pal[4] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}};
  unsigned char trns[4] = {255, 128, 0, 255};
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) buf[y][x] = (unsigned char)((x + 2 * y) % 4);
  write_png_raw(P("pal.png"), W, H, 8, PNG_COLOR_TYPE_PALETTE, 0, pal, 4, trns, 4, rows);
  t = st_image_read(P("pal.png"));
  if (is_rgb(t, W, H, "palette PNG")) {
    ok = 1;
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        png_color p = pal[(x + 2 * y) % 4];
        ok &= px(t, 0, y, x) == p.red && px(t, 1, y, x) == p.green && px(t, 2, y, x) == p.blue;
      }
    tap_ok(ok, "palette expanded to its colours");
  }
  st_tensor_release(t);

  /* interlaced (Adam7) RGB */
  for (int y = 0; y < H; y++)
    for (int x = 0; x < 3 * W; x++) buf[y][x] = (unsigned char)rnd();
  write_png_raw(P("adam7.png"), W, H, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7, NULL, 0, NULL,
                0, rows);
  t = st_image_read(P("adam7.png"));
  if (is_rgb(t, W, H, "interlaced PNG")) {
    ok = 1;
    for (int c = 0; c < 3; c++)
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) ok &= px(t, c, y, x) == buf[y][3 * x + c];
    tap_ok(ok, "interlaced PNG decoded exactly");
  }
  st_tensor_release(t);

  /* format by content: a PNG named .jpg */
  write_png_raw(P("really_png.jpg"), W, H, 8, PNG_COLOR_TYPE_RGB, 0, NULL, 0, NULL, 0, rows);
  t = st_image_read(P("really_png.jpg"));
  if (is_rgb(t, W, H, "PNG named .jpg")) tap_ok(px(t, 2, 4, 5) == buf[4][3 * 5 + 2], "its pixels are right");
  st_tensor_release(t);
}

static void test_jpeg_kinds(void) {
  enum { W = 24, H = 16 };
  /* A JPEG named .png reads by content. */
  st_tensor *img = st_tensor_new(3, (int64_t[]){3, H, W}, st_cpu());
  st_tensor_fill(img, 100.0f);
  st_image_write(P("j.jpg"), img);
  rename(P("j.jpg"), P("really_jpeg.png"));
  st_tensor *t = st_image_read(P("really_jpeg.png"));
  if (is_rgb(t, W, H, "JPEG named .png")) tap_ok(fabsf(px(t, 0, 3, 3) - 100) <= 2, "its pixels are right");
  st_tensor_release(t);
  st_tensor_release(img);

  /* grayscale JPEG -> three equal channels */
  unsigned char g[H * W];
  for (int i = 0; i < H * W; i++) g[i] = (unsigned char)(60 + (i % W) * 4);
  write_jpeg_raw(P("gray.jpg"), W, H, 1, g);
  t = st_image_read(P("gray.jpg"));
  if (is_rgb(t, W, H, "gray JPEG")) {
    int same = 1;
    double mae = 0;
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        same &= px(t, 0, y, x) == px(t, 1, y, x) && px(t, 1, y, x) == px(t, 2, y, x);
        mae += fabsf(px(t, 0, y, x) - g[y * W + x]);
      }
    tap_ok(same && mae / (W * H) < 3, "gray JPEG: equal channels, MAE %.2f", mae / (W * H));
  }
  st_tensor_release(t);

  /* Adobe CMYK JPEG (inverted values, as Photoshop writes them): stored
   * (C', M', Y', K') = (255, 128, 0, 255) means RGB (255, 128, 0). */
  unsigned char cmyk[H * W * 4];
  for (int i = 0; i < H * W; i++) {
    cmyk[4 * i] = 255;
    cmyk[4 * i + 1] = 128;
    cmyk[4 * i + 2] = 0;
    cmyk[4 * i + 3] = 255;
  }
  write_jpeg_raw(P("cmyk.jpg"), W, H, 4, cmyk);
  t = st_image_read(P("cmyk.jpg"));
  if (is_rgb(t, W, H, "CMYK JPEG")) {
    float r = px(t, 0, 8, 12), gg = px(t, 1, 8, 12), b = px(t, 2, 8, 12);
    tap_ok(fabsf(r - 255) <= 3 && fabsf(gg - 128) <= 3 && fabsf(b - 0) <= 3,
           "CMYK converted to RGB (%g, %g, %g), expected (255, 128, 0)", r, gg, b);
  }
  st_tensor_release(t);
}

static void test_reference_photo(void) {
  const char *path = "data/samples/content/chicago.jpg";
  if (access(path, R_OK) != 0) {
    tap_ok(0, "%s is missing (the sample set is part of the repository)", path);
    return;
  }
  st_tensor *t = st_image_read(path);
  if (is_rgb(t, 712, 474, "chicago.jpg (712 wide, 474 high)")) {
    double mean = 0;
    for (int64_t i = 0; i < t->numel; i++) mean += st_tensor_data(t)[i];
    mean /= t->numel;
    tap_ok(mean > 40 && mean < 215, "chicago.jpg mean %.1f is a plausible photo mean", mean);
  }
  int w = 0, h = 0, rc = st_image_decode_size(path, &w, &h);
  tap_ok(rc == 0 && w == 712 && h == 474,
         "decode_size(chicago.jpg) = %dx%d", w, h);
  st_tensor_release(t);
}

int main(void) {
  strcpy(dir, "/tmp/strata_test_image_XXXXXX");
  if (!mkdtemp(dir)) {
    printf("Bail out! mkdtemp failed\n");
    return 1;
  }
  test_png_round_trip();
  test_png_encoding();
  test_round_and_clamp();
  test_jpeg_round_trip();
  test_png_color_types();
  test_jpeg_kinds();
  test_reference_photo();
  tu_remove_dir(dir);
  return tap_done();
}
