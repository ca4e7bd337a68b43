/* JPEG codec on libjpeg(-turbo).
 *
 * libjpeg's default error handler prints and exits; ours formats the message
 * and longjmps back. Warnings that mean image data was lost (the file ends
 * early, an entropy-coded segment is cut or garbled) are turned into errors:
 * libjpeg would otherwise fill the missing blocks with grey and carry on.
 * As in png.c, the setjmp sits in its own function and everything to clean up
 * lives in a context struct owned by the caller. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
/* after jpeglib.h, which pulls in the jconfig.h that jerror.h's lists depend on */
#include <jerror.h>

#include "error.h"
#include "io/image.h"

/* A progressive JPEG may hold any number of scans and libjpeg decodes each
 * over the whole image; real files have about ten. This bounds the work a
 * malformed file can cause. */
#define MAX_SCANS 500

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void on_error_exit(j_common_ptr ci) {
  jpeg_err *e = (jpeg_err *)ci->err;
  ci->err->format_message(ci, e->msg);
  longjmp(e->jump, 1);
}

static int loses_data(int code) {
#if JPEG_LIB_VERSION >= 70 || defined(D_ARITH_CODING_SUPPORTED)
  if (code == JWRN_ARITH_BAD_CODE) return 1;
#endif
  return code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_HUFF_BAD_CODE ||
         code == JWRN_MUST_RESYNC;
}

/* level < 0: a warning; level >= 0: trace output, which we never want. */
static void on_emit_message(j_common_ptr ci, int level) {
  if (level >= 0) return;
  if (loses_data(ci->err->msg_code)) on_error_exit(ci);
  ci->err->num_warnings++; /* benign (e.g. extra bytes before a marker): ignored */
}

static void on_output_message(j_common_ptr ci) { (void)ci; }

static void init_err(jpeg_err *e) {
  jpeg_std_error(&e->pub);
  e->pub.error_exit = on_error_exit;
  e->pub.emit_message = on_emit_message;
  e->pub.output_message = on_output_message;
}

static void on_progress(j_common_ptr ci) {
  if (ci->is_decompressor && ((j_decompress_ptr)ci)->input_scan_number > MAX_SCANS) {
    jpeg_err *e = (jpeg_err *)ci->err;
    snprintf(e->msg, sizeof e->msg, "more than %d scans (a malformed progressive JPEG)",
             MAX_SCANS);
    longjmp(e->jump, 1);
  }
}

typedef struct {
  struct jpeg_decompress_struct ci;
  jpeg_err err;
  struct jpeg_progress_mgr progress;
  unsigned char *row, *rgb; /* one decoded scanline; rgb == row unless CMYK */
  st_tensor *out;
  int w, h;
} jpeg_rd;

/* Adobe's CMYK JPEGs (the common kind) store inverted ink values, so
 * R = C' * K' / 255 with C' = 255 - C; without the Adobe marker, plain ink. */
static void cmyk_to_rgb(const unsigned char *cmyk, unsigned char *rgb, int w, int inverted) {
  for (int x = 0; x < w; x++) {
    const unsigned char *p = cmyk + 4 * x;
    unsigned k = inverted ? p[3] : 255u - p[3];
    for (int c = 0; c < 3; c++) {
      unsigned v = inverted ? p[c] : 255u - p[c];
      rgb[3 * x + c] = (unsigned char)((v * k + 127) / 255);
    }
  }
}

/* Returns 0; -1 after a libjpeg error (message in d->err.msg); -2 with st_error set. */
static int decode(jpeg_rd *d, const char *path, FILE *f, int header_only) {
  j_decompress_ptr ci = &d->ci;
  if (setjmp(d->err.jump)) return -1;
  jpeg_create_decompress(ci);
  d->progress.progress_monitor = on_progress;
  ci->progress = &d->progress;
  jpeg_stdio_src(ci, f);
  jpeg_read_header(ci, TRUE);
  d->w = (int)ci->image_width; /* libjpeg guarantees 1 .. 65500 */
  d->h = (int)ci->image_height;
  if (header_only) return 0;
  if (st_image_check_size(path, d->w, d->h) != 0) return -2;

  int cmyk = ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK;
  ci->out_color_space = cmyk ? JCS_CMYK : JCS_RGB; /* gray -> RGB is built in */
  jpeg_start_decompress(ci);
  int comps = cmyk ? 4 : 3;
  if (ci->output_components != comps || (int)ci->output_width != d->w ||
      (int)ci->output_height != d->h) {
    st_error("'%s': JPEG decoder produced %d components of %ux%u, expected %d of %dx%d", path,
             ci->output_components, ci->output_width, ci->output_height, comps, d->w, d->h);
    return -2;
  }
  d->out = st_image_alloc(path, d->w, d->h);
  if (!d->out) return -2;
  d->row = malloc((size_t)d->w * comps);
  d->rgb = cmyk ? malloc((size_t)d->w * 3) : d->row;
  if (!d->row || !d->rgb) {
    st_error("'%s': out of memory decoding a %dx%d JPEG", path, d->w, d->h);
    return -2;
  }
  while (ci->output_scanline < ci->output_height) {
    int y = (int)ci->output_scanline;
    JSAMPROW r = d->row;
    if (jpeg_read_scanlines(ci, &r, 1) != 1) {
      st_error("'%s': JPEG decoder returned no data at row %d", path, y);
      return -2;
    }
    if (cmyk) cmyk_to_rgb(d->row, d->rgb, d->w, ci->saw_Adobe_marker);
    st_image_put_row(d->out, y, d->rgb);
  }
  /* Reads to EOI, so a file cut after the last scanline's data still fails. */
  jpeg_finish_decompress(ci);
  return 0;
}

static int run_decoder(jpeg_rd *d, const char *path, FILE *f, int header_only) {
  memset(d, 0, sizeof *d);
  init_err(&d->err);
  d->ci.err = &d->err.pub;
  int rc = decode(d, path, f, header_only);
  if (rc == -1) st_error("'%s': truncated or corrupt JPEG: %s", path, d->err.msg);
  jpeg_destroy_decompress(&d->ci);
  if (d->rgb != d->row) free(d->rgb);
  free(d->row);
  if (rc != 0) {
    st_tensor_release(d->out);
    d->out = NULL;
    return -1;
  }
  return 0;
}

st_tensor *st_jpeg_read(const char *path, FILE *f) {
  jpeg_rd d;
  return run_decoder(&d, path, f, 0) == 0 ? d.out : NULL;
}

int st_jpeg_size(const char *path, FILE *f, int *w, int *h) {
  jpeg_rd d;
  if (run_decoder(&d, path, f, 1) != 0) return -1;
  *w = d.w;
  *h = d.h;
  return 0;
}

typedef struct {
  struct jpeg_compress_struct ci;
  jpeg_err err;
} jpeg_wr;

static int encode(jpeg_wr *e, FILE *f, const unsigned char *rgb, int w, int h, int quality) {
  j_compress_ptr ci = &e->ci;
  if (setjmp(e->err.jump)) return -1;
  jpeg_create_compress(ci);
  jpeg_stdio_dest(ci, f);
  ci->image_width = (JDIMENSION)w;
  ci->image_height = (JDIMENSION)h;
  ci->input_components = 3;
  ci->in_color_space = JCS_RGB;
  jpeg_set_defaults(ci);
  jpeg_set_quality(ci, quality, TRUE);
  jpeg_start_compress(ci, TRUE);
  while (ci->next_scanline < ci->image_height) {
    /* libjpeg takes non-const rows but only reads them. */
    JSAMPROW r = (JSAMPROW)(rgb + (size_t)ci->next_scanline * w * 3);
    jpeg_write_scanlines(ci, &r, 1);
  }
  jpeg_finish_compress(ci);
  return 0;
}

int st_jpeg_write(const char *path, FILE *f, const unsigned char *rgb, int w, int h,
                  int quality) {
  jpeg_wr e;
  memset(&e, 0, sizeof e);
  init_err(&e.err);
  e.ci.err = &e.err.pub;
  int rc = encode(&e, f, rgb, w, h, quality);
  if (rc != 0) st_error("cannot write '%s': JPEG encoder: %s", path, e.err.msg);
  jpeg_destroy_compress(&e.ci);
  return rc;
}
