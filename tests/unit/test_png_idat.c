/* The parallel PNG image data (engine/io/png_idat.c): for every way of cutting
 * the rows into runs, the joined stream inflates (zlib checks its Adler-32)
 * to exactly the Sub-filtered rows PNG defines; the whole file written by
 * st_image_write reads back pixel for pixel. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "engine/io/image.h"
#include "engine/io/png_idat.h"
#include "engine/memory.h"
#include "engine/tensor.h"
#include "tap.h"

/* PNG's Sub filter, written out independently of the encoder's loop. */
static unsigned char *sub_filtered(const unsigned char *rgb, int w, int h, size_t *n) {
  *n = (size_t)h * ((size_t)w * 3 + 1);
  unsigned char *f = malloc(*n);
  size_t k = 0;
  for (int y = 0; y < h; y++) {
    f[k++] = 1;
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) {
        int left = x > 0 ? rgb[((size_t)y * w + x - 1) * 3 + c] : 0;
        f[k++] = (unsigned char)(rgb[((size_t)y * w + x) * 3 + c] - left);
      }
  }
  return f;
}

static void check(int w, int h, int parts, unsigned seed) {
  unsigned char *rgb = malloc((size_t)w * h * 3);
  for (size_t i = 0; i < (size_t)w * h * 3; i++) {
    seed = seed * 1103515245u + 12345u;
    rgb[i] = (unsigned char)((i % 7 == 0) ? (seed >> 16) : i / 97); /* runs and noise */
  }
  size_t want_n, len = 0;
  unsigned char *want = sub_filtered(rgb, w, h, &want_n);
  unsigned char *z = st_png_idat(rgb, w, h, parts, &len);
  unsigned char *got = malloc(want_n + 16);
  uLongf got_n = want_n + 16;
  int rc = z ? uncompress(got, &got_n, z, len) : -99;
  tap_ok(rc == Z_OK && got_n == want_n && memcmp(got, want, want_n) == 0,
         "%dx%d in up to %d runs: %zu bytes inflate (Adler-32 checked) to the Sub-filtered rows (rc %d)", w, h, parts,
         len, rc);
  free(rgb);
  free(want);
  if (z) st_mem_free(st_cpu(), z);
  free(got);
}

int main(void) {
  check(1, 1, 1, 1);
  check(1, 1, 4, 2);
  check(5, 3, 2, 3);
  check(300, 200, 1, 4);   /* 180 KB: one run */
  check(300, 200, 2, 5);   /* two */
  check(300, 200, 3, 6);   /* three, uneven */
  check(300, 200, 64, 7);  /* capped at ~64 KiB a run */
  check(1024, 77, 2, 8);

  /* The file as a whole, through libpng's reader. */
  const int w = 333, h = 211;
  int64_t shape[3] = {3, h, w};
  st_tensor *img = st_tensor_new(3, shape, st_cpu());
  float *d = st_tensor_data(img);
  for (int64_t i = 0; i < img->numel; i++) d[i] = (float)((i * 37 + i / 1000) % 256);
  char path[] = "/tmp/strata_png_idat_XXXXXX.png";
  int fd = mkstemps(path, 4);
  tap_ok(fd >= 0 && st_image_write(path, img) == 0, "st_image_write writes a %dx%d PNG", w, h);
  st_tensor *back = st_image_read(path);
  int same = back && back->numel == img->numel;
  for (int64_t i = 0; same && i < img->numel; i++) same = st_tensor_data(back)[i] == d[i];
  tap_ok(same, "and libpng reads back every value");
  unlink(path);
  st_tensor_release(back);
  st_tensor_release(img);
  return tap_done();
}
