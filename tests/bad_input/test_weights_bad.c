/* Hostile and broken weights inputs: each must fail with one clear message
 * naming the file (and field) and print nothing on stderr. */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <ftw.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/error.h"
#include "engine/io/import_engstrom.h"
#include "engine/io/import_fcrn.h"
#include "engine/io/import_keras_vgg19.h"
#include "engine/io/tf_checkpoint.h"
#include "tap.h"
#include "testutil.h"

static char root[64], errfile[128];

/* ---- stderr capture ---- */

static st_weights *load_quietly(const char *path, long *printed) {
  st_clear_error();
  tu_quiet_begin(errfile);
  st_weights *w = st_weights_load(path);
  *printed = tu_quiet_end(errfile);
  return w;
}

static st_weights *import_quietly(const char *dir, long *printed) {
  st_clear_error();
  tu_quiet_begin(errfile);
  st_weights *w = st_import_engstrom(dir);
  *printed = tu_quiet_end(errfile);
  return w;
}

static int contains(const char *s, const char *part) { return strstr(s, part) != NULL; }

/* ---- HDF5 files ---- */

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

static void test_hdf5(void) {
  char path[256], msg[512];
  long printed;
  st_weights *w;

  snprintf(path, sizeof path, "%s/missing.h5", root);
  w = load_quietly(path, &printed);
  tap_ok(!w && contains(st_last_error(), path) && contains(st_last_error(), "No such file"), "missing file: %s",
         st_last_error());
  tap_ok(printed == 0, "  nothing on stderr");

  snprintf(path, sizeof path, "%s/notes.txt", root);
  write_text(path, "these are not weights\n");
  w = load_quietly(path, &printed);
  snprintf(msg, sizeof msg, "'%s' is not an HDF5 file", path);
  tap_ok(!w && strcmp(st_last_error(), msg) == 0, "text file: %s", st_last_error());
  tap_ok(printed == 0, "  nothing on stderr");

  snprintf(path, sizeof path, "%s/empty.h5", root);
  write_text(path, "");
  w = load_quietly(path, &printed);
  tap_ok(!w && contains(st_last_error(), path), "empty file: %s", st_last_error());
  tap_ok(printed == 0, "  nothing on stderr");

  w = load_quietly(root, &printed);
  tap_ok(!w && contains(st_last_error(), root) && contains(st_last_error(), "directory"), "a folder: %s",
         st_last_error());
  tap_ok(printed == 0, "  nothing on stderr");

  /* A valid file cut in half. */
  snprintf(path, sizeof path, "%s/model.h5", root);
  int64_t s4[] = {16, 8, 3, 3}, s1[] = {16};
  st_tensor *cw = st_tensor_zeros(4, s4, st_cpu()), *cb = st_tensor_zeros(1, s1, st_cpu());
  st_weights *good = st_weights_new();
  st_weights_set(good, "conv1.weight", cw);
  st_weights_set(good, "conv1.bias", cb);
  st_weights_set_attr(good, "network", "test");
  st_clear_error();
  tap_ok(st_weights_save(good, path) == 0, "a valid file to break %s", st_last_error());

  char cut[256];
  snprintf(cut, sizeof cut, "%s/cut.h5", root);
  struct stat sb;
  stat(path, &sb);
  FILE *in = fopen(path, "rb"), *out = fopen(cut, "wb");
  char *buf = malloc((size_t)sb.st_size);
  size_t got = fread(buf, 1, (size_t)sb.st_size, in);
  fwrite(buf, 1, got / 2, out);
  fclose(in);
  fclose(out);
  w = load_quietly(cut, &printed);
  tap_ok(!w && contains(st_last_error(), cut), "truncated file (%ld of %ld bytes): %s", (long)(got / 2),
         (long)sb.st_size, st_last_error());
  tap_ok(printed == 0, "  nothing on stderr");
  /* Cut inside the superblock as well. */
  out = fopen(cut, "wb");
  fwrite(buf, 1, 40, out);
  fclose(out);
  w = load_quietly(cut, &printed);
  tap_ok(!w && contains(st_last_error(), cut), "file cut inside its superblock: %s", st_last_error());
  tap_ok(printed == 0, "  nothing on stderr");
  free(buf);

  /* Missing parameter and wrong shape, named against the loaded file. */
  w = load_quietly(path, &printed);
  tap_ok(w != NULL && printed == 0, "the intact file loads quietly");
  if (w) {
    int64_t want[] = {16, 8, 5, 5}, v[] = {32};
    tu_quiet_begin(errfile);
    int rc = st_weights_expect(w, "conv2.weight", 1, v);
    printed = tu_quiet_end(errfile);
    snprintf(msg, sizeof msg, "%s: missing parameter 'conv2.weight' (expected shape [32])", path);
    tap_ok(rc == -1 && strcmp(st_last_error(), msg) == 0 && printed == 0, "missing parameter: %s", st_last_error());
    tu_quiet_begin(errfile);
    rc = st_weights_expect(w, "conv1.weight", 4, want);
    printed = tu_quiet_end(errfile);
    const char *e = st_last_error();
    tap_ok(rc == -1 && contains(e, path) && contains(e, "'conv1.weight'") && contains(e, "[16, 8, 3, 3]") &&
               contains(e, "[16, 8, 5, 5]") && printed == 0,
           "wrong shape names file, parameter and both shapes: %s", e);
    st_weights_free(w);
  }

  /* Saving onto a folder fails and leaves no temporary file. */
  tu_quiet_begin(errfile);
  int rc = st_weights_save(good, root);
  printed = tu_quiet_end(errfile);
  tap_ok(rc == -1 && contains(st_last_error(), root) && printed == 0, "save over a folder: %s", st_last_error());
  char tmp[256];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", root, (long)getpid());
  tap_ok(access(tmp, F_OK) != 0, "  the temporary file is removed");

  /* The HDF5 error printer is back to what it was. */
  H5E_auto2_t fn = NULL;
  void *data = NULL;
  H5Eget_auto2(H5E_DEFAULT, &fn, &data);
  tap_ok(fn != NULL, "HDF5's own error printing is restored after the calls");

  st_weights_free(good);
  st_tensor_release(cw);
  st_tensor_release(cb);
}

/* ---- Engstrom folders ---- */

#define NV 18 /* no residual blocks */

typedef struct {
  int present;
  char filename[64];
  int ndim;
  int64_t shape[4];
} entry;

static void base_entries(entry *e) {
  /* conv1 9x9 3->4, conv2 4->5, conv3 5->6, deconv1 6->5, deconv2 5->4, conv4 9x9 4->3. */
  int64_t w[6][4] = {{9, 9, 3, 4}, {3, 3, 4, 5}, {3, 3, 5, 6}, {3, 3, 5, 6}, {3, 3, 4, 5}, {9, 9, 4, 3}};
  int64_t c[6] = {4, 5, 6, 5, 4, 3};
  for (int j = 0; j < 6; j++) {
    for (int k = 0; k < 3; k++) {
      entry *x = &e[3 * j + k];
      x->present = 1;
      if (3 * j + k == 0)
        snprintf(x->filename, sizeof x->filename, "Variable");
      else
        snprintf(x->filename, sizeof x->filename, "Variable_%d", 3 * j + k);
      x->ndim = k == 0 ? 4 : 1;
      if (k == 0)
        memcpy(x->shape, w[j], sizeof w[j]);
      else
        x->shape[0] = c[j];
    }
  }
}

static int64_t entry_bytes(const entry *x) {
  int64_t n = 4;
  for (int i = 0; i < x->ndim; i++) n *= x->shape[i];
  return n;
}

/* A fresh folder <root>/<name> with data files sized to match each entry's
 * shape (unless the filename leaves the folder) and its manifest. */
static void write_folder(char *dir, size_t n, const char *name, const entry *e, int count) {
  char p[512];
  snprintf(dir, n, "%s/%s", root, name);
  mkdir(dir, 0700);
  for (int v = 0; v < count; v++) {
    if (!e[v].present || strchr(e[v].filename, '/') || strstr(e[v].filename, "..")) continue;
    snprintf(p, sizeof p, "%s/%s", dir, e[v].filename);
    FILE *f = fopen(p, "wb");
    for (int64_t b = 0; b < entry_bytes(&e[v]); b++) fputc(0, f);
    fclose(f);
  }
  snprintf(p, sizeof p, "%s/manifest.json", dir);
  FILE *f = fopen(p, "w");
  fprintf(f, "{");
  int first = 1;
  for (int v = 0; v < count; v++) {
    if (!e[v].present) continue;
    fprintf(f, "%s\n  \"Variable%s", first ? "" : ",", v ? "_" : "");
    if (v) fprintf(f, "%d", v);
    fprintf(f, "\": {\"filename\": \"%s\", \"shape\": [", e[v].filename);
    for (int i = 0; i < e[v].ndim; i++) fprintf(f, "%s%lld", i ? ", " : "", (long long)e[v].shape[i]);
    fprintf(f, "]}");
    first = 0;
  }
  fprintf(f, "\n}\n");
  fclose(f);
}

static void set_file_size(const char *dir, const char *file, long size) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, file);
  if (truncate(p, size) != 0) tap_diag("truncate %s failed", p);
}

/* Imports dir expecting failure with a message containing every part. */
static void expect_import_fails(const char *dir, const char *what, const char *const *parts, int nparts) {
  long printed;
  st_weights *w = import_quietly(dir, &printed);
  int ok = w == NULL;
  for (int i = 0; ok && i < nparts; i++) ok = contains(st_last_error(), parts[i]);
  tap_ok(ok, "%s: %s", what, st_last_error());
  tap_ok(printed == 0, "  nothing on stderr");
  st_weights_free(w);
}

static void test_engstrom(void) {
  entry e[NV + 1];
  char dir[256], mpath[300], msg[512];
  long printed;

  memset(e, 0, sizeof e);
  base_entries(e);
  write_folder(dir, sizeof dir, "valid", e, NV);
  st_weights *w = import_quietly(dir, &printed);
  tap_ok(w && st_weights_count(w) == 18 && printed == 0, "the unbroken 0-block folder imports quietly %s",
         st_last_error());
  st_weights_free(w);

  /* A NaN in a data file: named with the file and the variable. */
  write_folder(dir, sizeof dir, "nan", e, NV);
  {
    char p[512];
    snprintf(p, sizeof p, "%s/Variable_4", dir);
    FILE *f = fopen(p, "r+b");
    float nan = NAN;
    fseek(f, 8, SEEK_SET);
    fwrite(&nan, sizeof nan, 1, f);
    fclose(f);
    const char *parts[] = {p, "'Variable_4'", "non-finite", "NaN at element 2"};
    expect_import_fails(dir, "a NaN in an Engstrom data file", parts, 4);
  }

  /* Wrong-size data file: the exact message. */
  write_folder(dir, sizeof dir, "short", e, NV);
  set_file_size(dir, "Variable_6", 100);
  w = import_quietly(dir, &printed);
  snprintf(msg, sizeof msg, "%s/Variable_6: expected 1080 bytes for shape [3, 3, 5, 6], found 100", dir);
  tap_ok(!w && strcmp(st_last_error(), msg) == 0, "wrong-size data file: %s", st_last_error());
  tap_ok(printed == 0, "  nothing on stderr");

  /* A data file the manifest names but the folder lacks. */
  write_folder(dir, sizeof dir, "nofile", e, NV);
  snprintf(mpath, sizeof mpath, "%s/Variable_2", dir);
  unlink(mpath);
  {
    const char *parts[] = {mpath, "No such file"};
    expect_import_fails(dir, "missing data file", parts, 2);
  }

  /* JSON syntax error, with its position. */
  write_folder(dir, sizeof dir, "syntax", e, NV);
  snprintf(mpath, sizeof mpath, "%s/manifest.json", dir);
  write_text(mpath, "{\n  \"Variable\": {\"filename\": \"Variable\", \"shape\": [9, 9, 3, 4]},\n  \"Variable_1\": oops\n}\n");
  {
    const char *parts[] = {mpath, "JSON syntax error", "line 3"};
    expect_import_fails(dir, "JSON syntax error", parts, 3);
  }

  /* Not an object at the top. */
  write_text(mpath, "[1, 2, 3]");
  {
    const char *parts[] = {mpath, "object"};
    expect_import_fails(dir, "manifest that is a JSON array", parts, 2);
  }

  /* Missing manifest. */
  unlink(mpath);
  {
    const char *parts[] = {mpath, "cannot open"};
    expect_import_fails(dir, "missing manifest.json", parts, 2);
  }
  {
    char nowhere[300];
    snprintf(nowhere, sizeof nowhere, "%s/no-such-folder", root);
    const char *parts[] = {nowhere, "manifest.json"};
    expect_import_fails(nowhere, "missing folder", parts, 2);
  }

  /* A gap in the numbering. */
  e[5].present = 0;
  write_folder(dir, sizeof dir, "gap", e, NV);
  e[5].present = 1;
  {
    const char *parts[] = {"manifest.json", "'Variable_5' is missing"};
    expect_import_fails(dir, "gap in variable numbers", parts, 2);
  }

  /* Filenames that leave the folder. */
  snprintf(e[4].filename, sizeof e[4].filename, "../Variable_4");
  write_folder(dir, sizeof dir, "escape", e, NV);
  {
    const char *parts[] = {"manifest.json", "Variable_4", "../Variable_4", "inside the folder"};
    expect_import_fails(dir, "filename with ../", parts, 4);
  }
  snprintf(e[4].filename, sizeof e[4].filename, "/etc/passwd");
  write_folder(dir, sizeof dir, "absolute", e, NV);
  {
    const char *parts[] = {"manifest.json", "/etc/passwd"};
    expect_import_fails(dir, "absolute filename", parts, 2);
  }
  snprintf(e[4].filename, sizeof e[4].filename, "..");
  write_folder(dir, sizeof dir, "dotdot", e, NV);
  {
    const char *parts[] = {"manifest.json", "'..'"};
    expect_import_fails(dir, "filename '..'", parts, 2);
  }
  snprintf(e[4].filename, sizeof e[4].filename, "Variable_4");

  /* A variable without "shape" / without "filename". */
  write_folder(dir, sizeof dir, "noshape", e, NV);
  snprintf(mpath, sizeof mpath, "%s/manifest.json", dir);
  {
    FILE *f = fopen(mpath, "r");
    static char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    /* Rename Variable_2's "shape" key. */
    char *p = strstr(text, "\"Variable_2\"");
    p = p ? strstr(p, "\"shape\"") : NULL;
    if (p) memcpy(p, "\"shap_\"", 7);
    write_text(mpath, text);
    const char *parts[] = {"manifest.json", "'Variable_2'", "\"shape\""};
    expect_import_fails(dir, "variable without \"shape\"", parts, 3);
    p = strstr(text, "\"Variable_3\"");
    p = p ? strstr(p, "\"filename\"") : NULL;
    if (p) memcpy(p, "\"filenamX\"", 10);
    if (p) memcpy(strstr(text, "\"shap_\""), "\"shape\"", 7);
    write_text(mpath, text);
    const char *parts2[] = {"manifest.json", "'Variable_3'", "\"filename\""};
    expect_import_fails(dir, "variable without \"filename\"", parts2, 3);
  }

  /* 19 variables cannot be 18 + 6k. */
  e[NV] = e[NV - 1];
  snprintf(e[NV].filename, sizeof e[NV].filename, "Variable_18");
  write_folder(dir, sizeof dir, "count", e, NV + 1);
  {
    const char *parts[] = {"manifest.json", "19 variables"};
    expect_import_fails(dir, "19 variables", parts, 2);
  }

  /* Shapes that do not fit the architecture. */
  e[4].shape[0] = 6; /* in2 shift: conv2 has 5 outputs */
  write_folder(dir, sizeof dir, "inlen", e, NV);
  e[4].shape[0] = 5;
  {
    const char *parts[] = {"manifest.json", "Variable_4", "in2", "[6]", "expected [5]"};
    expect_import_fails(dir, "norm length differs from the conv's outputs", parts, 5);
  }
  e[3].ndim = 3; /* conv2 weight [3, 3, 4] */
  write_folder(dir, sizeof dir, "ndim", e, NV);
  e[3].ndim = 4;
  {
    const char *parts[] = {"manifest.json", "Variable_3", "conv2", "[3, 3, 4]", "4 dimensions"};
    expect_import_fails(dir, "3-D conv weight", parts, 5);
  }
  e[3].shape[2] = 7; /* conv2 takes 7 channels but conv1 gives 4 */
  write_folder(dir, sizeof dir, "chain", e, NV);
  e[3].shape[2] = 4;
  {
    const char *parts[] = {"manifest.json", "Variable_3", "7 input channels", "conv1 produces 4"};
    expect_import_fails(dir, "broken channel chaining", parts, 4);
  }
  e[9].shape[2] = 6, e[9].shape[3] = 5; /* deconv1 stored as HWIO instead of [kh, kw, out, in] */
  write_folder(dir, sizeof dir, "deconv", e, NV);
  e[9].shape[2] = 5, e[9].shape[3] = 6;
  {
    const char *parts[] = {"manifest.json", "Variable_9", "deconv1"};
    expect_import_fails(dir, "transposed conv weight in the wrong layout", parts, 3);
  }
  e[0].shape[0] = e[0].shape[1] = 3; /* conv1 must be 9x9 */
  write_folder(dir, sizeof dir, "kernel", e, NV);
  e[0].shape[0] = e[0].shape[1] = 9;
  {
    const char *parts[] = {"manifest.json", "'Variable'", "conv1", "9x9"};
    expect_import_fails(dir, "wrong kernel size", parts, 4);
  }

  /* Odd keys and values. */
  snprintf(mpath, sizeof mpath, "%s/manifest.json", dir);
  write_text(mpath, "{\"Variable\": {\"filename\": \"Variable\", \"shape\": [9, 9, 3, -4]}}");
  {
    const char *parts[] = {"manifest.json", "'Variable'", "positive integers"};
    expect_import_fails(dir, "negative size in a shape", parts, 3);
  }
  write_text(mpath, "{\"weights\": {\"filename\": \"Variable\", \"shape\": [1]}}");
  {
    const char *parts[] = {"manifest.json", "'weights'"};
    expect_import_fails(dir, "unexpected key", parts, 2);
  }
  write_text(mpath, "{\"Variable\": {\"filename\": \"Variable\", \"shape\": [1]},"
                    " \"Variable\": {\"filename\": \"Variable\", \"shape\": [1]}}");
  {
    const char *parts[] = {"manifest.json", "twice"};
    expect_import_fails(dir, "duplicate key", parts, 2);
  }
  write_text(mpath, "{\"Variable_99999999999\": {\"filename\": \"Variable\", \"shape\": [1]}}");
  {
    const char *parts[] = {"manifest.json", "Variable_99999999999"};
    expect_import_fails(dir, "huge variable number", parts, 2);
  }
}


/* ---- values that are not weights (issue 11, section 6) ---- */

/* A file written with the HDF5 API, as another tool would: one float32
 * dataset "conv1.weight" [2, 3] holding vals, plus, when ftype is not 0, a
 * dataset "extra" [4] of that file type written from doubles in extra
 * (inside group "grp" when nested). */
static void write_h5(const char *path, const float *vals, hid_t ftype, const double *extra, int nested) {
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t d23[] = {2, 3}, d4[] = {4};
  hid_t sp = H5Screate_simple(2, d23, NULL);
  hid_t ds = H5Dcreate2(f, "conv1.weight", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, vals);
  H5Dclose(ds), H5Sclose(sp);
  if (ftype) {
    hid_t loc = nested ? H5Gcreate2(f, "grp", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : f;
    sp = H5Screate_simple(1, d4, NULL);
    ds = H5Dcreate2(loc, "extra", ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, extra);
    H5Dclose(ds), H5Sclose(sp);
    if (nested) H5Gclose(loc);
  }
  H5Fclose(f);
}

/* Loading path fails with one quiet line holding every part. */
static void expect_load_fails(const char *path, const char *what, const char *const *parts, int nparts) {
  long printed;
  st_weights *w = load_quietly(path, &printed);
  int ok = w == NULL && !strchr(st_last_error(), '\n');
  for (int i = 0; ok && i < nparts; i++) ok = contains(st_last_error(), parts[i]);
  tap_ok(ok, "%s: %s", what, st_last_error());
  tap_ok(printed == 0, "  nothing on stderr");
  st_weights_free(w);
}

static void test_not_weights(void) {
  char path[256];
  float good[6] = {0.5f, -1, 2, 3, 4, 5}, bad[6] = {0.5f, -1, 2, NAN, 4, 5};
  double ints[4] = {1, 2, 3, 4}, huge[4] = {1, 1e300, 3, 4};
  long printed;

  snprintf(path, sizeof path, "%s/finite.h5", root);
  write_h5(path, good, H5T_IEEE_F64LE, ints, 0);
  st_weights *w = load_quietly(path, &printed);
  tap_ok(w && st_weights_count(w) == 2 && printed == 0, "float32 and float64 datasets of finite values load %s",
         st_last_error());
  st_weights_free(w);

  snprintf(path, sizeof path, "%s/ints.h5", root);
  write_h5(path, good, H5T_STD_I32LE, ints, 0);
  {
    const char *parts[] = {path, "'extra'", "integer"};
    expect_load_fails(path, "an int32 dataset is refused", parts, 3);
  }
  snprintf(path, sizeof path, "%s/ints_nested.h5", root);
  write_h5(path, good, H5T_STD_U8LE, ints, 1);
  {
    const char *parts[] = {path, "'grp/extra'", "integer"};
    expect_load_fails(path, "a uint8 dataset in a group is refused", parts, 3);
  }
  snprintf(path, sizeof path, "%s/nan.h5", root);
  write_h5(path, bad, 0, NULL, 0);
  {
    const char *parts[] = {path, "'conv1.weight'", "non-finite", "NaN", "element 3"};
    expect_load_fails(path, "a NaN in a float32 dataset", parts, 5);
  }
  snprintf(path, sizeof path, "%s/overflow.h5", root);
  write_h5(path, good, H5T_IEEE_F64LE, huge, 1);
  {
    const char *parts[] = {path, "'grp/extra'", "non-finite", "inf"};
    expect_load_fails(path, "a float64 value too large for float32", parts, 4);
  }

  /* The check on its own, for weights built in memory. */
  int64_t s2[] = {2};
  st_tensor *t = st_tensor_zeros(1, s2, st_cpu());
  st_weights *m = st_weights_new();
  st_weights_set(m, "a.bias", t);
  st_weights_set_path(m, "mem.h5");
  st_clear_error();
  tap_ok(st_weights_check_finite(m) == 0, "st_weights_check_finite: zeros pass");
  st_tensor_data(t)[1] = -INFINITY;
  tap_ok(st_weights_check_finite(m) == -1 && contains(st_last_error(), "mem.h5: parameter 'a.bias'") &&
             contains(st_last_error(), "-inf"),
         "st_weights_check_finite: -inf named: %s", st_last_error());
  st_weights_free(m);
  st_tensor_release(t);
}

/* ---- Keras VGG-19 file with a broken weight ---- */

/* Copies the fixture and replaces block1_conv1's bias: with float32 values
 * (one NaN) or with int32 values. */
static void keras_copy(const char *path, int integer) {
  FILE *in = fopen("tests/fixtures/vgg19_tiny_keras.h5", "rb"), *out = fopen(path, "wb");
  char buf[65536];
  size_t n;
  while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
  if (in) fclose(in);
  if (out) fclose(out);
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  hid_t g = H5Gopen2(f, "block1_conv1", H5P_DEFAULT);
  /* the bias is the second name in weight_names */
  hid_t a = H5Aopen(g, "weight_names", H5P_DEFAULT), type = H5Aget_type(a), sp = H5Aget_space(a);
  char name[256] = "";
  if (H5Tis_variable_str(type) > 0) {
    char *v[2] = {NULL, NULL};
    hid_t mem = H5Tcopy(H5T_C_S1);
    H5Tset_size(mem, H5T_VARIABLE);
    H5Aread(a, mem, v);
    snprintf(name, sizeof name, "%s", v[1] ? v[1] : "");
    H5free_memory(v[0]), H5free_memory(v[1]);
    H5Tclose(mem);
  } else {
    size_t sz = H5Tget_size(type);
    char *fixed = calloc(2, sz + 1);
    H5Aread(a, type, fixed);
    snprintf(name, sizeof name, "%.*s", (int)sz, fixed + sz);
    free(fixed);
  }
  H5Sclose(sp), H5Tclose(type), H5Aclose(a);
  hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
  hid_t dsp = H5Dget_space(ds);
  hssize_t count = H5Sget_simple_extent_npoints(dsp);
  if (integer) {
    H5Dclose(ds);
    H5Ldelete(g, name, H5P_DEFAULT);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    ds = H5Dcreate2(g, name, H5T_STD_I32LE, dsp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    int *iv = calloc((size_t)count, sizeof *iv);
    H5Dwrite(ds, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, iv);
    free(iv);
  } else {
    float *fv = calloc((size_t)count, sizeof *fv);
    fv[count - 1] = NAN;
    H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, fv);
    free(fv);
  }
  H5Sclose(dsp), H5Dclose(ds), H5Gclose(g), H5Fclose(f);
}

static void test_keras_values(void) {
  char path[256];
  long printed;
  snprintf(path, sizeof path, "%s/keras_nan.h5", root);
  keras_copy(path, 0);
  st_clear_error();
  tu_quiet_begin(errfile);
  st_weights *w = st_import_keras_vgg19(path);
  printed = tu_quiet_end(errfile);
  const char *e = st_last_error();
  tap_ok(!w && contains(e, path) && contains(e, "block1_conv1") && contains(e, "non-finite") && contains(e, "NaN"),
         "Keras import: a NaN in block1_conv1's bias: %s", e);
  tap_ok(printed == 0, "  nothing on stderr");
  st_weights_free(w);

  snprintf(path, sizeof path, "%s/keras_int.h5", root);
  keras_copy(path, 1);
  st_clear_error();
  tu_quiet_begin(errfile);
  w = st_import_keras_vgg19(path);
  printed = tu_quiet_end(errfile);
  e = st_last_error();
  tap_ok(!w && contains(e, path) && contains(e, "block1_conv1") && contains(e, "integers"),
         "Keras import: an int32 bias: %s", e);
  tap_ok(printed == 0, "  nothing on stderr");
  st_weights_free(w);
}

/* ---- a TensorFlow checkpoint with a NaN (the FCRN importer) ---- */

static unsigned char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t)len + 1);
  *n = b ? fread(b, 1, (size_t)len, f) : 0;
  fclose(f);
  return b;
}

static void spill(const char *path, const unsigned char *b, size_t n) {
  FILE *f = fopen(path, "wb");
  fwrite(b, 1, n, f);
  fclose(f);
}

static uint32_t le32(const unsigned char *p) { return p[0] | p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void put_le32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Copies tests/fixtures/tf_ckpt_small to <root>/tfnan.* with one value of
 * tensor `name` made NaN, and the checksums that cover it (the tensor's in
 * its index entry, the index block's) recomputed, so that only the value is
 * wrong. 0 on success. */
static int tf_copy_with_nan(const char *name, char *prefix, size_t np) {
  st_weights *w = st_tf_checkpoint_read("tests/fixtures/tf_ckpt_small", NULL, NULL);
  const st_tensor *t = w ? st_weights_get(w, name) : NULL;
  size_t ni, nd, tb = t ? (size_t)t->numel * 4 : 0;
  unsigned char *idx = slurp("tests/fixtures/tf_ckpt_small.index", &ni);
  unsigned char *dat = slurp("tests/fixtures/tf_ckpt_small.data-00000-of-00001", &nd);
  int rc = -1;
  unsigned char *at = t && idx && dat ? memmem(dat, nd, st_tensor_data(t), tb) : NULL;
  if (at) {
    uint32_t old = st_crc32c_mask(st_crc32c(0, at, tb));
    float nan = NAN;
    memcpy(at + 4, &nan, 4);
    uint32_t new = st_crc32c_mask(st_crc32c(0, at, tb));
    unsigned char ob[4];
    put_le32(ob, old);
    unsigned char *e = memmem(idx, ni, ob, 4);
    /* The data block holding the entry: blocks follow each other from offset
     * 0, each followed by a type byte 0 and the masked CRC32C of block + type. */
    size_t start = 0, pos = e ? (size_t)(e - idx) : ni;
    while (e && start < ni) {
      size_t end = start;
      while (end + 5 <= ni && !(idx[end] == 0 && le32(idx + end + 1) == st_crc32c_mask(st_crc32c(0, idx + start, end - start + 1))))
        end++;
      if (end + 5 > ni) break;
      if (pos >= start && pos < end) {
        put_le32(e, new);
        put_le32(idx + end + 1, st_crc32c_mask(st_crc32c(0, idx + start, end - start + 1)));
        rc = 0;
        break;
      }
      start = end + 5;
    }
  }
  if (rc == 0) {
    char p[300];
    snprintf(prefix, np, "%s/tfnan", root);
    snprintf(p, sizeof p, "%s.index", prefix);
    spill(p, idx, ni);
    snprintf(p, sizeof p, "%s.data-00000-of-00001", prefix);
    spill(p, dat, nd);
  }
  free(idx);
  free(dat);
  st_weights_free(w);
  return rc;
}

static void test_tf_values(void) {
  char prefix[256];
  long printed;
  if (!tap_ok(tf_copy_with_nan("res3a_branch2b/weights", prefix, sizeof prefix) == 0,
              "a copy of the TF checkpoint fixture with a NaN and valid checksums"))
    return;
  st_clear_error();
  st_weights *w = st_tf_checkpoint_read(prefix, NULL, NULL);
  tap_ok(w != NULL, "  the reader itself verifies it (checksums match) %s", st_last_error());
  st_weights_free(w);
  st_clear_error();
  tu_quiet_begin(errfile);
  w = st_import_fcrn(prefix);
  printed = tu_quiet_end(errfile);
  const char *e = st_last_error();
  tap_ok(!w && contains(e, prefix) && contains(e, "'res3a_branch2b/weights'") && contains(e, "non-finite") &&
             contains(e, "NaN"),
         "FCRN import: a NaN in a TF checkpoint tensor: %s", e);
  tap_ok(printed == 0, "  nothing on stderr");
  st_weights_free(w);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

int main(void) {
  snprintf(root, sizeof root, "/tmp/strata_wbad_XXXXXX");
  if (!mkdtemp(root)) {
    tap_ok(0, "mkdtemp");
    return tap_done();
  }
  snprintf(errfile, sizeof errfile, "%s.stderr", root);
  test_hdf5();
  test_engstrom();
  test_not_weights();
  test_keras_values();
  test_tf_values();
  nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  unlink(errfile);
  return tap_done();
}
