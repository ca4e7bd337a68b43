/* libFuzzer target: the training-image folder walker and loader
 * (engine/io/dataset.c). The input describes a folder tree, built fresh for
 * each input, which st_dataset_open lists and a few batches are read from.
 *
 * Input: 3 header bytes (batch size 1 + b0 % 3, image size 4 + b1 % 13,
 * seed b2), then up to 48 entries, each
 *   op (byte % 4): 0 folder, 1 file, 2 symbolic link, 3 a valid 5x4 PNG
 *   name: length byte (1 + n % 24) and bytes, mapped onto "abcdjpgnJPGN._-/"
 *   file: content length (2 bytes, at most 2048) and the bytes
 *   link: the target, a name as above, or "." when its length byte is 0
 * Names never leave the folder: "." and ".." components become "x", and
 * link targets are relative names without "..", so loops stay inside.
 * Checked: listing or a clear error; the paths it lists sorted, inside the
 * folder; batches of the declared shape with values in 0..255, or an error. */
#include <errno.h>
#include <string.h>

#include "engine/error.h"
#include "engine/io/dataset.h"
#include "engine/io/image.h"
#include "fuzz_tree.h"

#define MAX_ENTRIES 48
#define MAX_CONTENT 2048

static const char ALPHABET[] = "abcdjpgnJPGN._-/";

static char png_path[512]; /* a valid image, copied by op 3 */

static int setup(void) {
  if (png_path[0]) return 0;
  fuzz_temp_path(png_path, sizeof png_path, "dataset-seed", ".png");
  int64_t s[3] = {3, 4, 5};
  st_tensor *img = st_tensor_zeros(3, s, st_cpu());
  if (!img) return -1;
  for (int64_t i = 0; i < img->numel; i++) st_tensor_data(img)[i] = (float)((i * 37) % 256);
  int rc = st_image_write(png_path, img);
  st_tensor_release(img);
  return rc;
}

typedef struct {
  const uint8_t *p, *end;
} reader;

static int take(reader *r) { return r->p < r->end ? *r->p++ : -1; }

/* A relative name of 1..24 mapped bytes; "." and ".." components -> "x". */
static int read_name(reader *r, char *out, int len) {
  int k = 0;
  for (int i = 0; i < len; i++) {
    int b = take(r);
    if (b < 0) return -1;
    out[k++] = ALPHABET[b % (int)(sizeof ALPHABET - 1)];
  }
  out[k] = '\0';
  /* rewrite components */
  char tmp[64];
  int t = 0;
  for (char *part = out; part;) {
    char *slash = strchr(part, '/');
    if (slash) *slash = '\0';
    if (*part) {
      const char *c = strcmp(part, ".") == 0 || strcmp(part, "..") == 0 ? "x" : part;
      t += snprintf(tmp + t, sizeof tmp - (size_t)t, "%s%s", t ? "/" : "", c);
    }
    part = slash ? slash + 1 : NULL;
  }
  if (t == 0) snprintf(tmp, sizeof tmp, "x");
  strcpy(out, tmp);
  return 0;
}

/* mkdir -p of path's parent folders under root (failures are fine: a file
 * may stand where a folder is wanted). */
static void make_parents(const char *root, const char *name) {
  char p[1024];
  snprintf(p, sizeof p, "%s/%s", root, name);
  for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
    *s = '\0';
    mkdir(p, 0700);
    *s = '/';
  }
}

static void copy_file(const char *from, const char *to) {
  FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
  char buf[4096];
  size_t n;
  while (a && b && (n = fread(buf, 1, sizeof buf, a)) > 0) fwrite(buf, 1, n, b);
  if (a) fclose(a);
  if (b) fclose(b);
}

static void build_tree(const char *root, reader *r) {
  char name[64], target[64], path[1024];
  for (int e = 0; e < MAX_ENTRIES; e++) {
    int op = take(r), len = take(r);
    if (op < 0 || len < 0) return;
    op %= 4;
    if (read_name(r, name, 1 + len % 24) != 0) return;
    make_parents(root, name);
    snprintf(path, sizeof path, "%s/%s", root, name);
    if (op == 0) {
      mkdir(path, 0700);
    } else if (op == 1) {
      int hi = take(r), lo = take(r);
      if (hi < 0 || lo < 0) return;
      size_t n = (size_t)((hi << 8 | lo) % (MAX_CONTENT + 1));
      if (n > (size_t)(r->end - r->p)) n = (size_t)(r->end - r->p);
      FILE *f = fopen(path, "wb");
      if (f) {
        fwrite(r->p, 1, n, f);
        fclose(f);
      }
      r->p += n;
    } else if (op == 2) {
      int tl = take(r);
      if (tl < 0) return;
      if (tl == 0)
        strcpy(target, ".");
      else if (read_name(r, target, 1 + tl % 24) != 0)
        return;
      if (symlink(target, path) != 0 && errno != EEXIST) continue;
    } else {
      copy_file(png_path, path);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3 || setup() != 0) return 0;
  char root[512];
  if (!fuzz_tree_fresh(root, sizeof root, "dataset")) return 0;
  int B = 1 + data[0] % 3, N = 4 + data[1] % 13;
  uint64_t seed = data[2];
  reader r = {data + 3, data + size};
  build_tree(root, &r);

  st_clear_error();
  st_dataset *d = st_dataset_open(root, N, B, seed);
  if (!d) {
    if (!st_last_error()[0]) abort(); /* a failure must say why */
  } else {
    int64_t n = st_dataset_count(d);
    if (n < B || st_dataset_batches_per_epoch(d) != n / B) abort();
    size_t rl = strlen(root);
    for (int64_t i = 0; i < n; i++) {
      const char *p = st_dataset_path(d, i);
      if (!p || strncmp(p, root, rl) != 0 || p[rl] != '/') abort(); /* listed outside the folder */
      if (i > 0 && strcmp(st_dataset_path(d, i - 1), p) >= 0) abort(); /* unsorted or twice */
    }
    int64_t shape[4] = {B, 3, N, N};
    st_tensor *out = st_tensor_new(4, shape, st_cpu());
    for (int k = 0; out && k < 3; k++) {
      int64_t ep = -1, bi = -1;
      if (st_dataset_next(d, out, &ep, &bi) != 0) {
        if (!st_last_error()[0]) abort();
        break;
      }
      for (int64_t i = 0; i < out->numel; i++) {
        float v = st_tensor_data(out)[i];
        if (!(v >= -0.5f && v <= 255.5f)) abort(); /* pixels are 0..255 */
      }
      if (k == 1 && st_dataset_seek(d, 1, 0) != 0) abort(); /* batch 0 of epoch 1 always exists */
    }
    st_tensor_release(out);
    st_dataset_close(d);
  }
  st_clear_error();
  fuzz_tree_remove(root);
  return 0;
}
