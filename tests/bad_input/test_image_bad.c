/* Bad image files and bad writes: each fails with one error line that names
 * the file and says what is wrong; nothing crashes, and neither libpng nor
 * libjpeg prints anything to stderr on its own. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "io/image.h"
#include "tap.h"
#include "testutil.h"

static char dir[64];
static char errfile[128];

static const char *P(const char *name) {
  static char buf[8][512];
  static int k;
  char *b = buf[k++ % 8];
  snprintf(b, sizeof buf[0], "%s/%s", dir, name);
  return b;
}

/* stderr goes to errfile until tu_quiet_end(errfile), which returns how
 * many bytes were written there; the error state starts clear. */
static void quiet_begin(void) {
  tu_quiet_begin(errfile);
  st_clear_error();
}

/* The call failed, its message names `path` and contains `phrase`, and
 * nothing reached stderr. */
static void check_failed(int failed, long stderr_bytes, const char *what, const char *path,
                         const char *phrase) {
  const char *msg = st_last_error();
  tap_ok(failed, "%s: fails", what);
  tap_ok(strstr(msg, path) && strstr(msg, phrase), "%s: message names the file and says '%s'",
         what, phrase);
  tap_diag("%s", msg);
  tap_ok(stderr_bytes == 0, "%s: nothing printed to stderr (%ld bytes)", what, stderr_bytes);
}

static void check_read(const char *what, const char *path, const char *phrase) {
  quiet_begin();
  st_tensor *t = st_image_read(path);
  long n = tu_quiet_end(errfile);
  check_failed(t == NULL, n, what, path, phrase);
  st_tensor_release(t);
}

static void check_write(const char *what, const char *path, const st_tensor *img,
                        const char *phrase) {
  quiet_begin();
  int rc = st_image_write(path, img);
  long n = tu_quiet_end(errfile);
  check_failed(rc == -1, n, what, path, phrase);
}

static unsigned char *slurp(const char *path, long *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  *n = ftell(f);
  rewind(f);
  unsigned char *b = malloc(*n);
  if (fread(b, 1, *n, f) != (size_t)*n) *n = 0;
  fclose(f);
  return b;
}

static void spit(const char *path, const void *b, long n) {
  FILE *f = fopen(path, "wb");
  if (n) fwrite(b, 1, n, f);
  fclose(f);
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(unsigned char *p, uint32_t v) {
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

/* PNG chunk CRC: CRC-32 (poly 0xEDB88320) over type and data. */
static uint32_t crc32_png(const unsigned char *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xffffffffu;
}

/* Appends a chunk with a correct CRC at p; returns the bytes written. */
static size_t put_chunk(unsigned char *p, const char *type, const unsigned char *data, uint32_t n) {
  put_be32(p, n);
  memcpy(p + 4, type, 4);
  if (n) memcpy(p + 8, data, n);
  put_be32(p + 8 + n, crc32_png(p + 4, n + 4));
  return 12 + n;
}

/* Offset of the first chunk of `type` in a PNG, or -1. */
static long find_chunk(const unsigned char *b, long n, const char *type) {
  for (long off = 8; off + 12 <= n; off += 12 + be32(b + off))
    if (memcmp(b + off + 4, type, 4) == 0) return off;
  return -1;
}

static st_tensor *noise_image(int w, int h) {
  st_tensor *t = st_tensor_new(3, (int64_t[]){3, h, w}, st_cpu());
  unsigned s = 99;
  for (int64_t i = 0; i < t->numel; i++) {
    s = s * 1664525u + 1013904223u;
    st_tensor_data(t)[i] = (float)((s >> 13) % 256);
  }
  return t;
}

static void test_bad_reads(void) {
  long n;
  unsigned char *b;

  check_read("missing file", P("nope.png"), "No such file or directory");

  spit(P("empty.jpg"), "", 0);
  check_read("empty file", P("empty.jpg"), "empty");

  const char *text = "Hello, this is not an image.\n";
  spit(P("text.png"), text, (long)strlen(text));
  check_read("text file", P("text.png"), "not a PNG or JPEG image (starts with bytes 48 65 6c");

  spit(P("sig.png"), "\x89PNG", 4);
  check_read("4-byte PNG signature", P("sig.png"), "truncated PNG");

  check_read("a directory", dir, "Is a directory");

  /* A real PNG, then damaged copies of it. */
  st_tensor *img = noise_image(64, 48);
  st_image_write(P("good.png"), img);
  b = slurp(P("good.png"), &n);
  long idat = b ? find_chunk(b, n, "IDAT") : -1;
  tap_ok(idat > 0 && be32(b + idat) > 100, "the generated PNG has a sizeable IDAT");
  if (idat > 0) {
    uint32_t len = be32(b + idat);
    b[idat + 8 + len / 2] ^= 0x5a; /* a byte inside the compressed data */
    spit(P("flipped_idat.png"), b, n);
    check_read("PNG with a flipped IDAT byte", P("flipped_idat.png"), "corrupt PNG");
    b[idat + 8 + len / 2] ^= 0x5a;
    b[idat + 8 + len] ^= 0x01; /* the IDAT CRC itself */
    spit(P("bad_crc.png"), b, n);
    check_read("PNG with a wrong IDAT CRC", P("bad_crc.png"), "CRC error");
    b[idat + 8 + len] ^= 0x01;
  }
  if (b) spit(P("half.png"), b, n / 2);
  check_read("PNG truncated to half", P("half.png"), "truncated");
  free(b);

  /* A JPEG truncated to half: libjpeg only warns ("Premature end of JPEG
   * file") and fills grey; we must fail. */
  st_image_write(P("good.jpg"), img);
  b = slurp(P("good.jpg"), &n);
  if (b) spit(P("half.jpg"), b, n / 2);
  check_read("JPEG truncated to half", P("half.jpg"), "truncated or corrupt JPEG: Premature end");

  /* JPEG magic, then junk. */
  if (b) {
    for (long i = 3; i < n; i++) b[i] = (unsigned char)(i * 7);
    spit(P("junk.jpg"), b, n);
  }
  check_read("JPEG signature then junk", P("junk.jpg"), "corrupt JPEG");
  free(b);
  st_tensor_release(img);
}

/* Headers claiming huge images are refused before any pixel allocation. */
static void test_huge(void) {
  unsigned char png[128], ihdr[13] = {0};
  memcpy(png, "\x89PNG\r\n\x1a\n", 8);
  put_be32(ihdr, 100000);
  put_be32(ihdr + 4, 100000);
  ihdr[8] = 8; /* depth */
  ihdr[9] = 2; /* RGB */
  size_t n = 8;
  n += put_chunk(png + n, "IHDR", ihdr, 13);
  n += put_chunk(png + n, "IDAT", NULL, 0);
  n += put_chunk(png + n, "IEND", NULL, 0);
  spit(P("huge.png"), png, (long)n);
  check_read("PNG claiming 100000x100000", P("huge.png"), "more than the limit");
  int w = 0, h = 0, rc = st_image_decode_size(P("huge.png"), &w, &h);
  tap_ok(rc == 0 && w == 100000 && h == 100000, "decode_size still reports %dx%d", w, h);

  /* A small JPEG whose SOF0 header is patched to 60000x60000. */
  st_tensor *img = noise_image(16, 16);
  st_image_write(P("small.jpg"), img);
  st_tensor_release(img);
  long len;
  unsigned char *b = slurp(P("small.jpg"), &len);
  long sof = -1;
  for (long i = 2; b && i + 9 < len; i++)
    if (b[i] == 0xff && b[i + 1] == 0xc0) {
      sof = i;
      break;
    }
  tap_ok(sof > 0, "found the JPEG SOF0 marker");
  if (sof > 0) {
    b[sof + 5] = b[sof + 7] = 0xea; /* 60000 = 0xea60 */
    b[sof + 6] = b[sof + 8] = 0x60;
    spit(P("huge.jpg"), b, len);
    check_read("JPEG claiming 60000x60000", P("huge.jpg"), "more than the limit");
    rc = st_image_decode_size(P("huge.jpg"), &w, &h);
    tap_ok(rc == 0 && w == 60000 && h == 60000, "decode_size still reports %dx%d", w, h);
  }
  free(b);
}

static void test_bad_writes(void) {
  st_tensor *img = noise_image(8, 8);
  char nodir[600];
  snprintf(nodir, sizeof nodir, "%s/no/such/dir/out.png", dir);
  check_write("write into a missing directory", nodir, img, "No such file or directory");
  check_write("write .bmp", P("out.bmp"), img, "unsupported extension '.bmp'");
  check_write("write without extension", P("out"), img, "no file extension");

  st_tensor *bad = st_tensor_new(3, (int64_t[]){2, 8, 8}, st_cpu());
  check_write("write a [2, 8, 8] tensor", P("two.png"), bad, "[3, H, W]");
  st_tensor_release(bad);

  /* The encoder itself fails (JPEG is limited to 65500 pixels a side): the
   * temporary file must go and the target must not appear. */
  st_tensor *wide = st_tensor_zeros(3, (int64_t[]){3, 1, 70000}, st_cpu());
  check_write("write a 70000-wide JPEG", P("wide.jpg"), wide, "65500");
  tap_ok(access(P("wide.jpg"), F_OK) != 0, "no partial output file");
  tap_ok(tu_count_files(dir, ".tmp.") == 0, "temporary file removed after the failure");
  st_tensor_release(wide);

  /* A failed write leaves an existing file untouched. */
  st_image_write(P("keep.jpg"), img);
  struct stat before, after;
  stat(P("keep.jpg"), &before);
  st_tensor *wide2 = st_tensor_zeros(3, (int64_t[]){3, 1, 70000}, st_cpu());
  quiet_begin();
  st_image_write(P("keep.jpg"), wide2);
  tu_quiet_end(errfile);
  stat(P("keep.jpg"), &after);
  tap_ok(after.st_size == before.st_size && after.st_ino == before.st_ino,
         "a failed write leaves the existing file in place");
  st_tensor_release(wide2);

  quiet_begin();
  int rc = st_image_write(P("x.png"), NULL);
  long n = tu_quiet_end(errfile);
  tap_ok(rc == -1 && n == 0, "write of a NULL tensor fails quietly");
  st_tensor_release(img);
}

int main(void) {
  strcpy(dir, "/tmp/strata_test_image_bad_XXXXXX");
  if (!mkdtemp(dir)) {
    printf("Bail out! mkdtemp failed\n");
    return 1;
  }
  /* Outside dir so tu_count_files(dir, ) does not see it. */
  snprintf(errfile, sizeof errfile, "%s.stderr", dir);
  test_bad_reads();
  test_huge();
  test_bad_writes();
  tu_remove_dir(dir);
  unlink(errfile);
  return tap_done();
}
