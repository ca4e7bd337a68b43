/* PNG codec on libpng.
 *
 * libpng reports errors by calling an error function that must not return; we
 * record its message and longjmp back. Each libpng call sequence runs in its
 * own function with the setjmp, while the resources it allocates live in a
 * context struct owned by the caller, so cleanup after a longjmp never reads
 * a local variable that setjmp may have clobbered. */
#include <errno.h>
#include <omp.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "io/image.h"
#include "io/png_idat.h"
#include "memory.h"

typedef struct {
  FILE *f;
  char msg[256];   /* libpng's message for the error that stopped it */
  png_structp png;
  png_infop info;
  unsigned char *pix;   /* decoded rows, 8-bit RGB */
  png_bytep *rows;      /* row pointers into pix, for interlaced images */
  st_tensor *out;
  int w, h;
  unsigned char *idat;  /* the compressed image data being written */
} png_ctx;

#define IDAT_MAX ((size_t)1 << 30)

static void on_error(png_structp png, png_const_charp msg) {
  png_ctx *c = png_get_error_ptr(png);
  snprintf(c->msg, sizeof c->msg, "%s", msg);
  png_longjmp(png, 1);
}

/* Warnings concern ancillary chunks (colour profiles, text) that we do not
 * use; the pixels are fine, so they are dropped rather than printed. */
static void on_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg;
}

/* Our own I/O callbacks so a short read says "truncated" and a failed write
 * says why, instead of libpng's bare "Read Error" / "Write Error". */
static void read_fn(png_structp png, png_bytep data, size_t n) {
  png_ctx *c = png_get_io_ptr(png);
  if (fread(data, 1, n, c->f) != n)
    png_error(png, ferror(c->f) ? strerror(errno) : "file is truncated (unexpected end of file)");
}

static void write_fn(png_structp png, png_bytep data, size_t n) {
  png_ctx *c = png_get_io_ptr(png);
  if (fwrite(data, 1, n, c->f) != n) png_error(png, strerror(errno));
}

static void flush_fn(png_structp png) {
  png_ctx *c = png_get_io_ptr(png);
  if (fflush(c->f) != 0) png_error(png, strerror(errno));
}

/* Returns 0; -1 after a libpng error (message in c->msg); -2 with st_error set. */
static int decode(png_ctx *c, const char *path, int header_only) {
  if (setjmp(png_jmpbuf(c->png))) return -1;
  png_set_read_fn(c->png, c, read_fn);
  png_read_info(c->png, c->info);
  png_uint_32 w, h;
  int depth, ctype, interlace;
  png_get_IHDR(c->png, c->info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
  c->w = (int)w; /* libpng guarantees 1 .. 2^31-1 */
  c->h = (int)h;
  if (header_only) return 0;
  if (st_image_check_size(path, w, h) != 0) return -2;

  /* Normalise every colour type and depth to 8-bit RGB. */
  if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(c->png);
  if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(c->png);
#ifdef PNG_READ_SCALE_16_TO_8_SUPPORTED
  if (depth == 16) png_set_scale_16(c->png); /* v * 255 / 65535, rounded */
#else
  if (depth == 16) png_set_strip_16(c->png); /* high byte */
#endif
  /* palette_to_rgb turns a tRNS chunk into an alpha channel, so strip that too */
  if ((ctype & PNG_COLOR_MASK_ALPHA) || png_get_valid(c->png, c->info, PNG_INFO_tRNS))
    png_set_strip_alpha(c->png);
  if (!(ctype & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(c->png);
  int passes = png_set_interlace_handling(c->png);
  png_read_update_info(c->png, c->info);
  size_t rowbytes = (size_t)w * 3;
  if (png_get_rowbytes(c->png, c->info) != rowbytes) {
    st_error("'%s': PNG decoder produced %zu bytes per row, expected %zu", path,
             (size_t)png_get_rowbytes(c->png, c->info), rowbytes);
    return -2;
  }

  c->out = st_image_alloc(path, c->w, c->h);
  if (!c->out) return -2;
  /* Interlaced images arrive in passes over the whole image; others row by
   * row, so one row of scratch suffices. */
  size_t nrows = passes > 1 ? h : 1;
  c->pix = malloc(rowbytes * nrows);
  c->rows = malloc(nrows * sizeof *c->rows);
  if (!c->pix || !c->rows) {
    st_error("'%s': out of memory decoding a %ux%u PNG", path, (unsigned)w, (unsigned)h);
    return -2;
  }
  for (size_t y = 0; y < nrows; y++) c->rows[y] = c->pix + y * rowbytes;
  if (passes > 1) {
    png_read_image(c->png, c->rows);
    for (png_uint_32 y = 0; y < h; y++) st_image_put_row(c->out, (int)y, c->rows[y]);
  } else {
    for (png_uint_32 y = 0; y < h; y++) {
      png_read_row(c->png, c->pix, NULL);
      st_image_put_row(c->out, (int)y, c->pix);
    }
  }
  /* Reads to IEND: checks the last IDAT CRC and catches truncation after the
   * pixel data. */
  png_read_end(c->png, NULL);
  return 0;
}

static int run_decoder(png_ctx *c, const char *path, FILE *f, int header_only) {
  memset(c, 0, sizeof *c);
  c->f = f;
  c->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, c, on_error, on_warning);
  if (c->png) c->info = png_create_info_struct(c->png);
  if (!c->png || !c->info) {
    png_destroy_read_struct(&c->png, NULL, NULL);
    return st_error("'%s': out of memory starting the PNG decoder", path);
  }
  int rc = decode(c, path, header_only);
  if (rc == -1) st_error("'%s': corrupt PNG: %s", path, c->msg);
  png_destroy_read_struct(&c->png, &c->info, NULL);
  free(c->rows);
  free(c->pix);
  if (rc != 0) {
    st_tensor_release(c->out);
    c->out = NULL;
    return -1;
  }
  return 0;
}

st_tensor *st_png_read(const char *path, FILE *f) {
  png_ctx c;
  return run_decoder(&c, path, f, 0) == 0 ? c.out : NULL;
}

int st_png_size(const char *path, FILE *f, int *w, int *h) {
  png_ctx c;
  if (run_decoder(&c, path, f, 1) != 0) return -1;
  *w = c.w;
  *h = c.h;
  return 0;
}

static int encode(png_ctx *c, const unsigned char *rgb, int w, int h) {
  if (setjmp(png_jmpbuf(c->png))) return -1;
  png_set_write_fn(c->png, c, write_fn, flush_fn);
  png_set_IHDR(c->png, c->info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(c->png, c->info);
  /* The image data: the Sub filter, zlib level 1, compressed on every
   * OpenMP thread (engine/io/png_idat.c); libpng writes the chunks around
   * it. On stylized photos (712x476, 1024x680) libpng's defaults (level 6,
   * every filter tried per row) took 48 ms at 712x476, Sub with level 1
   * ~7.6 ms on one thread, for a file ~7% larger than the defaults'. Start-up
   * to PNG written is what `strata stylize` users wait for. */
  size_t n = 0;
  c->idat = st_png_idat(rgb, w, h, omp_get_max_threads(), &n);
  if (!c->idat) {
    snprintf(c->msg, sizeof c->msg, "out of memory compressing the image data");
    return -1;
  }
  for (size_t k = 0; k < n; k += IDAT_MAX) /* chunks of at most 2^31 - 1 bytes */
    png_write_chunk(c->png, (png_const_bytep) "IDAT", c->idat + k, n - k < IDAT_MAX ? n - k : IDAT_MAX);
  png_write_chunk(c->png, (png_const_bytep) "IEND", NULL, 0);
  return 0;
}

int st_png_write(const char *path, FILE *f, const unsigned char *rgb, int w, int h) {
  png_ctx c;
  memset(&c, 0, sizeof c);
  c.f = f;
  c.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &c, on_error, on_warning);
  if (c.png) c.info = png_create_info_struct(c.png);
  if (!c.png || !c.info) {
    png_destroy_write_struct(&c.png, NULL);
    return st_error("cannot write '%s': out of memory starting the PNG encoder", path);
  }
  int rc = encode(&c, rgb, w, h);
  if (rc != 0) st_error("cannot write '%s': PNG encoder: %s", path, c.msg);
  png_destroy_write_struct(&c.png, &c.info);
  if (c.idat) st_mem_free(st_cpu(), c.idat);
  return rc;
}
