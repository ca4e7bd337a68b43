/* TensorFlow V2 checkpoint reader (see tf_checkpoint.h). The SSTable and the
 * three protobuf messages are decoded by hand: the wire format needs only
 * varints, fixed32/64 and length-delimited fields, and unknown fields are
 * skipped, so newer writers that add fields still read. */
#include "tf_checkpoint.h"

#include <errno.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../error.h"

#define FOOTER_LEN 48
#define TRAILER_LEN 5 /* type byte + masked crc */
#define TABLE_MAGIC 0xdb4775248b80fb57ull
#define MAX_INDEX_BYTES ((int64_t)1 << 30)
#define MAX_SHARDS 100000
#define DT_FLOAT 1

/* ---- CRC32C */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    crc_table[n] = c;
  }
}

static uint32_t crc_update_sw(uint32_t c, const uint8_t *p, size_t n) {
  pthread_once(&crc_once, crc_init);
  while (n--) c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
  return c;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* SSE4.2 has a CRC32C instruction: ~20x the table's speed on the 255 MB of
 * FCRN weights. Chosen at run time, so the build needs no -msse4.2. */
__attribute__((target("sse4.2"))) static uint32_t crc_update_hw(uint32_t c, const uint8_t *p, size_t n) {
  uint64_t c64 = c;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    c64 = __builtin_ia32_crc32di(c64, w);
  }
  c = (uint32_t)c64;
  while (n--) c = __builtin_ia32_crc32qi(c, *p++);
  return c;
}
#endif

uint32_t st_crc32c(uint32_t crc, const void *data, size_t n) {
  uint32_t c = ~crc;
#if defined(__x86_64__) && defined(__GNUC__)
  /* Short inputs take the table, so tests of short vectors cover it too. */
  if (n >= 64 && __builtin_cpu_supports("sse4.2")) return ~crc_update_hw(c, data, n);
#endif
  return ~crc_update_sw(c, data, n);
}

uint32_t st_crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

uint32_t st_crc32c_unmask(uint32_t masked) {
  uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

/* ---- little-endian and varint decoding */

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

/* Advances *p past one varint (at most 10 bytes, never past end); -1 when
 * truncated or overlong. */
static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 70 && *p < end; shift += 7) {
    uint8_t b = *(*p)++;
    if (shift == 63 && b > 1) return -1;
    r |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = r;
      return 0;
    }
  }
  return -1;
}

/* ---- protobuf fields */

typedef struct {
  uint32_t field;
  int wire;            /* 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32 */
  uint64_t v;          /* wire 0, 1, 5 */
  const uint8_t *data; /* wire 2 */
  size_t len;
} pb_field;

/* 1 with the next field, 0 at the end, -1 when malformed. */
static int pb_next(const uint8_t **p, const uint8_t *end, pb_field *f) {
  if (*p >= end) return 0;
  uint64_t tag, len;
  if (varint(p, end, &tag) != 0 || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) return -1;
  f->field = (uint32_t)(tag >> 3);
  f->wire = (int)(tag & 7);
  switch (f->wire) {
    case 0:
      return varint(p, end, &f->v) == 0 ? 1 : -1;
    case 1:
      if (end - *p < 8) return -1;
      f->v = le64(*p);
      *p += 8;
      return 1;
    case 5:
      if (end - *p < 4) return -1;
      f->v = le32(*p);
      *p += 4;
      return 1;
    case 2:
      if (varint(p, end, &len) != 0 || len > (uint64_t)(end - *p)) return -1;
      f->data = *p;
      f->len = (size_t)len;
      *p += len;
      return 1;
    default: /* groups (3, 4) are not used by these messages */
      return -1;
  }
}

typedef struct {
  int64_t num_shards;
  int64_t endianness;
  int64_t producer, min_consumer;
  int bad_consumer_1; /* version 1 (this reader's) is listed in bad_consumers */
} bundle_header;

typedef struct {
  int64_t dtype;
  int ndim;                /* dims seen (may exceed ST_MAX_DIMS; only the first are kept) */
  int64_t shape[ST_MAX_DIMS];
  int bad_dim;             /* a dim size < 0 (unknown) */
  int unknown_rank;
  int64_t shard_id, offset, size;
  uint32_t crc32c;         /* as stored: masked */
  int nslices;
} bundle_entry;

static const char *wire_name(int w) {
  return w == 0 ? "varint" : w == 1 ? "fixed64" : w == 2 ? "length-delimited" : "fixed32";
}

/* Each parser returns 0, or -1 with *why set to a short description. */
static int expect_wire(const pb_field *f, int wire, const char *name, char *why, size_t n) {
  if (f->wire == wire) return 0;
  snprintf(why, n, "field %u (%s) has wire type %s, expected %s", f->field, name, wire_name(f->wire),
           wire_name(wire));
  return -1;
}

static int parse_version(const uint8_t *p, const uint8_t *end, bundle_header *h, char *why, size_t n) {
  pb_field f;
  int r;
  while ((r = pb_next(&p, end, &f)) == 1) {
    if (f.field == 1) {
      if (expect_wire(&f, 0, "version.producer", why, n)) return -1;
      h->producer = (int32_t)f.v;
    } else if (f.field == 2) {
      if (expect_wire(&f, 0, "version.min_consumer", why, n)) return -1;
      h->min_consumer = (int32_t)f.v;
    } else if (f.field == 3) {
      /* repeated int32 bad_consumers: plain varints or a packed run */
      if (f.wire == 0) {
        if ((int32_t)f.v == 1) h->bad_consumer_1 = 1;
      } else if (f.wire == 2) {
        const uint8_t *q = f.data, *qe = f.data + f.len;
        uint64_t v;
        while (q < qe) {
          if (varint(&q, qe, &v) != 0) {
            snprintf(why, n, "field 3 (version.bad_consumers) is truncated");
            return -1;
          }
          if ((int32_t)v == 1) h->bad_consumer_1 = 1;
        }
      }
    }
  }
  if (r < 0) snprintf(why, n, "field 'version' is truncated or malformed");
  return r;
}

static int parse_header(const uint8_t *p, size_t len, bundle_header *h, char *why, size_t n) {
  const uint8_t *end = p + len;
  pb_field f;
  int r;
  memset(h, 0, sizeof *h);
  while ((r = pb_next(&p, end, &f)) == 1) {
    if (f.field == 1) {
      if (expect_wire(&f, 0, "num_shards", why, n)) return -1;
      h->num_shards = (int32_t)f.v;
    } else if (f.field == 2) {
      if (expect_wire(&f, 0, "endianness", why, n)) return -1;
      h->endianness = (int64_t)f.v;
    } else if (f.field == 3) {
      if (expect_wire(&f, 2, "version", why, n)) return -1;
      if (parse_version(f.data, f.data + f.len, h, why, n) != 0) return -1;
    }
  }
  if (r < 0) snprintf(why, n, "truncated or malformed protobuf");
  return r;
}

static int parse_shape(const uint8_t *p, const uint8_t *end, bundle_entry *e, char *why, size_t n) {
  pb_field f, g;
  int r;
  while ((r = pb_next(&p, end, &f)) == 1) {
    if (f.field == 2) { /* Dim { int64 size = 1; string name = 2; } */
      if (expect_wire(&f, 2, "shape.dim", why, n)) return -1;
      const uint8_t *q = f.data, *qe = f.data + f.len;
      int64_t size = 0;
      int s;
      while ((s = pb_next(&q, qe, &g)) == 1)
        if (g.field == 1) {
          if (expect_wire(&g, 0, "shape.dim.size", why, n)) return -1;
          size = (int64_t)g.v;
        }
      if (s < 0) {
        snprintf(why, n, "field 'shape.dim' is truncated or malformed");
        return -1;
      }
      if (size < 0) e->bad_dim = 1;
      if (e->ndim < ST_MAX_DIMS) e->shape[e->ndim] = size;
      if (e->ndim < 1000000) e->ndim++;
    } else if (f.field == 3) {
      if (expect_wire(&f, 0, "shape.unknown_rank", why, n)) return -1;
      e->unknown_rank = f.v != 0;
    }
  }
  if (r < 0) snprintf(why, n, "field 'shape' is truncated or malformed");
  return r;
}

static int parse_entry(const uint8_t *p, size_t len, bundle_entry *e, char *why, size_t n) {
  const uint8_t *end = p + len;
  pb_field f;
  int r;
  memset(e, 0, sizeof *e);
  while ((r = pb_next(&p, end, &f)) == 1) {
    switch (f.field) {
      case 1:
        if (expect_wire(&f, 0, "dtype", why, n)) return -1;
        e->dtype = (int64_t)f.v;
        break;
      case 2:
        if (expect_wire(&f, 2, "shape", why, n) || parse_shape(f.data, f.data + f.len, e, why, n)) return -1;
        break;
      case 3:
        if (expect_wire(&f, 0, "shard_id", why, n)) return -1;
        e->shard_id = (int32_t)f.v;
        break;
      case 4:
        if (expect_wire(&f, 0, "offset", why, n)) return -1;
        e->offset = (int64_t)f.v;
        break;
      case 5:
        if (expect_wire(&f, 0, "size", why, n)) return -1;
        e->size = (int64_t)f.v;
        break;
      case 6:
        if (expect_wire(&f, 5, "crc32c", why, n)) return -1;
        e->crc32c = (uint32_t)f.v;
        break;
      case 7:
        e->nslices++;
        break;
      default:
        break; /* unknown field: skipped */
    }
  }
  if (r < 0) snprintf(why, n, "truncated or malformed protobuf");
  return r;
}

/* ---- files */

/* The whole file; NULL with an error. `role` says what the file is for. */
static uint8_t *read_all(const char *path, const char *role, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    st_error("%s: cannot open: %s (%s)", path, strerror(errno), role);
    return NULL;
  }
  struct stat sb;
  if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    st_error("%s: not a regular file (%s)", path, role);
    fclose(f);
    return NULL;
  }
  if (sb.st_size > MAX_INDEX_BYTES) {
    st_error("%s: %lld bytes is too large for a checkpoint index", path, (long long)sb.st_size);
    fclose(f);
    return NULL;
  }
  uint8_t *buf = malloc((size_t)sb.st_size + 1);
  if (!buf) {
    st_error("%s: out of memory reading %lld bytes", path, (long long)sb.st_size);
    fclose(f);
    return NULL;
  }
  size_t n = fread(buf, 1, (size_t)sb.st_size, f);
  int bad = ferror(f);
  fclose(f);
  if (bad || n != (size_t)sb.st_size) {
    st_error("%s: read error", path);
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

typedef struct {
  FILE *f;
  int64_t size;
  char *path;
} shard;

/* ---- reading state */

typedef struct {
  const char *prefix;
  char *index_path;
  uint8_t *index;
  size_t index_len;    /* bytes before the footer: where blocks may lie */
  int (*want)(const char *, void *);
  void *ctx;
  st_weights *out;
  bundle_header header;
  int seen_header;
  int64_t entries;
  /* the previous key over the whole table, for the ordering check */
  char *last;
  size_t last_len, last_cap;
  shard *shards;
} reader;

static void close_shards(reader *r) {
  if (!r->shards) return;
  for (int64_t i = 0; i < r->header.num_shards; i++) {
    if (r->shards[i].f) fclose(r->shards[i].f);
    free(r->shards[i].path);
  }
  free(r->shards);
  r->shards = NULL;
}

static shard *open_shard(reader *r, int64_t id, const char *tensor) {
  shard *s = &r->shards[id];
  if (s->f) return s;
  if (!s->path) {
    size_t n = strlen(r->prefix) + 32;
    if (!(s->path = malloc(n))) {
      st_error("%s: out of memory", r->index_path);
      return NULL;
    }
    snprintf(s->path, n, "%s.data-%05lld-of-%05lld", r->prefix, (long long)id, (long long)r->header.num_shards);
  }
  FILE *f = fopen(s->path, "rb");
  if (!f) {
    st_error("%s: cannot open: %s (data shard %lld of %lld, holding tensor '%s')", s->path, strerror(errno),
             (long long)id, (long long)r->header.num_shards, tensor);
    return NULL;
  }
  struct stat sb;
  if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    st_error("%s: not a regular file (data shard %lld)", s->path, (long long)id);
    fclose(f);
    return NULL;
  }
  s->f = f;
  s->size = (int64_t)sb.st_size;
  return s;
}

/* Printable copy of a key for messages. */
static const char *key_str(const char *k, size_t n, char *buf, size_t cap) {
  size_t j = 0;
  for (size_t i = 0; i < n && j + 5 < cap; i++) {
    unsigned char c = (unsigned char)k[i];
    if (c >= 32 && c < 127)
      buf[j++] = (char)c;
    else
      j += (size_t)snprintf(buf + j, cap - j, "\\x%02x", c);
  }
  if (j + 5 >= cap && cap > 4) memcpy(buf + cap - 4, "...", 3), j = cap - 1;
  buf[j] = '\0';
  return buf;
}

static int read_tensor(reader *r, const char *name, const bundle_entry *e) {
  char sb[160];
  const char *ip = r->index_path;
  if (e->nslices > 0)
    return st_error("%s: tensor '%s' is saved as %d partitioned slices, which is not supported", ip, name,
                    e->nslices);
  if (e->unknown_rank || e->bad_dim)
    return st_error("%s: tensor '%s': shape is unknown or has a negative dimension", ip, name);
  if (e->ndim > ST_MAX_DIMS)
    return st_error("%s: tensor '%s' has %d dimensions (at most %d supported)", ip, name, e->ndim, ST_MAX_DIMS);
  int64_t numel = 1;
  for (int i = 0; i < e->ndim; i++) {
    if (e->shape[i] > 0 && numel > INT64_MAX / 4 / e->shape[i])
      return st_error("%s: tensor '%s': shape %s is too large", ip, name, st_shape_str(e->ndim, e->shape, sb, sizeof sb));
    numel *= e->shape[i];
  }
  st_shape_str(e->ndim, e->shape, sb, sizeof sb);
  if (e->size != numel * 4)
    return st_error("%s: tensor '%s': size field says %lld bytes, but float32 shape %s needs %lld", ip, name,
                    (long long)e->size, sb, (long long)(numel * 4));
  if (e->shard_id < 0 || e->shard_id >= r->header.num_shards)
    return st_error("%s: tensor '%s': shard_id %lld is outside the header's %lld shards", ip, name,
                    (long long)e->shard_id, (long long)r->header.num_shards);
  shard *s = open_shard(r, e->shard_id, name);
  if (!s) return -1;
  if (e->offset < 0 || e->offset > s->size || e->size > s->size - e->offset)
    return st_error("%s: tensor '%s' lies at bytes [%lld, %lld) but the file has only %lld bytes: truncated data "
                    "file?", s->path, name, (long long)e->offset, (long long)e->offset + (long long)e->size,
                    (long long)s->size);
  st_tensor *t = st_tensor_new(e->ndim, e->shape, st_cpu());
  if (!t) return st_error_prefix("%s: tensor '%s': ", s->path, name);
  uint8_t *dst = (uint8_t *)st_tensor_data(t);
  if (fseeko(s->f, (off_t)e->offset, SEEK_SET) != 0 || fread(dst, 1, (size_t)e->size, s->f) != (size_t)e->size) {
    st_tensor_release(t);
    return st_error("%s: tensor '%s': read error at offset %lld", s->path, name, (long long)e->offset);
  }
  uint32_t got = st_crc32c(0, dst, (size_t)e->size), want = st_crc32c_unmask(e->crc32c);
  if (got != want) {
    st_tensor_release(t);
    return st_error("%s: tensor '%s': checksum mismatch (stored crc32c %08x, computed %08x over %lld bytes at "
                    "offset %lld): the file is corrupt", s->path, name, want, got, (long long)e->size,
                    (long long)e->offset);
  }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  for (int64_t i = 0; i < numel; i++) { /* the bundle is little-endian */
    uint8_t *b = dst + 4 * i, x = b[0];
    b[0] = b[3], b[3] = x, x = b[1], b[1] = b[2], b[2] = x;
  }
#endif
  int rc = st_weights_set(r->out, name, t);
  st_tensor_release(t);
  if (rc != 0) return st_error_prefix("%s: tensor '%s': ", ip, name);
  return 0;
}

/* One key/value of the table, in order. */
static int on_entry(reader *r, const char *key, size_t klen, const uint8_t *val, size_t vlen) {
  char kb[200], why[200];
  const char *ip = r->index_path;
  /* Keys must strictly increase (bytewise), as TensorFlow's table builder writes them. */
  if (r->entries > 0) {
    size_t m = klen < r->last_len ? klen : r->last_len;
    int c = memcmp(key, r->last, m);
    if (c < 0 || (c == 0 && klen <= r->last_len))
      return st_error("%s: key '%s' is out of order (the table's keys must increase): corrupt index", ip,
                      key_str(key, klen, kb, sizeof kb));
  }
  if (klen + 1 > r->last_cap) {
    size_t cap = (klen + 1) * 2;
    char *p = realloc(r->last, cap);
    if (!p) return st_error("%s: out of memory", ip);
    r->last = p, r->last_cap = cap;
  }
  memcpy(r->last, key, klen);
  r->last[klen] = '\0';
  r->last_len = klen;
  r->entries++;

  if (r->entries == 1) { /* the header is the first entry, under the empty key */
    if (klen != 0)
      return st_error("%s: the first key is '%s', not the empty key of the bundle header: not a TensorFlow "
                      "checkpoint index", ip, key_str(key, klen, kb, sizeof kb));
    if (parse_header(val, vlen, &r->header, why, sizeof why) != 0)
      return st_error("%s: bundle header: %s", ip, why);
    bundle_header *h = &r->header;
    if (h->num_shards < 1 || h->num_shards > MAX_SHARDS)
      return st_error("%s: bundle header: num_shards is %lld, expected 1 to %d", ip, (long long)h->num_shards,
                      MAX_SHARDS);
    if (h->endianness != 0)
      return st_error("%s: bundle header: the checkpoint was written on a big-endian machine, which is not "
                      "supported", ip);
    if (h->min_consumer > 1 || h->bad_consumer_1)
      return st_error("%s: bundle header: the checkpoint needs a reader of format version %lld or newer (this "
                      "reader implements version 1)", ip, (long long)h->min_consumer);
    if (!(r->shards = calloc((size_t)h->num_shards, sizeof *r->shards))) return st_error("%s: out of memory", ip);
    r->seen_header = 1;
    return 0;
  }
  /* Slices of partitioned tensors have binary keys; their full-tensor entry
   * (with the readable name) is what matters. */
  if (memchr(key, '\0', klen)) return 0;
  const char *name = r->last;
  bundle_entry e;
  if (parse_entry(val, vlen, &e, why, sizeof why) != 0)
    return st_error("%s: tensor '%s': malformed BundleEntryProto: %s", ip, key_str(key, klen, kb, sizeof kb), why);
  if (e.dtype != DT_FLOAT) return 0;
  if (r->want && !r->want(name, r->ctx)) return 0;
  return read_tensor(r, name, &e);
}

/* A snappy-compressed block (type 1, as some TensorFlow versions write):
 * libsnappy checks the whole stream against its declared length before
 * anything is allocated, so a corrupt block is an error, never a huge
 * allocation or a short read. *owned is the new buffer, for the caller to free. */
static int uncompress_block(reader *r, const uint8_t *b, size_t size, const char *what, uint64_t off,
                            const uint8_t **data, size_t *n, uint8_t **owned) {
  const char *ip = r->index_path;
  size_t len;
  if (snappy_uncompressed_length((const char *)b, size, &len) != SNAPPY_OK ||
      snappy_validate_compressed_buffer((const char *)b, size) != SNAPPY_OK)
    return st_error("%s: %s at offset %llu: its snappy-compressed contents (%zu bytes) are corrupt (the checksum "
                    "matches, so they were written that way)", ip, what, (unsigned long long)off, size);
  if ((int64_t)len > MAX_INDEX_BYTES)
    return st_error("%s: %s at offset %llu uncompresses to %zu bytes, more than the %lld this reader accepts", ip,
                    what, (unsigned long long)off, len, (long long)MAX_INDEX_BYTES);
  uint8_t *u = malloc(len ? len : 1);
  if (!u) return st_error("%s: out of memory uncompressing the %zu-byte %s", ip, len, what);
  size_t got = len;
  if (snappy_uncompress((const char *)b, size, (char *)u, &got) != SNAPPY_OK || got != len) {
    free(u);
    return st_error("%s: %s at offset %llu: snappy could not uncompress it: corrupt block", ip, what,
                    (unsigned long long)off);
  }
  *data = u;
  *n = len;
  *owned = u;
  return 0;
}

/* Checks a block handle and its trailer (type, masked crc over the stored,
 * possibly compressed, bytes and the type byte); *data and *n give the
 * block's contents, uncompressed into *owned (NULL when the block is used in
 * place; the caller frees it). `what` names the block in messages. */
static int load_block(reader *r, uint64_t off, uint64_t size, const char *what, const uint8_t **data, size_t *n,
                      uint8_t **owned) {
  *owned = NULL;
  const char *ip = r->index_path;
  if (off > r->index_len || size > r->index_len - off || TRAILER_LEN > r->index_len - off - size)
    return st_error("%s: %s at bytes [%llu, %llu) lies beyond the %zu bytes before the footer: truncated or "
                    "corrupt file", ip, what, (unsigned long long)off,
                    (unsigned long long)(off + size + TRAILER_LEN), r->index_len);
  const uint8_t *b = r->index + off;
  uint32_t stored = st_crc32c_unmask(le32(b + size + 1)), got = st_crc32c(0, b, (size_t)size + 1);
  if (stored != got)
    return st_error("%s: %s at offset %llu: checksum mismatch (stored crc32c %08x, computed %08x): the file is "
                    "corrupt", ip, what, (unsigned long long)off, stored, got);
  if (b[size] == 1) return uncompress_block(r, b, (size_t)size, what, off, data, n, owned);
  if (b[size] != 0)
    return st_error("%s: %s at offset %llu has unknown compression type %d", ip, what, (unsigned long long)off, b[size]);
  *data = b;
  *n = (size_t)size;
  return 0;
}

typedef int (*entry_fn)(reader *r, const char *key, size_t klen, const uint8_t *val, size_t vlen, void *arg);

/* Walks a block's entries in order, rebuilding prefix-compressed keys and
 * checking that every restart point falls on an entry with no shared prefix. */
static int walk_block(reader *r, const char *what, uint64_t where, const uint8_t *b, size_t n, entry_fn fn,
                      void *arg) {
  const char *ip = r->index_path;
  if (n < 4) return st_error("%s: %s at offset %llu is %zu bytes, too short for its restart count", ip, what,
                             (unsigned long long)where, n);
  uint32_t nr = le32(b + n - 4);
  if (nr > (n - 4) / 4)
    return st_error("%s: %s at offset %llu claims %u restart points, more than fit in %zu bytes", ip, what,
                    (unsigned long long)where, nr, n);
  size_t limit = n - 4 - 4 * (size_t)nr; /* entries end where the restart array starts */
  if (nr == 0 && limit > 0)
    return st_error("%s: %s at offset %llu has entries but no restart points", ip, what, (unsigned long long)where);
  char *key = NULL;
  size_t klen = 0, kcap = 0, off = 0;
  uint32_t ri = 0;
  int rc = 0;
  while (off < limit) {
    const uint8_t *p = b + off, *end = b + limit;
    int restart = 0;
    if (ri < nr) {
      uint32_t ro = le32(b + limit + 4 * (size_t)ri);
      if (ro < off) {
        rc = st_error("%s: %s at offset %llu: restart point %u (%u) is not on an entry boundary: corrupt block", ip,
                      what, (unsigned long long)where, ri, ro);
        break;
      }
      if (ro == off) restart = 1, ri++;
    }
    uint64_t shared, nonshared, vlen;
    if (varint(&p, end, &shared) || varint(&p, end, &nonshared) || varint(&p, end, &vlen) ||
        nonshared > (uint64_t)(end - p) || vlen > (uint64_t)(end - p) - nonshared) {
      rc = st_error("%s: %s at offset %llu: entry at byte %zu runs past the block's end: corrupt block", ip, what,
                    (unsigned long long)where, off);
      break;
    }
    if (shared > klen || (restart && shared != 0) || (off == 0 && shared != 0)) {
      rc = st_error("%s: %s at offset %llu: entry at byte %zu shares %llu bytes with a %zu-byte previous key%s: "
                    "corrupt block", ip, what, (unsigned long long)where, off, (unsigned long long)shared, klen,
                    restart ? " at a restart point" : "");
      break;
    }
    size_t need = (size_t)shared + (size_t)nonshared + 1;
    if (need > kcap) {
      char *k = realloc(key, need * 2);
      if (!k) {
        rc = st_error("%s: out of memory", ip);
        break;
      }
      key = k, kcap = need * 2;
    }
    memcpy(key + shared, p, (size_t)nonshared);
    klen = (size_t)(shared + nonshared);
    key[klen] = '\0';
    p += nonshared;
    if ((rc = fn(r, key, klen, p, (size_t)vlen, arg)) != 0) break;
    off = (size_t)(p + vlen - b);
  }
  if (rc == 0 && ri < nr && limit > 0) /* an empty block keeps its one restart at 0 */
    rc = st_error("%s: %s at offset %llu: restart point %u does not fall on an entry: corrupt block", ip, what,
                  (unsigned long long)where, ri);
  free(key);
  return rc;
}

/* A data block's entries, each checked against the index key that bounds it. */
static int data_entry(reader *r, const char *key, size_t klen, const uint8_t *val, size_t vlen, void *arg) {
  const char *bound = ((const char **)arg)[0];
  size_t blen = (size_t)(uintptr_t)((const char **)arg)[1];
  size_t m = klen < blen ? klen : blen;
  int c = memcmp(key, bound, m);
  if (c > 0 || (c == 0 && klen > blen)) {
    char kb[200], bb[200];
    return st_error("%s: key '%s' is beyond its index entry '%s': corrupt index", r->index_path,
                    key_str(key, klen, kb, sizeof kb), key_str(bound, blen, bb, sizeof bb));
  }
  return on_entry(r, key, klen, val, vlen);
}

/* An index block entry: a separator key and the handle of a data block. */
static int index_entry(reader *r, const char *key, size_t klen, const uint8_t *val, size_t vlen, void *arg) {
  (void)arg;
  const uint8_t *p = val, *end = val + vlen;
  uint64_t off, size;
  char kb[200];
  if (varint(&p, end, &off) || varint(&p, end, &size))
    return st_error("%s: index entry '%s': bad block handle", r->index_path, key_str(key, klen, kb, sizeof kb));
  const uint8_t *data;
  uint8_t *owned;
  size_t n;
  if (load_block(r, off, size, "data block", &data, &n, &owned) != 0) return -1;
  /* The walk may reuse nothing of `key`: copy the bound. */
  char *bound = malloc(klen + 1);
  if (!bound) {
    free(owned);
    return st_error("%s: out of memory", r->index_path);
  }
  memcpy(bound, key, klen);
  const char *barg[2] = {bound, (const char *)(uintptr_t)klen};
  int rc = walk_block(r, "data block", off, data, n, data_entry, barg);
  free(bound);
  free(owned);
  return rc;
}

static int read_table(reader *r, size_t file_len) {
  const char *ip = r->index_path;
  if (file_len < FOOTER_LEN)
    return st_error("%s: the file is %zu bytes, shorter than the %d-byte table footer: truncated, or not a "
                    "TensorFlow checkpoint index", ip, file_len, FOOTER_LEN);
  const uint8_t *foot = r->index + file_len - FOOTER_LEN;
  uint64_t magic = le64(foot + FOOTER_LEN - 8);
  if (magic != TABLE_MAGIC)
    return st_error("%s: bad magic number %016llx at the end (expected %016llx): not a TensorFlow checkpoint index, "
                    "or a truncated one", ip, (unsigned long long)magic, (unsigned long long)TABLE_MAGIC);
  r->index_len = file_len - FOOTER_LEN;
  const uint8_t *p = foot, *end = foot + FOOTER_LEN - 8;
  uint64_t moff, msize, ioff, isize;
  if (varint(&p, end, &moff) || varint(&p, end, &msize) || varint(&p, end, &ioff) || varint(&p, end, &isize))
    return st_error("%s: the footer's block handles are malformed: corrupt file", ip);
  const uint8_t *data;
  uint8_t *owned;
  size_t n;
  /* The metaindex is only validated: bundles keep nothing there. */
  if (load_block(r, moff, msize, "metaindex block", &data, &n, &owned) != 0) return -1;
  free(owned);
  if (load_block(r, ioff, isize, "index block", &data, &n, &owned) != 0) return -1;
  int rc = walk_block(r, "index block", ioff, data, n, index_entry, NULL);
  free(owned);
  if (rc != 0) return -1;
  if (!r->seen_header)
    return st_error("%s: the table is empty: no bundle header, not a TensorFlow checkpoint index", ip);
  return 0;
}

st_weights *st_tf_checkpoint_read(const char *prefix, int (*want)(const char *name, void *ctx), void *ctx) {
  if (!prefix || !*prefix) {
    st_error("tf_checkpoint_read: no checkpoint prefix given");
    return NULL;
  }
  reader r;
  memset(&r, 0, sizeof r);
  r.prefix = prefix;
  r.want = want;
  r.ctx = ctx;
  size_t plen = strlen(prefix) + 8, file_len = 0;
  int ok = 0;
  char num[32];
  if (!(r.index_path = malloc(plen))) {
    st_error("%s: out of memory", prefix);
    return NULL;
  }
  snprintf(r.index_path, plen, "%s.index", prefix);
  if (!(r.index = read_all(r.index_path, "the index of a TensorFlow checkpoint PREFIX.index + "
                                         "PREFIX.data-00000-of-0000N", &file_len)))
    goto done;
  if (!(r.out = st_weights_new())) goto done;
  if (read_table(&r, file_len) != 0) goto done;
  snprintf(num, sizeof num, "%lld", (long long)r.header.num_shards);
  if (st_weights_set_attr(r.out, "format", "tensorflow-checkpoint-v2") != 0 ||
      st_weights_set_attr(r.out, "source", prefix) != 0 || st_weights_set_attr(r.out, "num_shards", num) != 0 ||
      st_weights_set_path(r.out, r.index_path) != 0)
    goto done;
  ok = 1;
done:
  close_shards(&r);
  free(r.index);
  free(r.index_path);
  free(r.last);
  if (!ok) {
    st_weights_free(r.out);
    return NULL;
  }
  return r.out;
}
