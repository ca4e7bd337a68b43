/* Image files: PNG and JPEG in, PNG and JPEG out.
 *
 * Images in the engine are CPU tensors [3, H, W] (or [1, 3, H, W] when
 * written), float RGB in 0..255 — the range the networks take. Reading picks
 * the decoder from the file's first bytes, not its name; writing picks the
 * encoder from the extension, since that is what the user asked for.
 */
#ifndef STRATA_IO_IMAGE_H
#define STRATA_IO_IMAGE_H

#include <stdint.h>
#include <stdio.h>

#include "tensor.h"

/* Decoding refuses images above this many pixels before allocating (2^28, a
 * 3 GiB float tensor), so a corrupt or hostile header cannot exhaust memory. */
#define ST_IMAGE_MAX_PIXELS ((int64_t)1 << 28)

/* Reads a PNG or JPEG into a new CPU tensor [3, H, W]: grayscale and palette
 * images are expanded to RGB, alpha is dropped, 16-bit PNG is scaled to 8-bit
 * values, Adobe CMYK/YCCK JPEG is converted to RGB. EXIF orientation is not
 * applied. NULL with one error line naming the file on failure (missing,
 * empty, neither format, truncated, corrupt, too large). */
st_tensor *st_image_read(const char *path);

/* Writes [3, H, W] or [1, 3, H, W] (CPU) as PNG or JPEG (quality 95), chosen
 * by the extension (.png, .jpg, .jpeg, any case). Values are rounded and
 * clamped to 0..255 (NaN becomes 0). Atomic: the data goes to
 * "<path>.tmp.<pid>" which is then renamed over `path`; on failure the
 * temporary file is removed. 0, or -1 with an error naming the file. */
int st_image_write(const char *path, const st_tensor *img);

/* Reads only the header: width and height in pixels. 0 or -1 with an error. */
int st_image_decode_size(const char *path, int *w, int *h);

/* ---- Backends (engine/io/png.c, engine/io/jpeg.c), used by image.c ----
 * Each gets a file opened for reading at offset 0 (already checked for the
 * format's magic bytes) or opened for writing; `path` is only for messages.
 * Pixels to write are interleaved 8-bit RGB, row-major, w * h * 3 bytes. */
st_tensor *st_png_read(const char *path, FILE *f);
int st_png_size(const char *path, FILE *f, int *w, int *h);
int st_png_write(const char *path, FILE *f, const unsigned char *rgb, int w, int h);

st_tensor *st_jpeg_read(const char *path, FILE *f);
int st_jpeg_size(const char *path, FILE *f, int *w, int *h);
int st_jpeg_write(const char *path, FILE *f, const unsigned char *rgb, int w, int h,
                  int quality);

/* Shared by the decoders: 0, or -1 with an error when w x h is empty or above
 * ST_IMAGE_MAX_PIXELS. */
int st_image_check_size(const char *path, int64_t w, int64_t h);
/* A new [3, h, w] CPU tensor, or NULL with an error naming the file. */
st_tensor *st_image_alloc(const char *path, int w, int h);
/* Stores row y of interleaved 8-bit RGB into the planar [3, H, W] tensor. */
void st_image_put_row(st_tensor *img, int y, const unsigned char *rgb);

#endif
