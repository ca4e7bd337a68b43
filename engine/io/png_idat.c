/* PNG image data compressed in parallel.
 *
 * Why: writing the PNG is the last thing `strata stylize` does; zlib
 * compresses on one thread only (~7 ms of the 712x476 output). Deflate
 * streams can be joined: a run compressed as raw deflate and ended with a
 * full flush finishes on a byte boundary with no reference past its end, so
 * the next run's raw deflate data can follow it directly (as pigz does).
 * Huffman coding only: on the Sub filter's residuals zlib's run-length
 * matching (Z_RLE, what libpng was set to) saved 0.002% of the size and took
 * ~10% more time (712x476: 712544 vs 712530 bytes), and no run refers back
 * into the run before it. memLevel 9 (zlib's largest symbol buffer, so fewer
 * blocks and Huffman trees) was 4% faster and 0.2% smaller than 8.
 *
 * The filtered rows and the compressed runs share one block of the caching
 * allocator (engine/memory.h): after a stylize pass, pages it has already
 * faulted in, instead of ~2 MB of fresh ones (~500 page faults). */
#include "png_idat.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../memory.h"

typedef struct {
  int y0, y1;         /* its rows */
  unsigned char *raw; /* the run's filtered rows, in the shared block */
  size_t raw_len;
  unsigned char *out; /* its compressed bytes, in the shared block */
  size_t cap, len;
  uLong adler;
  int ok;
} run;

/* Sub filter of rows [y0, y1) into raw: a filter-type byte 1, then each
 * byte minus the one 3 bytes (a pixel) to its left. */
static void filter_rows(const unsigned char *rgb, int w, int y0, int y1, unsigned char *raw) {
  const size_t stride = (size_t)w * 3;
  for (int y = y0; y < y1; y++) {
    const unsigned char *s = rgb + (size_t)y * stride;
    unsigned char *d = raw + (size_t)(y - y0) * (stride + 1);
    d[0] = 1;
    for (size_t i = 0; i < 3 && i < stride; i++) d[1 + i] = s[i];
    for (size_t i = 3; i < stride; i++) d[1 + i] = (unsigned char)(s[i] - s[i - 3]);
  }
}

static void compress_run(const unsigned char *rgb, int w, int last, run *r) {
  z_stream z;
  memset(&z, 0, sizeof z);
  r->ok = 0;
  if (deflateInit2(&z, 1, Z_DEFLATED, -15, 9, Z_HUFFMAN_ONLY) != Z_OK) return;
  filter_rows(rgb, w, r->y0, r->y1, r->raw);
  r->adler = adler32(adler32(0L, Z_NULL, 0), r->raw, (uInt)r->raw_len);
  z.next_in = r->raw;
  z.avail_in = (uInt)r->raw_len;
  z.next_out = r->out;
  z.avail_out = (uInt)r->cap;
  int rc = deflate(&z, last ? Z_FINISH : Z_FULL_FLUSH);
  r->ok = last ? rc == Z_STREAM_END : rc == Z_OK && z.avail_in == 0;
  r->len = r->cap - z.avail_out;
  deflateEnd(&z);
}

unsigned char *st_png_idat(const unsigned char *rgb, int w, int h, int parts, size_t *len) {
  /* At least ~64 KiB of pixels a run: below that a thread costs more than it saves. */
  const size_t row = (size_t)w * 3 + 1;
  int max_parts = (int)(((size_t)h * row) / (64 << 10));
  if (parts > max_parts) parts = max_parts;
  if (parts > h) parts = h;
  if (parts < 1) parts = 1;
  run *runs = calloc((size_t)parts, sizeof *runs);
  if (!runs) return NULL;
  /* One block: the zlib header, each run's output slot (deflateBound at our
   * settings, from one stream, plus a full flush's marker), then the
   * filtered rows. */
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, 1, Z_DEFLATED, -15, 9, Z_HUFFMAN_ONLY) != Z_OK) {
    free(runs);
    return NULL;
  }
  size_t total = 2, raw_total = (size_t)h * row;
  for (int p = 0; p < parts; p++) {
    run *r = &runs[p];
    r->y0 = (int)((long)h * p / parts);
    r->y1 = (int)((long)h * (p + 1) / parts);
    r->raw_len = (size_t)(r->y1 - r->y0) * row;
    r->cap = deflateBound(&z, (uLong)r->raw_len) + 16;
    total += r->cap;
  }
  deflateEnd(&z);
  const size_t out_bytes = total + 4;
  unsigned char *block = st_mem_alloc(st_cpu(), out_bytes + raw_total, "the PNG encoder's buffer");
  if (!block) {
    free(runs);
    return NULL;
  }
  size_t at = 2, raw_at = out_bytes;
  for (int p = 0; p < parts; p++) {
    runs[p].out = block + at;
    runs[p].raw = block + raw_at;
    at += runs[p].cap;
    raw_at += runs[p].raw_len;
  }
#pragma omp parallel for num_threads(parts) schedule(static, 1) if (parts > 1)
  for (int p = 0; p < parts; p++) compress_run(rgb, w, p == parts - 1, &runs[p]);
  /* zlib header (deflate, 32 KiB window, "fastest" level), the runs moved
   * up against each other, the combined Adler-32. */
  int ok = 1;
  for (int p = 0; p < parts; p++) ok = ok && runs[p].ok;
  size_t k = 0;
  if (ok) {
    block[k++] = 0x78;
    block[k++] = 0x01;
    uLong adler = adler32(0L, Z_NULL, 0);
    for (int p = 0; p < parts; p++) {
      memmove(block + k, runs[p].out, runs[p].len);
      k += runs[p].len;
      adler = adler32_combine(adler, runs[p].adler, (z_off_t)runs[p].raw_len);
    }
    for (int s = 24; s >= 0; s -= 8) block[k++] = (unsigned char)(adler >> s);
    *len = k;
  }
  free(runs);
  if (!ok) {
    st_mem_free(st_cpu(), block);
    return NULL;
  }
  return block;
}
