/* Image I/O front end: format detection by magic bytes, tensor <-> 8-bit RGB
 * conversion, and atomic writes (temp file + rename). The codecs live in
 * png.c and jpeg.c. */
#include "io/image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "error.h"
#include "memory.h"

typedef enum { FMT_PNG, FMT_JPEG } image_format;

static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
/* SOI marker followed by the first marker's 0xFF. */
static const unsigned char jpeg_magic[3] = {0xff, 0xd8, 0xff};

int st_image_check_size(const char *path, int64_t w, int64_t h) {
  if (w <= 0 || h <= 0)
    return st_error("'%s': image has no pixels (%lldx%lld)", path, (long long)w, (long long)h);
  if (w * h > ST_IMAGE_MAX_PIXELS)
    return st_error("'%s': image is %lldx%lld = %lld pixels, more than the limit of %lld (2^28)",
                    path, (long long)w, (long long)h, (long long)(w * h),
                    (long long)ST_IMAGE_MAX_PIXELS);
  return 0;
}

st_tensor *st_image_alloc(const char *path, int w, int h) {
  st_tensor *t = st_tensor_new(3, (int64_t[]){3, h, w}, st_cpu());
  if (!t) st_error_prefix("reading '%s': ", path);
  return t;
}

void st_image_put_row(st_tensor *img, int y, const unsigned char *rgb) {
  int64_t h = img->shape[1], w = img->shape[2];
  float *d = st_tensor_data(img) + (int64_t)y * w;
  for (int c = 0; c < 3; c++, d += h * w)
    for (int64_t x = 0; x < w; x++) d[x] = rgb[3 * x + c];
}

/* Opens `path` and identifies the format from its first bytes; on success the
 * file is rewound to offset 0 for the codec. */
static FILE *open_image(const char *path, image_format *fmt) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    st_error("cannot open '%s': %s", path, strerror(errno));
    return NULL;
  }
  unsigned char b[8];
  size_t n = fread(b, 1, sizeof b, f);
  int ok = 0;
  if (n < sizeof b && ferror(f)) {
    st_error("cannot read '%s': %s", path, strerror(errno));
  } else if (n == 0) {
    st_error("'%s' is empty (0 bytes), not a PNG or JPEG image", path);
  } else if (memcmp(b, png_magic, n) == 0) {
    if (n == sizeof png_magic) {
      *fmt = FMT_PNG;
      ok = 1;
    } else {
      st_error("'%s': truncated PNG (only %zu bytes)", path, n);
    }
  } else if (n >= sizeof jpeg_magic && memcmp(b, jpeg_magic, sizeof jpeg_magic) == 0) {
    *fmt = FMT_JPEG;
    ok = 1;
  } else {
    char hex[3 * sizeof b + 1] = "";
    for (size_t i = 0, k = 0; i < n; i++) k += sprintf(hex + k, "%s%02x", i ? " " : "", b[i]);
    st_error("'%s' is not a PNG or JPEG image (starts with bytes %s)", path, hex);
  }
  if (ok && fseek(f, 0, SEEK_SET) != 0) {
    st_error("cannot read '%s': %s", path, strerror(errno));
    ok = 0;
  }
  if (!ok) {
    fclose(f);
    return NULL;
  }
  return f;
}

st_tensor *st_image_read(const char *path) {
  if (!path) {
    st_error("st_image_read: path is NULL");
    return NULL;
  }
  image_format fmt = FMT_PNG;
  FILE *f = open_image(path, &fmt);
  if (!f) return NULL;
  st_tensor *t = fmt == FMT_PNG ? st_png_read(path, f) : st_jpeg_read(path, f);
  fclose(f);
  return t;
}

int st_image_decode_size(const char *path, int *w, int *h) {
  if (!path || !w || !h) return st_error("st_image_decode_size: NULL argument");
  image_format fmt = FMT_PNG;
  FILE *f = open_image(path, &fmt);
  if (!f) return -1;
  int rc = fmt == FMT_PNG ? st_png_size(path, f, w, h) : st_jpeg_size(path, f, w, h);
  fclose(f);
  return rc;
}

/* The output format from the extension of the last path component. */
static int format_for_write(const char *path, image_format *fmt) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  if (!dot || dot == base)
    return st_error("cannot write '%s': no file extension (supported: .png, .jpg, .jpeg)", path);
  if (strcasecmp(dot, ".png") == 0)
    *fmt = FMT_PNG;
  else if (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0)
    *fmt = FMT_JPEG;
  else
    return st_error("cannot write '%s': unsupported extension '%s' (supported: .png, .jpg, .jpeg)",
                    path, dot);
  return 0;
}

/* [3,H,W] or [1,3,H,W] float -> interleaved 8-bit RGB, rounded and clamped. */
static unsigned char *to_rgb8(const char *path, const st_tensor *img, int *w, int *h) {
  char sb[128];
  int nd = img->ndim;
  const int64_t *s = img->shape;
  int ok = (nd == 3 && s[0] == 3) || (nd == 4 && s[0] == 1 && s[1] == 3);
  if (!ok) {
    st_error("cannot write '%s': image tensor must be [3, H, W] or [1, 3, H, W], got %s", path,
             st_shape_str(nd, s, sb, sizeof sb));
    return NULL;
  }
  if (st_tensor_device(img).kind != ST_CPU) {
    st_error("cannot write '%s': image tensor is on %s; copy it to the cpu first", path,
             st_device_name(st_tensor_device(img)));
    return NULL;
  }
  int64_t H = s[nd - 2], W = s[nd - 1];
  if (H <= 0 || W <= 0 || H > 0x7fffffff || W > 0x7fffffff) {
    st_error("cannot write '%s': image size %lldx%lld is not writable", path, (long long)W,
             (long long)H);
    return NULL;
  }
  /* From the caching allocator: after a stylize pass, pages already in. */
  unsigned char *rgb = st_mem_alloc(st_cpu(), (size_t)(3 * H * W), "the 8-bit image being written");
  if (!rgb) {
    st_error("cannot write '%s': out of memory for a %lldx%lld image", path, (long long)W,
             (long long)H);
    return NULL;
  }
  const float *src = st_tensor_data(img);
  int64_t plane = H * W;
  for (int c = 0; c < 3; c++)
    for (int64_t i = 0; i < plane; i++) {
      float v = src[c * plane + i];
      /* !(v > 0) also catches NaN. */
      rgb[3 * i + c] = !(v > 0.0f) ? 0 : v >= 254.5f ? 255 : (unsigned char)(v + 0.5f);
    }
  *w = (int)W;
  *h = (int)H;
  return rgb;
}

int st_image_write(const char *path, const st_tensor *img) {
  if (!path || !img) return st_error("st_image_write: NULL %s", path ? "image" : "path");
  image_format fmt = FMT_PNG;
  if (format_for_write(path, &fmt) != 0) return -1;
  int w, h;
  unsigned char *rgb = to_rgb8(path, img, &w, &h);
  if (!rgb) return -1;

  size_t n = strlen(path) + 32;
  char *tmp = malloc(n);
  if (!tmp) {
    st_mem_free(st_cpu(), rgb);
    return st_error("cannot write '%s': out of memory", path);
  }
  snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
  int rc = -1;
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    st_error("cannot write '%s': %s (creating the temporary file '%s')", path, strerror(errno),
             tmp);
    goto out;
  }
  rc = fmt == FMT_PNG ? st_png_write(path, f, rgb, w, h) : st_jpeg_write(path, f, rgb, w, h, 95);
  /* fsync so that after a crash the renamed file is complete, not empty. */
  if (rc == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0))
    rc = st_error("cannot write '%s': %s", path, strerror(errno));
  if (fclose(f) != 0 && rc == 0) rc = st_error("cannot write '%s': %s", path, strerror(errno));
  if (rc == 0 && rename(tmp, path) != 0)
    rc = st_error("cannot write '%s': renaming '%s' failed: %s", path, tmp, strerror(errno));
  if (rc != 0) unlink(tmp);
out:
  free(tmp);
  st_mem_free(st_cpu(), rgb);
  return rc;
}
