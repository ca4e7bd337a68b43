/* Engstrom / ml5 folder import: a small synthetic network checked element by
 * element, an HDF5 round trip, and the published wave network of data/samples. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/error.h"
#include "engine/io/import_engstrom.h"
#include "tap.h"

#define NVARS 24 /* 18 + 6 for one residual block */
#define REF_DIR "data/samples/reference/engstrom-wave" /* tracked: see data/NOTICE */

static char dir[64];
static float *raw[NVARS];
static int ndims[NVARS];
static int64_t shapes[NVARS][4];

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float next_float(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (float)((double)(rng >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

static int64_t numel_of(int v) {
  int64_t n = 1;
  for (int i = 0; i < ndims[v]; i++) n *= shapes[v][i];
  return n;
}

/* conv1 3->4 9x9, conv2 4->5, conv3 5->6, res1 6->6 twice, deconv1 6->5,
 * deconv2 5->4 (stored [kh, kw, out, in]), conv4 4->3 9x9. */
static void make_network(void) {
  struct { int k, a, b; } w[8] = {{9, 3, 4}, {3, 4, 5}, {3, 5, 6}, {3, 6, 6}, {3, 6, 6}, {3, 5, 6}, {3, 4, 5}, {9, 4, 3}};
  int couts[8] = {4, 5, 6, 6, 6, 5, 4, 3};
  for (int j = 0; j < 8; j++) {
    int v = 3 * j;
    ndims[v] = 4;
    shapes[v][0] = shapes[v][1] = w[j].k;
    shapes[v][2] = w[j].a;
    shapes[v][3] = w[j].b;
    ndims[v + 1] = ndims[v + 2] = 1;
    shapes[v + 1][0] = shapes[v + 2][0] = couts[j];
  }
  for (int v = 0; v < NVARS; v++) {
    int64_t n = numel_of(v);
    raw[v] = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) raw[v][i] = next_float();
  }
}

/* Writes the folder: data files named "data_<N>.bin" so the importer must
 * follow "filename", keys listed in a shuffled order so it must number them. */
static void write_folder(void) {
  char p[256];
  for (int v = 0; v < NVARS; v++) {
    snprintf(p, sizeof p, "%s/data_%d.bin", dir, v);
    FILE *f = fopen(p, "wb");
    fwrite(raw[v], sizeof(float), (size_t)numel_of(v), f);
    fclose(f);
  }
  snprintf(p, sizeof p, "%s/manifest.json", dir);
  FILE *f = fopen(p, "w");
  fprintf(f, "{\n");
  for (int k = 0; k < NVARS; k++) {
    int v = (k * 7 + 3) % NVARS; /* 7 is coprime with 24: a permutation */
    char key[32];
    if (v == 0)
      snprintf(key, sizeof key, "Variable");
    else
      snprintf(key, sizeof key, "Variable_%d", v);
    fprintf(f, "  \"%s\": {\"filename\": \"data_%d.bin\", \"shape\": [", key, v);
    for (int i = 0; i < ndims[v]; i++) fprintf(f, "%s%lld", i ? ", " : "", (long long)shapes[v][i]);
    fprintf(f, "]}%s\n", k + 1 < NVARS ? "," : "");
  }
  fprintf(f, "}\n");
  fclose(f);
}

static const char *conv_names[8] = {"conv1", "conv2", "conv3", "res1.conv1", "res1.conv2", "deconv1", "deconv2", "conv4"};
static const char *norm_names[8] = {"in1", "in2", "in3", "res1.in1", "res1.in2", "in4", "in5", "in6"};

static int has_shape(const st_tensor *t, int ndim, int64_t a, int64_t b, int64_t c, int64_t d) {
  int64_t s[4] = {a, b, c, d};
  if (!t || t->ndim != ndim) return 0;
  for (int i = 0; i < ndim; i++)
    if (t->shape[i] != s[i]) return 0;
  return 1;
}

static void check_small(st_weights *w) {
  char name[64];
  tap_ok(st_weights_count(w) == NVARS, "24 variables -> 24 parameters (got %d)", st_weights_count(w));
  int order = 1, k = 0;
  for (int j = 0; j < 8; j++) {
    snprintf(name, sizeof name, "%s.weight", conv_names[j]);
    order &= st_weights_name(w, k) && strcmp(st_weights_name(w, k), name) == 0, k++;
    snprintf(name, sizeof name, "%s.bias", norm_names[j]);
    order &= st_weights_name(w, k) && strcmp(st_weights_name(w, k), name) == 0, k++;
    snprintf(name, sizeof name, "%s.weight", norm_names[j]);
    order &= st_weights_name(w, k) && strcmp(st_weights_name(w, k), name) == 0, k++;
  }
  tap_ok(order, "names in network order: conv weight, norm bias (beta), norm weight (gamma)");
  for (int j = 0; j < 8; j++) {
    int v = 3 * j, transposed = j == 5 || j == 6;
    int64_t kh = shapes[v][0], kw = shapes[v][1], A = shapes[v][2], B = shapes[v][3];
    snprintf(name, sizeof name, "%s.weight", conv_names[j]);
    st_tensor *t = st_weights_get(w, name);
    /* conv: [kh,kw,in,out] -> [out,in,kh,kw]; deconv: [kh,kw,out,in] -> [in,out,kh,kw]. */
    int ok = has_shape(t, 4, B, A, kh, kw);
    tap_ok(ok, "%s shape [%lld, %lld, %lld, %lld]", name, (long long)B, (long long)A, (long long)kh, (long long)kw);
    const float *d = ok ? st_tensor_data(t) : NULL;
    for (int64_t y = 0; ok && y < kh; y++)
      for (int64_t x = 0; ok && x < kw; x++)
        for (int64_t a = 0; ok && a < A; a++)
          for (int64_t b = 0; ok && b < B; b++) ok = d[((b * A + a) * kh + y) * kw + x] == raw[v][((y * kw + x) * A + a) * B + b];
    tap_ok(ok, "%s: every element permuted exactly (%s)", name,
           transposed ? "[kh,kw,out,in] -> [in,out,kh,kw]" : "HWIO -> OIHW");
    for (int p = 1; p <= 2; p++) {
      snprintf(name, sizeof name, "%s.%s", norm_names[j], p == 1 ? "bias" : "weight");
      t = st_weights_get(w, name);
      ok = has_shape(t, 1, shapes[v + p][0], 0, 0, 0) &&
           memcmp(st_tensor_data(t), raw[v + p], (size_t)shapes[v + p][0] * sizeof(float)) == 0;
      tap_ok(ok, "%s = %s exactly", name, p == 1 ? "beta (shift)" : "gamma (scale)");
    }
  }
}

static void test_small(void) {
  make_network();
  write_folder();
  st_clear_error();
  st_weights *w = st_import_engstrom(dir);
  tap_ok(w != NULL, "import a 1-block folder %s", st_last_error());
  if (!w) return;
  check_small(w);
  const char *a = st_weights_get_attr(w, "network"), *s = st_weights_get_attr(w, "source"),
             *b = st_weights_get_attr(w, "blocks");
  tap_ok(a && strcmp(a, "engstrom-transformer") == 0, "network attribute");
  tap_ok(s && strcmp(s, dir) == 0, "source attribute is the folder");
  tap_ok(b && strcmp(b, "1") == 0, "blocks = 1");

  char h5[256];
  snprintf(h5, sizeof h5, "%s/model.h5", dir);
  tap_ok(st_weights_save(w, h5) == 0, "save the import as HDF5 %s", st_last_error());
  st_weights *r = st_weights_load(h5);
  tap_ok(r != NULL, "load it back %s", r ? "" : st_last_error());
  if (r) {
    check_small(r);
    int same = st_weights_count(r) == st_weights_count(w);
    for (int i = 0; same && i < st_weights_count(w); i++) {
      st_tensor *x = st_weights_at(w, i), *y = st_weights_at(r, i);
      same = strcmp(st_weights_name(w, i), st_weights_name(r, i)) == 0 && st_tensor_same_shape(x, y) &&
             memcmp(st_tensor_data(x), st_tensor_data(y), (size_t)x->numel * sizeof(float)) == 0;
    }
    tap_ok(same, "HDF5 round trip is exact, same order");
    b = st_weights_get_attr(r, "blocks");
    const char *f = st_weights_get_attr(r, "strata_format");
    tap_ok(b && strcmp(b, "1") == 0 && f && strcmp(f, "1") == 0, "attributes survive, strata_format = 1");
  }
  st_weights_free(r);
  st_weights_free(w);

  /* Clean up the folder. */
  DIR *dd = opendir(dir);
  struct dirent *e;
  char p[512];
  while (dd && (e = readdir(dd)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      unlink(p);
    }
  if (dd) closedir(dd);
  rmdir(dir);
  for (int v = 0; v < NVARS; v++) free(raw[v]);
}

static void test_reference(void) {
  struct stat sb;
  if (stat(REF_DIR "/manifest.json", &sb) != 0) {
    tap_ok(0, "%s/manifest.json is missing (the sample set is part of the repository)", REF_DIR);
    return;
  }
  st_clear_error();
  st_weights *w = st_import_engstrom(REF_DIR);
  tap_ok(w != NULL, "import the published wave network %s", st_last_error());
  if (!w) return;
  tap_ok(st_weights_count(w) == 48, "48 variables -> 48 parameters");
  const char *b = st_weights_get_attr(w, "blocks");
  tap_ok(b && strcmp(b, "5") == 0, "5 residual blocks");
  tap_ok(st_weights_numel(w) == 1677638, "1,677,638 parameters (got %lld)", (long long)st_weights_numel(w));

  /* The full expected name list, in order. */
  char names[48][48];
  int k = 0;
  const char *top[3][2] = {{"conv1", "in1"}, {"conv2", "in2"}, {"conv3", "in3"}};
  for (int j = 0; j < 3; j++) {
    snprintf(names[k++], 48, "%s.weight", top[j][0]);
    snprintf(names[k++], 48, "%s.bias", top[j][1]);
    snprintf(names[k++], 48, "%s.weight", top[j][1]);
  }
  for (int r = 1; r <= 5; r++)
    for (int c = 1; c <= 2; c++) {
      snprintf(names[k++], 48, "res%d.conv%d.weight", r, c);
      snprintf(names[k++], 48, "res%d.in%d.bias", r, c);
      snprintf(names[k++], 48, "res%d.in%d.weight", r, c);
    }
  const char *tail[3][2] = {{"deconv1", "in4"}, {"deconv2", "in5"}, {"conv4", "in6"}};
  for (int j = 0; j < 3; j++) {
    snprintf(names[k++], 48, "%s.weight", tail[j][0]);
    snprintf(names[k++], 48, "%s.bias", tail[j][1]);
    snprintf(names[k++], 48, "%s.weight", tail[j][1]);
  }
  int ok = 1;
  for (int i = 0; ok && i < 48; i++) ok = st_weights_name(w, i) && strcmp(st_weights_name(w, i), names[i]) == 0;
  tap_ok(ok, "the expected 48 names in order");

  int64_t c1[] = {32, 3, 9, 9}, d1[] = {128, 64, 3, 3}, c4[] = {3, 32, 9, 9}, r5[] = {128, 128, 3, 3}, in6[] = {3};
  tap_ok(st_weights_expect(w, "conv1.weight", 4, c1) == 0, "conv1.weight [32, 3, 9, 9] %s", st_last_error());
  tap_ok(st_weights_expect(w, "deconv1.weight", 4, d1) == 0, "deconv1.weight [128, 64, 3, 3] %s", st_last_error());
  tap_ok(st_weights_expect(w, "conv4.weight", 4, c4) == 0, "conv4.weight [3, 32, 9, 9] %s", st_last_error());
  tap_ok(st_weights_expect(w, "res5.conv2.weight", 4, r5) == 0 && st_weights_expect(w, "in6.weight", 1, in6) == 0,
         "res5.conv2.weight and in6.weight shapes");

  /* One deconv element against the raw file: deconv1 is Variable_39, [3, 3, 64, 128]. */
  FILE *f = fopen(REF_DIR "/Variable_39", "rb");
  float v = 0;
  int64_t y = 2, x = 1, o = 17, i = 101; /* src[y][x][o][i] -> dst[i][o][y][x] */
  int got = f && fseek(f, (long)((((y * 3 + x) * 64 + o) * 128 + i) * 4), SEEK_SET) == 0 && fread(&v, 4, 1, f) == 1;
  if (f) fclose(f);
  st_tensor *t = st_weights_get(w, "deconv1.weight");
  tap_ok(got && t && st_tensor_data(t)[((i * 64 + o) * 3 + y) * 3 + x] == v, "deconv1 element matches the raw file");
  st_weights_free(w);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/strata_engstrom_XXXXXX");
  if (!mkdtemp(dir)) {
    tap_ok(0, "mkdtemp");
    return tap_done();
  }
  test_small();
  test_reference();
  return tap_done();
}
