/* TensorFlow V2 checkpoint reader and FCRN importer, on the committed fixture
 * tests/fixtures/tf_ckpt_small.* written by gen_tf_checkpoint.py (an
 * independent Python writer of the format): CRC32C test vectors, every value
 * of every tensor, dtype skipping, want(), the FCRN name mapping and OIHW
 * transpose, and corrupt copies (each one clear error, nothing on stderr).
 * Snappy-compressed blocks: the generator's tf_ckpt_snappy.index (its data
 * blocks and index block compressed by libsnappy) and a copy of the fixture
 * whose index block this test compresses with libsnappy's C API, read value
 * for value; a corrupt compressed block is a clear error, whether its
 * checksum fails or (recomputed) the snappy stream does. */
#include <dirent.h>
#include <fcntl.h>
#include <snappy-c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/error.h"
#include "engine/io/import_fcrn.h"
#include "engine/io/tf_checkpoint.h"
#include "tap.h"

#define FIXTURE "tests/fixtures/tf_ckpt_small"
#define NFLOAT 397 /* float32 tensors in the fixture */
#define NFCRN 394  /* of which FCRN parameters */
#define INDEX_BYTES 13986
#define DATA_BYTES 71580
#define SNAPPY_FIXTURE "tests/fixtures/tf_ckpt_snappy.index"

static char tmp[64], prefix[128], index_path[160], data_path[160];

/* ---- the generator's values: xorshift64 seeded with FNV-1a 64 of the name */

static uint64_t fnv1a64(const char *s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
  return h;
}

static float expected_value(const char *name, int64_t i) {
  static char last[128];
  static uint64_t r;
  static int64_t at;
  if (strcmp(name, last) != 0 || i < at) {
    snprintf(last, sizeof last, "%s", name);
    r = fnv1a64(name);
    if (!r) r = 1;
    at = 0;
  }
  double x = 0;
  for (; at <= i; at++) {
    r ^= r << 13, r ^= r >> 7, r ^= r << 17;
    x = (double)(r >> 40) / (double)(1 << 23) - 1.0;
  }
  size_t n = strlen(name);
  if (n >= 9 && strcmp(name + n - 9, "/variance") == 0) x = (x < 0 ? -x : x) + 0.25;
  return (float)x;
}

/* Number of elements of t that differ from the generator's values for name. */
static int64_t mismatches(const st_tensor *t, const char *name) {
  const float *p = st_tensor_data(t);
  int64_t bad = 0;
  for (int64_t i = 0; i < t->numel; i++) bad += p[i] != expected_value(name, i);
  return bad;
}

static int shape_is(const st_tensor *t, int ndim, const int64_t *s) {
  if (!t || t->ndim != ndim) return 0;
  for (int i = 0; i < ndim; i++)
    if (t->shape[i] != s[i]) return 0;
  return 1;
}

/* ---- temp copies */

static int copy_file(const char *from, const char *to, long keep) {
  FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
  if (!a || !b) {
    if (a) fclose(a);
    if (b) fclose(b);
    return -1;
  }
  char buf[8192];
  size_t n;
  long total = 0;
  while ((n = fread(buf, 1, sizeof buf, a)) > 0) {
    if (keep >= 0 && total + (long)n > keep) n = (size_t)(keep - total);
    fwrite(buf, 1, n, b);
    total += (long)n;
    if (keep >= 0 && total >= keep) break;
  }
  fclose(a);
  fclose(b);
  return 0;
}

/* Fresh copies of the fixture in tmp; index truncated to keep_index bytes
 * and data to keep_data when >= 0. */
static void fresh_copy(long keep_index, long keep_data) {
  copy_file(FIXTURE ".index", index_path, keep_index);
  copy_file(FIXTURE ".data-00000-of-00001", data_path, keep_data);
}

static void flip_byte(const char *path, long off) {
  FILE *f = fopen(path, "r+b");
  if (!f) return;
  fseek(f, off, off < 0 ? SEEK_END : SEEK_SET);
  int c = fgetc(f);
  fseek(f, off, off < 0 ? SEEK_END : SEEK_SET);
  fputc(c ^ 0x5a, f);
  fclose(f);
}

/* The read fails with one line containing every one of the (up to 3) parts. */
static void expect_error(st_weights *w, const char *what, const char *a, const char *b, const char *c) {
  const char *e = st_last_error();
  if (getenv("TFCK_SHOW")) printf("# %s: %s\n", what, e);
  int good = !w && e[0] && !strchr(e, '\n') && (!a || strstr(e, a)) && (!b || strstr(e, b)) && (!c || strstr(e, c));
  if (!tap_ok(good, "%s: one clear error", what)) tap_diag("got %s: '%s'", w ? "weights" : "NULL", e);
  st_weights_free(w);
  st_clear_error();
}

static int want_no_momentum(const char *name, void *ctx) {
  (*(int *)ctx)++;
  return strstr(name, "Momentum") == NULL;
}

static int want_not_conv1(const char *name, void *ctx) {
  (void)ctx;
  return strncmp(name, "conv1/", 6) != 0;
}

/* ---- tests */

static void test_crc32c(void) {
  /* RFC 3720 B.4 vectors, as in TensorFlow's crc32c_test.cc. */
  unsigned char buf[48];
  memset(buf, 0, 32);
  tap_ok(st_crc32c(0, buf, 32) == 0x8a9136aa, "crc32c of 32 zero bytes");
  memset(buf, 0xff, 32);
  tap_ok(st_crc32c(0, buf, 32) == 0x62a8ab43, "crc32c of 32 0xff bytes");
  for (int i = 0; i < 32; i++) buf[i] = (unsigned char)i;
  tap_ok(st_crc32c(0, buf, 32) == 0x46dd794e, "crc32c of 0..31");
  for (int i = 0; i < 32; i++) buf[i] = (unsigned char)(31 - i);
  tap_ok(st_crc32c(0, buf, 32) == 0x113fdb5c, "crc32c of 31..0");
  static const unsigned char iscsi[48] = {0x01, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                          0x14, 0, 0, 0, 0, 0, 0x04, 0, 0, 0, 0, 0x14, 0, 0, 0, 0x18,
                                          0x28, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0};
  tap_ok(st_crc32c(0, iscsi, 48) == 0xd9963a56, "crc32c of the iSCSI read PDU");
  tap_ok(st_crc32c(0, iscsi, 41) == 0xdd1b19be && st_crc32c(0, iscsi + 1, 44) == 0x4930c4b1,
         "crc32c at unaligned sizes and offsets");
  tap_ok(st_crc32c(st_crc32c(0, "hello ", 6), "world", 5) == st_crc32c(0, "hello world", 11), "crc32c extends");
  /* Long inputs may take a hardware path, short ones a table: they agree. */
  unsigned char big[1000];
  for (int i = 0; i < 1000; i++) big[i] = (unsigned char)(i * 7 + (i >> 3));
  uint32_t whole = st_crc32c(0, big, 1000), parts = 0;
  for (int i = 0; i < 1000; i += 7) parts = st_crc32c(parts, big + i, i + 7 <= 1000 ? 7 : 1000 - i);
  tap_ok(whole == parts, "crc32c of 1000 bytes at once equals 7-byte pieces extended");
  uint32_t c = st_crc32c(0, "foo", 3);
  tap_ok(st_crc32c_mask(c) != c && st_crc32c_unmask(st_crc32c_mask(c)) == c &&
             st_crc32c_unmask(st_crc32c_unmask(st_crc32c_mask(st_crc32c_mask(c)))) == c,
         "mask and unmask are inverse");
}

static void test_read_all(void) {
  st_weights *w = st_tf_checkpoint_read(FIXTURE, NULL, NULL);
  if (!tap_ok(w != NULL, "fixture reads")) {
    tap_diag("%s", st_last_error());
    return;
  }
  tap_ok(st_weights_count(w) == NFLOAT, "all %d float32 tensors (got %d)", NFLOAT, st_weights_count(w));
  tap_ok(!st_weights_get(w, "global_step") && !st_weights_get(w, "x_0") && !st_weights_get(w, "aux/scale_f64"),
         "int64 and float64 tensors are skipped");
  int64_t s_conv1[4] = {7, 7, 3, 1}, s_b[4] = {2, 3, 16, 8}, s_c[4] = {1, 1, 8, 32}, s_m[2] = {3, 5}, s_bias[1] = {1};
  tap_ok(shape_is(st_weights_get(w, "conv1/weights"), 4, s_conv1), "conv1/weights HWIO [7, 7, 3, 1]");
  tap_ok(shape_is(st_weights_get(w, "layer2x_br1_ConvB/weights"), 4, s_b), "layer2x_br1_ConvB/weights [2, 3, 16, 8]");
  tap_ok(shape_is(st_weights_get(w, "res5c_branch2c/weights"), 4, s_c), "res5c_branch2c/weights [1, 1, 8, 32]");
  tap_ok(shape_is(st_weights_get(w, "aux/matrix"), 2, s_m), "rank-2 tensor [3, 5]");
  tap_ok(shape_is(st_weights_get(w, "learning_rate"), 0, NULL), "rank-0 tensor");
  tap_ok(shape_is(st_weights_get(w, "ConvPred/biases"), 1, s_bias), "ConvPred/biases [1]");
  int64_t bad = 0, elems = 0;
  int sorted = 1;
  for (int i = 0; i < st_weights_count(w); i++) {
    bad += mismatches(st_weights_at(w, i), st_weights_name(w, i));
    elems += st_weights_at(w, i)->numel;
    if (i > 0 && strcmp(st_weights_name(w, i - 1), st_weights_name(w, i)) >= 0) sorted = 0;
  }
  tap_ok(bad == 0, "every value of every tensor is exact (%lld elements, %lld wrong)", (long long)elems,
         (long long)bad);
  tap_ok(sorted, "tensors come in the index's sorted order");
  const char *fmt = st_weights_get_attr(w, "format"), *ns = st_weights_get_attr(w, "num_shards");
  tap_ok(fmt && strcmp(fmt, "tensorflow-checkpoint-v2") == 0 && ns && strcmp(ns, "1") == 0,
         "attributes format and num_shards");
  st_weights_free(w);

  int calls = 0;
  w = st_tf_checkpoint_read(FIXTURE, want_no_momentum, &calls);
  tap_ok(w && st_weights_count(w) == NFLOAT - 1 && !st_weights_get(w, "conv1/weights/Momentum") &&
             st_weights_get(w, "conv1/weights") && calls == NFLOAT,
         "want() sees each float32 tensor once with its ctx and filters the optimizer slot (%d calls)", calls);
  st_weights_free(w);
}

/* OIHW[o][i][y][x] == HWIO[y][x][i][o] for the named conv layer. */
static int transposed_ok(const st_weights *w, const char *layer) {
  char tf[64], st[64];
  snprintf(tf, sizeof tf, "%s/weights", layer);
  snprintf(st, sizeof st, "%s.weight", layer);
  const st_tensor *t = st_weights_get(w, st);
  if (!t || t->ndim != 4) return 0;
  int64_t O = t->shape[0], I = t->shape[1], kh = t->shape[2], kw = t->shape[3];
  const float *p = st_tensor_data(t);
  for (int64_t y = 0; y < kh; y++)
    for (int64_t x = 0; x < kw; x++)
      for (int64_t i = 0; i < I; i++)
        for (int64_t o = 0; o < O; o++)
          if (p[((o * I + i) * kh + y) * kw + x] != expected_value(tf, ((y * kw + x) * I + i) * O + o)) return 0;
  return 1;
}

static int same_as(const st_weights *w, const char *st, const char *tf) {
  const st_tensor *t = st_weights_get(w, st);
  return t && mismatches(t, tf) == 0;
}

static int has_name(const st_weights *w, const char *name) { return st_weights_get(w, name) != NULL; }

static void test_import(void) {
  st_weights *w = st_import_fcrn(FIXTURE);
  if (!tap_ok(w != NULL, "FCRN import of the fixture")) {
    tap_diag("%s", st_last_error());
    return;
  }
  tap_ok(st_weights_count(w) == NFCRN, "%d FCRN parameters (got %d)", NFCRN, st_weights_count(w));
  int slash = 0;
  for (int i = 0; i < st_weights_count(w); i++) slash += strchr(st_weights_name(w, i), '/') != NULL;
  tap_ok(slash == 0 && !has_name(w, "learning_rate") && !has_name(w, "aux.matrix"),
         "only FCRN layer parameters, no TF names, slots or extras");
  int64_t s1[4] = {1, 3, 7, 7}, sb[4] = {8, 16, 2, 3}, sc[4] = {8, 16, 3, 2};
  tap_ok(shape_is(st_weights_get(w, "conv1.weight"), 4, s1), "conv1.weight OIHW [1, 3, 7, 7]");
  tap_ok(shape_is(st_weights_get(w, "layer2x_br1_ConvB.weight"), 4, sb) &&
             shape_is(st_weights_get(w, "layer2x_br2_ConvC.weight"), 4, sc),
         "up-projection ConvB [8, 16, 2, 3], ConvC [8, 16, 3, 2]");
  tap_ok(transposed_ok(w, "conv1") && transposed_ok(w, "layer2x_br1_ConvB") && transposed_ok(w, "res3a_branch2b") &&
             transposed_ok(w, "layer16x_Conv") && transposed_ok(w, "ConvPred"),
         "HWIO -> OIHW transpose is exact (conv1, ConvB, res3a_branch2b, layer16x_Conv, ConvPred)");
  tap_ok(same_as(w, "conv1.bias", "conv1/biases") && same_as(w, "layer1.bias", "layer1/biases") &&
             same_as(w, "layer8x_br2_ConvD.bias", "layer8x_br2_ConvD/biases"),
         "biases map to .bias");
  tap_ok(!has_name(w, "res2a_branch1.bias") && !has_name(w, "res4f_branch2b.bias"), "ResNet convs have no bias");
  tap_ok(same_as(w, "bn_conv1.weight", "bn_conv1/scale") && same_as(w, "bn_conv1.bias", "bn_conv1/offset") &&
             same_as(w, "bn_conv1.running_mean", "bn_conv1/mean") &&
             same_as(w, "bn_conv1.running_var", "bn_conv1/variance") &&
             same_as(w, "layer4x_BN.running_var", "layer4x_BN/variance") &&
             same_as(w, "bn5c_branch2c.weight", "bn5c_branch2c/scale"),
         "batch norm: scale/offset/mean/variance -> weight/bias/running_mean/running_var");
  tap_ok(strcmp(st_weights_name(w, 0), "conv1.weight") == 0 && strcmp(st_weights_name(w, 2), "bn_conv1.weight") == 0 &&
             strcmp(st_weights_name(w, NFCRN - 1), "ConvPred.bias") == 0,
         "parameters in network order");
  char hex[65];
  const char *net = st_weights_get_attr(w, "network"), *sha = st_weights_get_attr(w, "source_sha256"),
             *wd = st_weights_get_attr(w, "width_div"), *src = st_weights_get_attr(w, "source");
  tap_ok(st_file_sha256(FIXTURE ".data-00000-of-00001", hex) == 0 && net && strcmp(net, "fcrn") == 0 && sha &&
             strcmp(sha, hex) == 0 && wd && strcmp(wd, "64") == 0 && src && strcmp(src, FIXTURE) == 0,
         "attributes network, source, source_sha256 (of the data file), width_div");

  /* HDF5 round trip. */
  char h5[192];
  snprintf(h5, sizeof h5, "%s/fcrn.h5", tmp);
  st_weights *back = st_weights_save(w, h5) == 0 ? st_weights_load(h5) : NULL;
  tap_ok(back && st_weights_count(back) == NFCRN && transposed_ok(back, "layer2x_br1_ConvB") &&
             same_as(back, "bn_conv1.running_var", "bn_conv1/variance"),
         "saved and reloaded as strata HDF5 weights");
  st_weights_free(back);
  unlink(h5);

  /* Names the Lua FCRN model expects, when its list is present. */
  FILE *f = fopen("weights/fcrn_params.txt", "r");
  if (!f) {
    tap_skip("weights/fcrn_params.txt absent");
  } else {
    char line[256], missing[128] = "";
    int n = 0, miss = 0;
    while (fgets(line, sizeof line, f)) {
      char name[128];
      if (line[0] == '#' || sscanf(line, "%127s", name) != 1) continue;
      n++;
      if (!has_name(w, name) && miss++ == 0) snprintf(missing, sizeof missing, "%s", name);
    }
    fclose(f);
    if (!tap_ok(n > 0 && miss == 0, "every name in weights/fcrn_params.txt is imported (%d names)", n))
      tap_diag("%d missing, first '%s'", miss, missing);
  }
  st_weights_free(w);

  /* Other spellings of the same checkpoint. */
  fresh_copy(-1, -1);
  w = st_import_fcrn(tmp); /* a folder with exactly one *.index */
  tap_ok(w && st_weights_count(w) == NFCRN, "import from the folder");
  st_weights_free(w);
  w = st_import_fcrn(index_path);
  tap_ok(w && st_weights_count(w) == NFCRN, "import from the .index path");
  st_weights_free(w);
  w = st_import_fcrn(data_path);
  tap_ok(w && st_weights_count(w) == NFCRN, "import from the .data path");
  st_weights_free(w);
  st_clear_error();
}

static void test_corrupt(void) {
  st_weights *w;
  char ipart[192];

  fresh_copy(-1, -1);
  flip_byte(data_path, 100); /* inside conv1/weights, bytes 0..587 */
  expect_error(st_tf_checkpoint_read(prefix, NULL, NULL), "flipped data byte", "checksum mismatch",
               "'conv1/weights'", ".data-00000-of-00001");
  w = st_tf_checkpoint_read(prefix, want_not_conv1, NULL);
  tap_ok(w && st_weights_count(w) == NFLOAT - 3, "a corrupt tensor that is not wanted is not read");
  st_weights_free(w);
  st_clear_error();
  expect_error(st_import_fcrn(prefix), "FCRN import of a corrupt data file", "checksum mismatch", "'conv1/weights'",
               NULL);

  fresh_copy(-1, DATA_BYTES - 100);
  expect_error(st_tf_checkpoint_read(prefix, NULL, NULL), "truncated data file", "lies at bytes",
               "truncated data file", ".data-00000-of-00001");

  fresh_copy(INDEX_BYTES / 2, -1);
  expect_error(st_tf_checkpoint_read(prefix, NULL, NULL), "index truncated to half", "bad magic", "truncated",
               ".index");
  fresh_copy(20, -1);
  expect_error(st_tf_checkpoint_read(prefix, NULL, NULL), "index truncated to 20 bytes", "20 bytes",
               "48-byte table footer", ".index");
  fresh_copy(0, -1);
  expect_error(st_tf_checkpoint_read(prefix, NULL, NULL), "empty index", "0 bytes", ".index", NULL);

  fresh_copy(-1, -1);
  flip_byte(index_path, -1);
  expect_error(st_tf_checkpoint_read(prefix, NULL, NULL), "wrong magic", "bad magic number", "db4775248b80fb57",
               ".index");

  fresh_copy(-1, -1);
  flip_byte(index_path, 40); /* inside the first data block */
  expect_error(st_tf_checkpoint_read(prefix, NULL, NULL), "flipped index byte", "data block", "checksum mismatch",
               ".index");

  fresh_copy(-1, -1);
  unlink(data_path);
  expect_error(st_tf_checkpoint_read(prefix, NULL, NULL), "missing data shard", "cannot open",
               ".data-00000-of-00001", "shard 0 of 1");
  snprintf(ipart, sizeof ipart, "%s.index", prefix);
  unlink(ipart);
  expect_error(st_tf_checkpoint_read(prefix, NULL, NULL), "missing index", "cannot open", ".index",
               "No such file");
  expect_error(st_import_fcrn(tmp), "FCRN import from a folder without a checkpoint", "no NYU_FCRN.ckpt.index",
               NULL, NULL);
  expect_error(st_tf_checkpoint_read("", NULL, NULL), "empty prefix", "no checkpoint prefix", NULL, NULL);

  /* Every truncation and every single-byte flip of the index: a clean error
   * or (for flips in the footer's padding) a correct read; never a crash. */
  int bad = 0, n = 0;
  for (long keep = 0; keep < INDEX_BYTES; keep += 37, n++) {
    fresh_copy(keep, -1);
    w = st_tf_checkpoint_read(prefix, NULL, NULL);
    bad += w != NULL || !st_last_error()[0];
    st_weights_free(w);
    st_clear_error();
  }
  tap_ok(bad == 0, "%d truncations of the index each fail cleanly", n);
  bad = 0, n = 0;
  fresh_copy(-1, -1);
  for (long off = 0; off < INDEX_BYTES; off += 3, n++) {
    flip_byte(index_path, off);
    w = st_tf_checkpoint_read(prefix, NULL, NULL);
    if (w) {
      const st_tensor *t = st_weights_get(w, "conv1/weights");
      bad += st_weights_count(w) != NFLOAT || !t || mismatches(t, "conv1/weights") != 0;
    } else {
      bad += !st_last_error()[0];
    }
    st_weights_free(w);
    st_clear_error();
    flip_byte(index_path, off); /* restore */
  }
  tap_ok(bad == 0, "%d single-byte flips of the index: a clean error or a correct read", n);
}

/* ---- snappy-compressed blocks */

static uint8_t *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)len + 1);
  if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *n = (size_t)len;
  return b;
}

static int spill(const char *path, const uint8_t *b, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(b, 1, n, f);
  return fclose(f) == 0 && w == n ? 0 : -1;
}

static uint64_t get_varint(const uint8_t **p) {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    uint8_t c = *(*p)++;
    v |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) return v;
  }
}

static size_t put_varint(uint8_t *p, uint64_t v) {
  size_t n = 0;
  for (; v >= 0x80; v >>= 7) p[n++] = (uint8_t)(v | 0x80);
  p[n++] = (uint8_t)v;
  return n;
}

static void put_le32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Block handles from a table's 48-byte footer. */
static void footer_handles(const uint8_t *b, size_t n, uint64_t h[4]) {
  const uint8_t *p = b + n - 48;
  for (int i = 0; i < 4; i++) h[i] = get_varint(&p);
}

/* The uncompressed fixture with its index block (the last block) replaced by
 * its snappy compression, type byte 1 and the masked CRC32C of both; the
 * footer points at it. Sets *blk / *blen to the compressed block's place. */
static int write_snappy_index_copy(const char *path, size_t *blk, size_t *blen) {
  size_t n;
  uint8_t *src = slurp(FIXTURE ".index", &n);
  if (!src) return -1;
  uint64_t h[4];
  footer_handles(src, n, h);
  size_t ioff = (size_t)h[2], isize = (size_t)h[3];
  size_t cap = snappy_max_compressed_length(isize), clen = cap;
  uint8_t *out = malloc(ioff + cap + 5 + 48);
  if (!out || ioff + isize + 5 + 48 != n ||
      snappy_compress((const char *)src + ioff, isize, (char *)out + ioff, &clen) != SNAPPY_OK) {
    free(src);
    free(out);
    return -1;
  }
  memcpy(out, src, ioff);
  out[ioff + clen] = 1;
  put_le32(out + ioff + clen + 1, st_crc32c_mask(st_crc32c(0, out + ioff, clen + 1)));
  uint8_t *foot = out + ioff + clen + 5;
  memset(foot, 0, 48);
  size_t k = put_varint(foot, h[0]);
  k += put_varint(foot + k, h[1]);
  k += put_varint(foot + k, ioff);
  put_varint(foot + k, clen);
  memcpy(foot + 40, src + n - 8, 8); /* the magic */
  int rc = spill(path, out, ioff + clen + 5 + 48);
  *blk = ioff;
  *blen = clen;
  free(src);
  free(out);
  return rc;
}

/* Every float32 tensor of the checkpoint at prefix holds the generator's values. */
static int reads_exactly(const char *what) {
  st_weights *w = st_tf_checkpoint_read(prefix, NULL, NULL);
  int64_t bad = 0;
  if (w)
    for (int i = 0; i < st_weights_count(w); i++) bad += mismatches(st_weights_at(w, i), st_weights_name(w, i));
  int good = w && st_weights_count(w) == NFLOAT && bad == 0;
  if (!tap_ok(good, "%s: all %d float32 tensors read, every value exact", what, NFLOAT))
    tap_diag("%s", w ? "wrong values" : st_last_error());
  st_weights_free(w);
  st_clear_error();
  return good;
}

/* Rewrites the masked CRC32C after the block [off, off + len) + type byte. */
static void fix_crc(const char *path, size_t off, size_t len) {
  size_t n;
  uint8_t *b = slurp(path, &n);
  if (!b) return;
  put_le32(b + off + len + 1, st_crc32c_mask(st_crc32c(0, b + off, len + 1)));
  spill(path, b, n);
  free(b);
}

static void test_snappy(void) {
  size_t n;
  uint64_t h[4];
  uint8_t *b;

  /* The generator's file: data blocks and index block compressed. */
  copy_file(SNAPPY_FIXTURE, index_path, -1);
  copy_file(FIXTURE ".data-00000-of-00001", data_path, -1);
  b = slurp(index_path, &n);
  int compressed = 0;
  if (b) {
    footer_handles(b, n, h);
    compressed = b[h[2] + h[3]] == 1 && snappy_validate_compressed_buffer((const char *)b + h[2], h[3]) == SNAPPY_OK;
  }
  free(b);
  tap_ok(compressed, "tf_ckpt_snappy.index: the index block is snappy-compressed (type 1)");
  reads_exactly("tf_ckpt_snappy.index (snappy data and index blocks)");
  st_weights *w = st_import_fcrn(prefix);
  tap_ok(w && st_weights_count(w) == NFCRN, "FCRN import of the snappy checkpoint: %d parameters", NFCRN);
  st_weights_free(w);
  st_clear_error();

  /* The fixture with its index block compressed here, by libsnappy. */
  size_t blk = 0, blen = 0;
  int made = write_snappy_index_copy(index_path, &blk, &blen) == 0;
  tap_ok(made, "the fixture's index block compresses with snappy_compress (%zu bytes)", blen);
  if (!made) return;
  reads_exactly("index block compressed by this test");

  /* A flipped byte in the compressed block: the checksum (over the
   * compressed bytes and the type byte) catches it. */
  flip_byte(index_path, (long)(blk + blen / 2));
  expect_error(st_tf_checkpoint_read(prefix, NULL, NULL), "flipped byte in a snappy block", "index block",
               "checksum mismatch", ".index");
  flip_byte(index_path, (long)(blk + blen / 2));
  /* Its declared length changed and the checksum recomputed: snappy's check. */
  flip_byte(index_path, (long)blk);
  fix_crc(index_path, blk, blen);
  expect_error(st_tf_checkpoint_read(prefix, NULL, NULL), "corrupt snappy stream with a matching checksum",
               "index block", "snappy", "corrupt");
  /* Every byte of the compressed block flipped, checksum recomputed: a clean
   * error or a correct read (a flip may leave a valid stream), never a crash. */
  write_snappy_index_copy(index_path, &blk, &blen);
  int bad = 0, tries = 0;
  for (size_t off = blk; off < blk + blen; off++, tries++) {
    flip_byte(index_path, (long)off);
    fix_crc(index_path, blk, blen);
    w = st_tf_checkpoint_read(prefix, NULL, NULL);
    if (w) {
      const st_tensor *t = st_weights_get(w, "conv1/weights");
      bad += st_weights_count(w) != NFLOAT || !t || mismatches(t, "conv1/weights") != 0;
    } else {
      bad += !st_last_error()[0];
    }
    st_weights_free(w);
    st_clear_error();
    flip_byte(index_path, (long)off);
  }
  fix_crc(index_path, blk, blen);
  tap_ok(bad == 0, "%d flips in a snappy block with the checksum recomputed: a clean error or a correct read",
         tries);
}

static void cleanup(void) {
  DIR *d = opendir(tmp);
  if (!d) return;
  struct dirent *e;
  char p[320];
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') {
      snprintf(p, sizeof p, "%s/%s", tmp, e->d_name);
      unlink(p);
    }
  closedir(d);
  rmdir(tmp);
}

int main(void) {
  struct stat sb;
  if (stat(FIXTURE ".index", &sb) != 0) tap_skip_all(FIXTURE ".index absent (run from the repository root)");
  snprintf(tmp, sizeof tmp, "/tmp/strata_tfck_XXXXXX");
  if (!mkdtemp(tmp)) tap_skip_all("cannot create a temporary folder");
  snprintf(prefix, sizeof prefix, "%s/ckpt", tmp);
  snprintf(index_path, sizeof index_path, "%s.index", prefix);
  snprintf(data_path, sizeof data_path, "%s.data-00000-of-00001", prefix);

  /* Library code must print nothing: collect stderr and check it stays empty. */
  char errfile[128];
  snprintf(errfile, sizeof errfile, "%s.stderr", tmp);
  fflush(stderr);
  int saved = dup(2), fd = open(errfile, O_CREAT | O_TRUNC | O_WRONLY, 0600);
  if (fd >= 0) dup2(fd, 2);

  test_crc32c();
  test_read_all();
  test_import();
  test_corrupt();
  test_snappy();

  fflush(stderr);
  if (fd >= 0) {
    dup2(saved, 2);
    close(fd);
  }
  close(saved);
  long long printed = stat(errfile, &sb) == 0 ? (long long)sb.st_size : -1;
  tap_ok(printed == 0, "nothing was printed on stderr (%lld bytes)", printed);
  unlink(errfile);
  cleanup();
  return tap_done();
}
