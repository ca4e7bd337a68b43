/* Weights container and its HDF5 format: round trips, attributes, names,
 * shape expectations, atomic saves, foreign HDF5 files, SHA-256. */
#include <dirent.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/error.h"
#include "engine/io/weights.h"
#include "tap.h"

static char dir[64];

static void path_in(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", dir, name); }

/* Number of entries in the temp folder (other than . and ..). */
static int dir_entries(void) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  if (d) closedir(d);
  return n;
}

static void clean_dir(void) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char p[512];
  while (d && (e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      unlink(p);
    }
  if (d) closedir(d);
}

static st_tensor *filled(int ndim, const int64_t *shape, float base) {
  st_tensor *t = st_tensor_new(ndim, shape, st_cpu());
  float *p = st_tensor_data(t);
  for (int64_t i = 0; i < t->numel; i++) p[i] = base + 0.37f * (float)i - (float)(i % 7) * 1.5e-3f;
  return t;
}

static int same_tensor(const st_tensor *a, const st_tensor *b) {
  return a && b && st_tensor_same_shape(a, b) &&
         memcmp(st_tensor_data(a), st_tensor_data(b), (size_t)a->numel * sizeof(float)) == 0;
}

static void test_round_trip(void) {
  char path[256];
  path_in(path, sizeof path, "model.h5");
  /* Deliberately not alphabetical: load must give insertion order back. */
  const char *names[] = {"z.weight", "scalar", "conv1.weight", "odd", "a.bias", "block/conv.weight", "eight", "empty"};
  int64_t s1[] = {5}, s4[] = {2, 3, 4, 5}, sodd[] = {1, 7, 1, 3}, s8[] = {1, 2, 1, 2, 1, 2, 1, 2}, s0[] = {3, 0},
          sb[] = {2, 2};
  st_tensor *ts[8] = {filled(1, s1, 1.0f),  filled(0, NULL, 3.25f), filled(4, s4, -2.0f), filled(4, sodd, 7.0f),
                      filled(1, s1, -9.5f), filled(2, sb, 0.5f),    filled(8, s8, 1e-7f), filled(2, s0, 0)};
  st_weights *w = st_weights_new();
  int ok = 1;
  for (int i = 0; i < 8; i++) ok &= st_weights_set(w, names[i], ts[i]) == 0;
  tap_ok(ok && st_weights_count(w) == 8, "8 tensors added (0-d, 1-d, 2-d, 4-d, 8-d, zero-size, nested name)");
  st_weights_set_attr(w, "network", "test-net");
  st_weights_set_attr(w, "source", "/some/where/file.h5");
  st_weights_set_attr(w, "source_sha256", "ab12");
  st_weights_set_attr(w, "note", "caf\xc3\xa9 \xe2\x9c\x93");
  st_weights_set_attr(w, "blank", "");
  tap_ok(st_weights_attr_count(w) == 5 && strcmp(st_weights_attr_key(w, 3), "note") == 0, "attributes kept in order");
  tap_ok(strcmp(st_weights_path(w), "weights") == 0, "an unsaved container is called 'weights'");

  st_clear_error();
  tap_ok(st_weights_save(w, path) == 0, "save %s", st_last_error());
  tap_ok(dir_entries() == 1 && access(path, F_OK) == 0, "atomic save leaves only the file, no temporary");

  st_weights *r = st_weights_load(path);
  tap_ok(r != NULL, "load %s", st_last_error());
  if (!r) {
    st_weights_free(w);
    for (int i = 0; i < 8; i++) st_tensor_release(ts[i]);
    return;
  }
  tap_ok(st_weights_count(r) == 8, "8 tensors back (got %d)", st_weights_count(r));
  int order = st_weights_count(r) == 8;
  for (int i = 0; order && i < 8; i++) order = strcmp(st_weights_name(r, i), names[i]) == 0;
  tap_ok(order, "insertion order preserved");
  for (int i = 0; i < 8; i++) {
    st_tensor *t = st_weights_get(r, names[i]);
    tap_ok(same_tensor(t, ts[i]), "'%s' identical after the round trip (ndim %d)", names[i], ts[i]->ndim);
  }
  tap_ok(st_weights_get(r, "scalar") && st_weights_get(r, "scalar")->ndim == 0 &&
             st_tensor_data(st_weights_get(r, "scalar"))[0] == 3.25f,
         "0-d tensor stays 0-d with its value");
  const char *keys[] = {"network", "source", "source_sha256", "note", "blank"};
  const char *vals[] = {"test-net", "/some/where/file.h5", "ab12", "caf\xc3\xa9 \xe2\x9c\x93", ""};
  for (int i = 0; i < 5; i++) {
    const char *v = st_weights_get_attr(r, keys[i]);
    tap_ok(v && strcmp(v, vals[i]) == 0, "attribute %s = '%s' (got '%s')", keys[i], vals[i], v ? v : "(null)");
  }
  const char *fmt = st_weights_get_attr(r, "strata_format");
  tap_ok(fmt && strcmp(fmt, "1") == 0, "strata_format = \"1\" written");
  tap_ok(st_weights_attr_count(r) == 6, "5 user attributes + strata_format (got %d)", st_weights_attr_count(r));
  tap_ok(strcmp(st_weights_path(r), path) == 0, "loaded container remembers its path");
  tap_ok(st_weights_numel(r) == st_weights_numel(w) && st_weights_numel(w) == 5 + 1 + 120 + 21 + 5 + 4 + 16 + 0,
         "parameter count %lld", (long long)st_weights_numel(r));

  /* Saving over an existing file replaces it. */
  st_tensor *nt = filled(1, s1, 100.0f);
  st_weights_set(r, "z.weight", nt);
  tap_ok(st_weights_save(r, path) == 0 && dir_entries() == 1, "save over an existing file");
  st_weights *r2 = st_weights_load(path);
  tap_ok(r2 && same_tensor(st_weights_get(r2, "z.weight"), nt) && st_weights_attr_count(r2) == 6,
         "the new content is read back, strata_format written once");
  st_weights_free(r2);
  st_tensor_release(nt);

  st_weights_free(r);
  st_weights_free(w);
  for (int i = 0; i < 8; i++) st_tensor_release(ts[i]);
  clean_dir();
}

static void test_replace(void) {
  int64_t s[] = {3};
  st_tensor *a = filled(1, s, 1.0f), *b = filled(1, s, 2.0f);
  st_weights *w = st_weights_new();
  st_weights_set(w, "p", a);
  st_weights_set(w, "q", a);
  tap_ok(a->refcount == 3, "set retains the tensor (refcount %d)", a->refcount);
  tap_ok(st_weights_set(w, "p", b) == 0 && st_weights_count(w) == 2, "setting an existing name replaces it");
  tap_ok(st_weights_get(w, "p") == b && st_weights_at(w, 0) == b && strcmp(st_weights_name(w, 0), "p") == 0,
         "replacement keeps the name's position");
  tap_ok(a->refcount == 2 && b->refcount == 2, "the old tensor is released");
  tap_ok(st_weights_get(w, "nope") == NULL && st_weights_at(w, 5) == NULL && st_weights_name(w, -1) == NULL,
         "absent names and indices give NULL");
  st_weights_set_attr(w, "k", "v1");
  st_weights_set_attr(w, "k", "v2");
  tap_ok(st_weights_attr_count(w) == 1 && strcmp(st_weights_get_attr(w, "k"), "v2") == 0,
         "setting an attribute again replaces it");
  tap_ok(st_weights_get_attr(w, "absent") == NULL, "absent attribute is NULL");
  tap_ok(st_weights_set(w, "", a) == -1 && st_weights_set(w, "/x", a) == -1 && st_weights_set(w, "a//b", a) == -1 &&
             st_weights_set(w, "a/", a) == -1 && st_weights_set(w, "a/./b", a) == -1 &&
             st_weights_set(w, "x", NULL) == -1,
         "invalid names and NULL tensors are refused");
  tap_ok(strstr(st_last_error(), "'x'") != NULL, "the error names the parameter: %s", st_last_error());
  st_weights_free(w);
  tap_ok(a->refcount == 1 && b->refcount == 1, "free releases every tensor");
  st_tensor_release(a);
  st_tensor_release(b);
}

static void test_expect(void) {
  int64_t s[] = {4, 3, 3, 3}, want[] = {4, 3, 3, 3}, bad[] = {4, 3, 5, 5}, v[] = {2, 3};
  st_tensor *t = filled(4, s, 0);
  st_weights *w = st_weights_new();
  st_weights_set(w, "conv1.weight", t);
  tap_ok(st_weights_expect(w, "conv1.weight", 4, want) == 0, "expect: matching shape passes");
  tap_ok(st_weights_expect(w, "conv2.weight", 2, v) == -1 &&
             strcmp(st_last_error(), "weights: missing parameter 'conv2.weight' (expected shape [2, 3])") == 0,
         "missing: %s", st_last_error());
  tap_ok(st_weights_expect(w, "conv1.weight", 4, bad) == -1 &&
             strcmp(st_last_error(), "weights: parameter 'conv1.weight' has shape [4, 3, 3, 3], expected [4, 3, 5, 5]") ==
                 0,
         "wrong shape: %s", st_last_error());
  tap_ok(st_weights_expect(w, "conv1.weight", 2, v) == -1 && strstr(st_last_error(), "expected [2, 3]"),
         "wrong rank is a wrong shape");

  char path[256], msg[512];
  path_in(path, sizeof path, "e.h5");
  st_weights_save(w, path);
  st_weights *r = st_weights_load(path);
  snprintf(msg, sizeof msg, "%s: parameter 'conv1.weight' has shape [4, 3, 3, 3], expected [4, 3, 5, 5]", path);
  tap_ok(r && st_weights_expect(r, "conv1.weight", 4, bad) == -1 && strcmp(st_last_error(), msg) == 0,
         "a loaded container names its file: %s", st_last_error());
  st_weights_set_path(w, "model.h5");
  tap_ok(st_weights_expect(w, "x", 0, NULL) == -1 &&
             strcmp(st_last_error(), "model.h5: missing parameter 'x' (expected shape [])") == 0,
         "set_path names the file: %s", st_last_error());
  st_weights_free(r);
  st_weights_free(w);
  st_tensor_release(t);
  clean_dir();
}

static void test_save_failure(void) {
  char path[256];
  path_in(path, sizeof path, "no/such/dir/m.h5");
  int64_t s[] = {2};
  st_tensor *t = filled(1, s, 0);
  st_weights *w = st_weights_new();
  st_weights_set(w, "a", t);
  tap_ok(st_weights_save(w, path) == -1 && strstr(st_last_error(), path), "save into a missing folder fails: %s",
         st_last_error());
  tap_ok(dir_entries() == 0, "and leaves nothing behind");
  st_weights_free(w);
  st_tensor_release(t);
}

/* A file written directly with the HDF5 API, as other tools would. */
static void test_foreign_file(void) {
  char path[256];
  path_in(path, sizeof path, "foreign.h5");
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t d23[] = {2, 3}, d4[] = {4}, d2[] = {2};
  int ints[6] = {1, -2, 3, 40000, -5, 6};
  short shorts[4] = {7, -8, 9, 10};
  double dbl[2] = {0.5, -1e10};
  hid_t sp = H5Screate_simple(2, d23, NULL);
  hid_t ds = H5Dcreate2(f, "ints", H5T_IEEE_F32BE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(ds, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ints);
  H5Dclose(ds), H5Sclose(sp);
  hid_t g = H5Gcreate2(f, "grp", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  sp = H5Screate_simple(1, d4, NULL);
  ds = H5Dcreate2(g, "sub", H5T_IEEE_F64BE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(ds, H5T_NATIVE_SHORT, H5S_ALL, H5S_ALL, H5P_DEFAULT, shorts);
  H5Dclose(ds), H5Sclose(sp), H5Gclose(g);
  sp = H5Screate_simple(1, d2, NULL);
  ds = H5Dcreate2(f, "dbl", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, dbl);
  H5Dclose(ds);
  /* A string dataset and a soft link: not parameters, skipped. */
  hid_t vs = H5Tcopy(H5T_C_S1);
  H5Tset_size(vs, H5T_VARIABLE);
  const char *strs[2] = {"x", "y"};
  ds = H5Dcreate2(f, "labels", vs, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(ds, vs, H5S_ALL, H5S_ALL, H5P_DEFAULT, strs);
  H5Dclose(ds);
  H5Lcreate_soft("/dbl", f, "alias", H5P_DEFAULT, H5P_DEFAULT);
  /* Attributes: a variable-length string, an int, a string array (skipped). */
  hid_t scal = H5Screate(H5S_SCALAR);
  const char *net = "keras-thing";
  hid_t a = H5Acreate2(f, "network", vs, scal, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, vs, &net);
  H5Aclose(a);
  int epoch = 7;
  a = H5Acreate2(f, "epoch", H5T_STD_I32LE, scal, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_INT, &epoch);
  H5Aclose(a);
  a = H5Acreate2(f, "layer_names", vs, sp, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, vs, strs);
  H5Aclose(a);
  /* Fixed-length, space-padded (Fortran style). */
  hid_t fs = H5Tcopy(H5T_C_S1);
  H5Tset_size(fs, 8);
  H5Tset_strpad(fs, H5T_STR_SPACEPAD);
  a = H5Acreate2(f, "padded", fs, scal, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, fs, "abc     ");
  H5Aclose(a);
  H5Tclose(fs), H5Tclose(vs), H5Sclose(scal), H5Sclose(sp);
  H5Fclose(f);

  st_clear_error();
  st_weights *w = st_weights_load(path);
  tap_ok(w != NULL, "load a file written by another tool %s", st_last_error());
  if (!w) return;
  tap_ok(st_weights_count(w) == 3, "3 float datasets, string dataset and soft link skipped (got %d)",
         st_weights_count(w));
  st_tensor *ti = st_weights_get(w, "ints"), *ts = st_weights_get(w, "grp/sub"), *td = st_weights_get(w, "dbl");
  int ok = ti && ti->ndim == 2 && ti->shape[0] == 2 && ti->shape[1] == 3;
  for (int i = 0; ok && i < 6; i++) ok = st_tensor_data(ti)[i] == (float)ints[i];
  tap_ok(ok, "big-endian float32 dataset (written from ints) reads exactly");
  ok = ts && ts->ndim == 1 && ts->shape[0] == 4;
  for (int i = 0; ok && i < 4; i++) ok = st_tensor_data(ts)[i] == (float)shorts[i];
  tap_ok(ok, "big-endian float64 dataset in a group is read as 'grp/sub'");
  tap_ok(td && st_tensor_data(td)[0] == 0.5f && st_tensor_data(td)[1] == -1e10f, "float64 converts to float32");
  tap_ok(st_weights_get_attr(w, "strata_format") == NULL, "no strata_format attribute in a foreign file");
  const char *v = st_weights_get_attr(w, "network");
  tap_ok(v && strcmp(v, "keras-thing") == 0, "variable-length string attribute read");
  v = st_weights_get_attr(w, "epoch");
  tap_ok(v && strcmp(v, "7") == 0, "integer attribute read as text");
  v = st_weights_get_attr(w, "padded");
  tap_ok(v && strcmp(v, "abc") == 0, "space-padded fixed string trimmed (got '%s')", v ? v : "(null)");
  tap_ok(st_weights_get_attr(w, "layer_names") == NULL, "array attribute skipped");
  st_weights_free(w);
  clean_dir();
}

static void test_large_attribute(void) {
  char path[256];
  path_in(path, sizeof path, "big.h5");
  size_t n = 200000;
  char *big = malloc(n + 1);
  for (size_t i = 0; i < n; i++) big[i] = (char)('a' + i % 26);
  big[n] = '\0';
  st_weights *w = st_weights_new();
  st_weights_set_attr(w, "experiment", big);
  int rc = st_weights_save(w, path);
  tap_ok(rc == 0, "a 200 kB attribute saves: %s", rc ? st_last_error() : "");
  st_weights *r = rc == 0 ? st_weights_load(path) : NULL;
  const char *v = r ? st_weights_get_attr(r, "experiment") : NULL;
  tap_ok(v && strcmp(v, big) == 0, "and reads back intact");
  tap_ok(r && st_weights_count(r) == 0, "an empty container round-trips");
  st_weights_free(r);
  st_weights_free(w);
  free(big);
  clean_dir();
}

/* No timestamps in the file: saving the same weights twice, a second apart,
 * gives identical bytes. */
static void test_deterministic(void) {
  char p1[256], p2[256], h1[65] = "", h2[65] = "";
  path_in(p1, sizeof p1, "one.h5");
  path_in(p2, sizeof p2, "two.h5");
  int64_t s[] = {4, 4};
  st_tensor *t = filled(2, s, 1.0f);
  st_weights *w = st_weights_new();
  st_weights_set(w, "a/b.weight", t);
  st_weights_set(w, "c", t);
  st_weights_set_attr(w, "network", "x");
  st_weights_save(w, p1);
  usleep(1100 * 1000);
  st_weights_save(w, p2);
  tap_ok(st_file_sha256(p1, h1) == 0 && st_file_sha256(p2, h2) == 0 && strcmp(h1, h2) == 0,
         "saving twice gives identical files (%.16s... vs %.16s...)", h1, h2);
  st_weights_free(w);
  st_tensor_release(t);
  clean_dir();
}

static void test_sha256(void) {
  char path[256], hex[65];
  path_in(path, sizeof path, "abc.txt");
  FILE *f = fopen(path, "wb");
  fputs("abc", f);
  fclose(f);
  tap_ok(st_file_sha256(path, hex) == 0 &&
             strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
         "sha256('abc') = %s", hex);
  f = fopen(path, "wb");
  fclose(f);
  tap_ok(st_file_sha256(path, hex) == 0 &&
             strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0,
         "sha256 of an empty file = %s", hex);
  /* Longer than one read buffer: 1,000,000 x 'a' (FIPS 180-2 test vector). */
  f = fopen(path, "wb");
  for (int i = 0; i < 1000000; i++) fputc('a', f);
  fclose(f);
  tap_ok(st_file_sha256(path, hex) == 0 &&
             strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0,
         "sha256 of a million 'a' = %s", hex);
  path_in(path, sizeof path, "missing");
  tap_ok(st_file_sha256(path, hex) == -1 && strstr(st_last_error(), path), "missing file: %s", st_last_error());
  clean_dir();
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/strata_weights_XXXXXX");
  if (!mkdtemp(dir)) {
    tap_ok(0, "mkdtemp");
    return tap_done();
  }
  test_round_trip();
  test_replace();
  test_expect();
  test_save_failure();
  test_foreign_file();
  test_large_attribute();
  test_sha256();
  test_deterministic();
  clean_dir();
  rmdir(dir);
  return tap_done();
}
