/* Keras VGG-19 importer: files written here in the Keras layout (the published
 * file's `_W_1:0` naming and the newer nested `kernel:0` naming), the
 * HWIO -> OIHW conversion and conv1_1's BGR -> RGB flip element by element,
 * bad files, and the committed tiny fixture. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/error.h"
#include "engine/io/import_keras_vgg19.h"
#include "tap.h"

#define FIXTURE "tests/fixtures/vgg19_tiny_keras.h5"

static const int per_block[5] = {2, 2, 4, 4, 4};
static const int widths[5] = {2, 3, 4, 5, 6}; /* tiny channel counts per block */

typedef struct {
  int new_naming;     /* "block1_conv1/kernel:0" in a nested group, else "block1_conv1_W_1:0" */
  int varlen;         /* variable-length strings for the name lists */
  int chunked;        /* layer_names split into layer_names0, layer_names1 */
  int no_layer_names;
  int include_top;    /* fc1, fc2, predictions layers with weights */
  int bad_rank;       /* conv index whose kernel is written 3-D (+1; 0 = none) */
  int bad_chain;      /* conv index whose kernel has one input channel too many (+1) */
  int no_weight_names;/* conv index whose group lacks weight_names (+1) */
  int one_weight;     /* conv index listing only its kernel (+1) */
  int stop_after;     /* write only this many convs (0 = all 16) */
} opts;

/* Distinct, exactly representable kernel values. */
static float kval(int k, int y, int x, int i, int o, int I, int O) {
  return (float)(k * 10000 + ((y * 3 + x) * I + i) * O + o);
}
static float bval(int k, int o) { return (float)(-(k * 100 + o) - 1) * 0.5f; }

static void conv_io(int k, int *I, int *O) {
  int b = 0, kk = k, prev = 3;
  while (kk >= per_block[b]) {
    kk -= per_block[b];
    prev = widths[b++];
  }
  *I = kk == 0 ? prev : widths[b];
  *O = widths[b];
}

static void str_attr(hid_t obj, const char *name, const char **v, int n, int varlen) {
  if (n == 0) { /* Keras writes an empty float64 array for weightless layers */
    hsize_t z = 0;
    hid_t sp = H5Screate_simple(1, &z, NULL);
    hid_t a = H5Acreate2(obj, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Aclose(a);
    H5Sclose(sp);
    return;
  }
  hsize_t dim = (hsize_t)n;
  hid_t sp = H5Screate_simple(1, &dim, NULL), t = H5Tcopy(H5T_C_S1);
  if (varlen) {
    H5Tset_size(t, H5T_VARIABLE);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, v);
    H5Aclose(a);
  } else { /* numpy 'S<n>': fixed length, null padded */
    size_t len = 1;
    for (int i = 0; i < n; i++)
      if (strlen(v[i]) > len) len = strlen(v[i]);
    char *buf = calloc((size_t)n, len);
    for (int i = 0; i < n; i++) memcpy(buf + (size_t)i * len, v[i], strlen(v[i]));
    H5Tset_size(t, len);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, buf);
    H5Aclose(a);
    free(buf);
  }
  H5Tclose(t);
  H5Sclose(sp);
}

static void dataset(hid_t loc, const char *name, int ndim, const hsize_t *dims, const float *data) {
  hid_t sp = H5Screate_simple(ndim, dims, NULL);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t ds = H5Dcreate2(loc, name, H5T_IEEE_F32LE, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
  H5Dclose(ds);
  H5Pclose(lcpl);
  H5Sclose(sp);
}

static void empty_layer(hid_t f, const char *name, int varlen) {
  hid_t g = H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  str_attr(g, "weight_names", NULL, 0, varlen);
  H5Gclose(g);
}

static void write_conv(hid_t f, int k, const char *name, const opts *o) {
  int I, O;
  conv_io(k, &I, &O);
  if (o->bad_chain == k + 1) I++;
  char wn[2][96];
  if (o->new_naming) {
    snprintf(wn[0], sizeof wn[0], "%s/kernel:0", name);
    snprintf(wn[1], sizeof wn[1], "%s/bias:0", name);
  } else {
    snprintf(wn[0], sizeof wn[0], "%s_W_1:0", name);
    snprintf(wn[1], sizeof wn[1], "%s_b_1:0", name);
  }
  hid_t g = H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const char *names[2] = {wn[0], wn[1]};
  if (o->no_weight_names != k + 1) str_attr(g, "weight_names", names, o->one_weight == k + 1 ? 1 : 2, o->varlen);
  float *kern = malloc(sizeof(float) * 9 * (size_t)(I * O)), bias[64];
  for (int y = 0; y < 3; y++)
    for (int x = 0; x < 3; x++)
      for (int i = 0; i < I; i++)
        for (int oo = 0; oo < O; oo++) kern[((y * 3 + x) * I + i) * O + oo] = kval(k, y, x, i, oo, I, O);
  for (int oo = 0; oo < O; oo++) bias[oo] = bval(k, oo);
  hsize_t kd[4] = {3, 3, (hsize_t)I, (hsize_t)O}, k3[3] = {9, (hsize_t)I, (hsize_t)O}, bd[1] = {(hsize_t)O};
  if (o->bad_rank == k + 1)
    dataset(g, wn[0], 3, k3, kern);
  else
    dataset(g, wn[0], 4, kd, kern);
  dataset(g, wn[1], 1, bd, bias);
  free(kern);
  H5Gclose(g);
}

static void write_dense(hid_t f, const char *name, int in, int out, const opts *o) {
  char wn[2][96];
  snprintf(wn[0], sizeof wn[0], "%s_W_1:0", name);
  snprintf(wn[1], sizeof wn[1], "%s_b_1:0", name);
  hid_t g = H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const char *names[2] = {wn[0], wn[1]};
  str_attr(g, "weight_names", names, 2, o->varlen);
  float buf[64] = {0};
  hsize_t wd[2] = {(hsize_t)in, (hsize_t)out}, bd[1] = {(hsize_t)out};
  dataset(g, wn[0], 2, wd, buf);
  dataset(g, wn[1], 1, bd, buf);
  H5Gclose(g);
}

static void write_file(const char *path, const opts *o) {
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  char names[40][32];
  int n = 0, k = 0, nconv = o->stop_after ? o->stop_after : 16;
  snprintf(names[n++], 32, "input_1");
  empty_layer(f, "input_1", o->varlen);
  for (int b = 0; b < 5; b++) {
    for (int c = 0; c < per_block[b] && k < nconv; c++, k++) {
      snprintf(names[n], 32, "block%d_conv%d", b + 1, c + 1);
      write_conv(f, k, names[n++], o);
    }
    snprintf(names[n], 32, "block%d_pool", b + 1);
    empty_layer(f, names[n++], o->varlen);
  }
  if (o->include_top) {
    snprintf(names[n++], 32, "flatten");
    empty_layer(f, "flatten", o->varlen);
    const char *d[3] = {"fc1", "fc2", "predictions"};
    for (int i = 0; i < 3; i++) {
      snprintf(names[n++], 32, "%s", d[i]);
      write_dense(f, d[i], 4, 4, o);
    }
  }
  const char *list[40];
  for (int i = 0; i < n; i++) list[i] = names[i];
  if (o->chunked) {
    str_attr(f, "layer_names0", list, 7, o->varlen);
    str_attr(f, "layer_names1", list + 7, n - 7, o->varlen);
  } else if (!o->no_layer_names) {
    str_attr(f, "layer_names", list, n, o->varlen);
  }
  const char *be[1] = {"tensorflow"};
  str_attr(f, "backend", be, 1, 0);
  H5Fclose(f);
}

/* Every parameter's name, shape and value against the writer's formulas. */
static void check_values(const st_weights *w, const char *what) {
  int bad = 0, k = 0;
  char name[48];
  for (int b = 0; b < 5; b++)
    for (int c = 0; c < per_block[b]; c++, k++) {
      int I, O;
      conv_io(k, &I, &O);
      snprintf(name, sizeof name, "conv%d_%d.weight", b + 1, c + 1);
      int64_t ws[4] = {O, I, 3, 3}, bs[1] = {O};
      if (st_weights_expect(w, name, 4, ws) != 0) {
        bad++;
        tap_diag("%s", st_last_error());
        continue;
      }
      const float *t = st_tensor_data(st_weights_get(w, name));
      for (int o = 0; o < O; o++)
        for (int i = 0; i < I; i++)
          for (int y = 0; y < 3; y++)
            for (int x = 0; x < 3; x++) {
              int src_i = k == 0 ? I - 1 - i : i;
              if (t[((o * I + i) * 3 + y) * 3 + x] != kval(k, y, x, src_i, o, I, O)) bad++;
            }
      snprintf(name, sizeof name, "conv%d_%d.bias", b + 1, c + 1);
      if (st_weights_expect(w, name, 1, bs) != 0) {
        bad++;
        continue;
      }
      const float *bb = st_tensor_data(st_weights_get(w, name));
      for (int o = 0; o < O; o++)
        if (bb[o] != bval(k, o)) bad++;
    }
  tap_ok(bad == 0, "%s: every weight is OIHW of the HWIO kernel, biases exact (%d mismatches)", what, bad);
}

static int contains_all(const char *msg, const char *a, const char *b, const char *c) {
  return strstr(msg, a) && (!b || strstr(msg, b)) && (!c || strstr(msg, c));
}

static void expect_fail(const char *path, const opts *o, const char *what, const char *f1, const char *f2) {
  write_file(path, o);
  st_clear_error();
  st_weights *w = st_import_keras_vgg19(path);
  const char *m = st_last_error();
  if (!tap_ok(!w && contains_all(m, path, f1, f2), "%s: error names the file and layer", what)) tap_diag("got: %s", m);
  st_weights_free(w);
}

int main(void) {
  char dir[] = "/tmp/strata_kvgg_XXXXXX";
  if (!mkdtemp(dir)) tap_skip_all("cannot make a temporary folder");
  char path[256];
  snprintf(path, sizeof path, "%s/vgg.h5", dir);

  /* The published file's layout. */
  opts o = {0};
  write_file(path, &o);
  st_weights *w = st_import_keras_vgg19(path);
  if (!tap_ok(w != NULL, "old naming (_W_1:0) imports")) tap_diag("%s", st_last_error());
  if (w) {
    tap_ok(st_weights_count(w) == 32, "32 parameters (16 convs, weight and bias), got %d", st_weights_count(w));
    tap_ok(strcmp(st_weights_name(w, 0), "conv1_1.weight") == 0 && strcmp(st_weights_name(w, 31), "conv5_4.bias") == 0,
           "network order conv1_1.weight .. conv5_4.bias");
    check_values(w, "old naming");
    /* conv1_1 channel c (RGB) is the kernel's channel 2-c (BGR), spelled out. */
    const float *t = st_tensor_data(st_weights_get(w, "conv1_1.weight"));
    int I = 3, O = widths[0];
    tap_ok(t[((0 * I + 0) * 3 + 1) * 3 + 2] == kval(0, 1, 2, 2, 0, I, O) &&
               t[((1 * I + 2) * 3 + 0) * 3 + 0] == kval(0, 0, 0, 0, 1, I, O) &&
               t[((1 * I + 1) * 3 + 2) * 3 + 1] == kval(0, 2, 1, 1, 1, I, O),
           "conv1_1: strata R/G/B take the kernel's B/G/R input channels");
    const char *a1 = st_weights_get_attr(w, "network"), *a2 = st_weights_get_attr(w, "channel_order"),
               *a3 = st_weights_get_attr(w, "mean"), *a4 = st_weights_get_attr(w, "source");
    tap_ok(a1 && strcmp(a1, "vgg19") == 0 && a2 && strcmp(a2, "rgb") == 0 && a3 &&
               strcmp(a3, "123.68,116.779,103.939") == 0 && a4 && strcmp(a4, path) == 0,
           "attributes network, channel_order, mean, source");
    st_weights_free(w);
  }

  /* Newer re-saves: kernel:0 / bias:0 in a nested group, variable-length names. */
  opts on = {.new_naming = 1, .varlen = 1};
  write_file(path, &on);
  w = st_import_keras_vgg19(path);
  if (!tap_ok(w != NULL, "new naming (block1_conv1/kernel:0, variable-length strings) imports"))
    tap_diag("%s", st_last_error());
  if (w) check_values(w, "new naming");
  st_weights_free(w);

  opts oc = {.chunked = 1, .include_top = 1};
  write_file(path, &oc);
  w = st_import_keras_vgg19(path);
  if (!tap_ok(w && st_weights_count(w) == 32, "layer_names split in chunks, include-top classifier skipped"))
    tap_diag("%s", st_last_error());
  st_weights_free(w);

  /* Bad files. */
  char bad[300];
  snprintf(bad, sizeof bad, "%s/not_hdf5.h5", dir);
  FILE *fp = fopen(bad, "w");
  fputs("not an hdf5 file\n", fp);
  fclose(fp);
  /* HDF5 must not print its error stack: catch stderr around the call. */
  char errpath[300];
  snprintf(errpath, sizeof errpath, "%s/stderr.txt", dir);
  fflush(stderr);
  int saved = dup(2);
  FILE *ef = freopen(errpath, "w", stderr);
  w = st_import_keras_vgg19(bad);
  st_weights *w2 = st_import_keras_vgg19("/nonexistent/dir/x.h5");
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  (void)ef;
  FILE *rf = fopen(errpath, "r");
  long printed = -1;
  if (rf) {
    fseek(rf, 0, SEEK_END);
    printed = ftell(rf);
    fclose(rf);
  }
  tap_ok(printed == 0, "nothing printed on stderr (%ld bytes)", printed);
  st_weights_free(w2);
  st_weights *w3 = st_import_keras_vgg19(bad);
  if (!tap_ok(!w && !w3 && contains_all(st_last_error(), bad, "not an HDF5 file", NULL), "not HDF5: clear error"))
    tap_diag("got: %s", st_last_error());
  w = st_import_keras_vgg19("/nonexistent/dir/x.h5");
  tap_ok(!w && contains_all(st_last_error(), "/nonexistent/dir/x.h5", "cannot open", NULL), "missing file: clear error");

  opts e1 = {.no_layer_names = 1};
  expect_fail(path, &e1, "no layer_names", "layer_names", NULL);
  opts e2 = {.bad_rank = 3}; /* block2_conv1 */
  expect_fail(path, &e2, "3-D kernel", "block2_conv1", "4 dimensions");
  opts e3 = {.bad_chain = 6}; /* block3_conv2 */
  expect_fail(path, &e3, "chain mismatch", "block3_conv2", "'block3_conv1' produces 4");
  opts e3b = {.bad_chain = 1}; /* block1_conv1 with 4 input channels */
  expect_fail(path, &e3b, "first layer not 3 channels", "block1_conv1", "expected 3");
  opts e4 = {.no_weight_names = 9}; /* block4_conv1 */
  expect_fail(path, &e4, "missing weight_names", "block4_conv1", "weight_names");
  opts e5 = {.one_weight = 2}; /* block1_conv2 */
  expect_fail(path, &e5, "one weight listed", "block1_conv2", "expected 2");
  opts e6 = {.stop_after = 15};
  expect_fail(path, &e6, "truncated network", "block5_conv4", "only 15");

  /* The committed fixture (tests/fixtures/gen_vgg_fixture.py). */
  if (access(FIXTURE, R_OK) != 0) {
    tap_ok(0, FIXTURE " is missing (it is tracked in the repository)");
  } else {
    w = st_import_keras_vgg19(FIXTURE);
    int good = w && st_weights_count(w) == 32;
    int64_t s11[4] = {4, 3, 3, 3}, s54[4] = {32, 32, 3, 3};
    good = good && st_weights_expect(w, "conv1_1.weight", 4, s11) == 0 && st_weights_expect(w, "conv5_4.weight", 4, s54) == 0;
    if (good) { /* conv1_1 against the raw HWIO dataset, read independently */
      float raw[3 * 3 * 3 * 4];
      hid_t f = H5Fopen(FIXTURE, H5F_ACC_RDONLY, H5P_DEFAULT);
      hid_t ds = H5Dopen2(f, "/block1_conv1/block1_conv1_W_1:0", H5P_DEFAULT);
      good = ds >= 0 && H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) >= 0;
      if (ds >= 0) H5Dclose(ds);
      H5Fclose(f);
      const float *t = st_tensor_data(st_weights_get(w, "conv1_1.weight"));
      for (int o = 0; good && o < 4; o++)
        for (int c = 0; c < 3; c++)
          for (int y = 0; y < 3; y++)
            for (int x = 0; x < 3; x++)
              if (t[((o * 3 + c) * 3 + y) * 3 + x] != raw[((y * 3 + x) * 3 + (2 - c)) * 4 + o]) good = 0;
    }
    if (!tap_ok(good, "committed fixture imports: 32 parameters, conv1_1 [4,3,3,3] flipped, conv5_4 [32,32,3,3]"))
      tap_diag("%s", st_last_error());
    st_weights_free(w);
  }

  unlink(path);
  unlink(bad);
  unlink(errpath);
  rmdir(dir);
  return tap_done();
}
