/* Weights parsed in a child process come back in shared memory
 * (engine/io/isolate.c): the tensors lie in the child's memfd, mapped here,
 * bit-identical to a load in this process; the mapping goes with the last
 * tensor, is not inherited by children forked later, and nothing of it
 * outlives a failed load. A tensor that does not fit the memfd (a compressed
 * dataset larger than its file) comes through the pipe instead. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/error.h"
#include "engine/io/weights.h"
#include "tap.h"
#include "testutil.h"

static char dir[64];

/* Lines of /proc/self/maps naming the loader's memfd. */
static int shared_mappings(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  int n = 0;
  while (f && fgets(line, sizeof line, f))
    if (strstr(line, "strata-weights")) n++;
  if (f) fclose(f);
  return n;
}

static int open_fds(void) {
  char p[64];
  int n = 0;
  for (int fd = 0; fd < 1024; fd++) {
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    n += access(p, F_OK) == 0;
  }
  return n;
}

/* Bit for bit, shapes included. */
static int identical(const st_tensor *a, const st_tensor *b) {
  return a && b && st_tensor_same_shape(a, b) && same_within(a, b, 0.0);
}

static int in_shared_memory(const st_tensor *t) { return t && t->storage->release != NULL; }

static void test_shared(void) {
  char path[128];
  snprintf(path, sizeof path, "%s/w.h5", dir);
  const int64_t s4[4] = {64, 32, 3, 3}, s1[1] = {64}, s0[1] = {0}, big[2] = {300, 1000};
  st_weights *w = st_weights_new();
  st_tensor *ts[5] = {rand_t(4, s4), rand_t(1, s1), rand_t(0, NULL), rand_t(1, s0), rand_t(2, big)};
  const char *names[5] = {"conv.weight", "conv.bias", "scale", "empty", "fc/weight"};
  for (int i = 0; i < 5; i++) st_weights_set(w, names[i], ts[i]);
  tap_ok(st_weights_save(w, path) == 0, "save %s", st_last_error());

  const int fds = open_fds();
  st_weights *here = st_weights_load_here(path);
  st_weights *r = st_weights_load(path);
  tap_ok(r && here, "loaded in a child and here %s", st_last_error());
  int same = r && here && st_weights_count(r) == 5, shared = same;
  for (int i = 0; same && i < 5; i++) {
    same = identical(st_weights_get(r, names[i]), st_weights_get(here, names[i])) &&
           identical(st_weights_get(r, names[i]), ts[i]);
    shared = shared && in_shared_memory(st_weights_get(r, names[i]));
  }
  tap_ok(same, "every tensor (4-d, 1-d, 0-d, empty, 300000 values) bit-identical to a load in this process");
  tap_ok(shared, "and every one lies in the child's shared memory");
  tap_ok(!in_shared_memory(st_weights_get(here, "conv.weight")), "a load in this process does not");
  tap_ok(shared_mappings() == 1, "one mapping of the memfd while they live (%d)", shared_mappings());
  tap_ok(open_fds() == fds, "no file descriptor left open (%d before, %d after)", fds, open_fds());

  /* Children forked later do not see it (they could write to the weights). */
  pid_t pid = fork();
  if (pid == 0) _exit(shared_mappings() == 0 ? 0 : 1);
  int status = -1;
  waitpid(pid, &status, 0);
  tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a child forked later does not inherit the mapping");

  /* The mapping lives as long as any tensor in it. */
  st_tensor *kept = st_weights_get(r, "fc/weight");
  st_tensor_retain(kept);
  st_weights_free(r);
  tap_ok(shared_mappings() == 1 && identical(kept, ts[4]), "a tensor kept after its container is freed is intact");
  float *p = st_tensor_data(kept);
  p[0] = 42.0f; /* writable, as parameters are trained in place */
  tap_ok(p[0] == 42.0f, "and writable");
  st_tensor_release(kept);
  tap_ok(shared_mappings() == 0, "the mapping goes with the last tensor");
  st_weights_free(here);
  st_weights_free(w);
  for (int i = 0; i < 5; i++) st_tensor_release(ts[i]);
  unlink(path);
}

/* A file of 8 KB whose gzip-compressed dataset holds 4 MB of zeros: more
 * than the child's memfd (sized from the file), so it comes through the
 * pipe; the small dataset beside it still comes in shared memory. */
static void test_too_big_for_the_memfd(void) {
  char path[128];
  snprintf(path, sizeof path, "%s/z.h5", dir);
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t dims[1] = {1 << 20}, chunk[1] = {1 << 16}, small[1] = {16};
  hid_t sp = H5Screate_simple(1, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 1, chunk);
  H5Pset_deflate(dcpl, 9);
  float *zeros = calloc((size_t)dims[0], sizeof(float)), vals[16];
  for (int i = 0; i < 16; i++) vals[i] = (float)i * 0.5f;
  hid_t ds = H5Dcreate2(f, "zeros", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros);
  H5Dclose(ds);
  hid_t sp2 = H5Screate_simple(1, small, NULL);
  ds = H5Dcreate2(f, "small", H5T_IEEE_F32LE, sp2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, vals);
  H5Dclose(ds);
  H5Sclose(sp);
  H5Sclose(sp2);
  H5Pclose(dcpl);
  H5Fclose(f);

  st_weights *r = st_weights_load(path);
  st_tensor *z = r ? st_weights_get(r, "zeros") : NULL, *s = r ? st_weights_get(r, "small") : NULL;
  tap_ok(z && z->numel == (1 << 20) && memcmp(st_tensor_data(z), zeros, sizeof(float) << 20) == 0,
         "4 MB of zeros from an 8 KB file come back whole %s", r ? "" : st_last_error());
  tap_ok(z && !in_shared_memory(z), "through the pipe: they do not fit the memfd");
  tap_ok(s && in_shared_memory(s) && memcmp(st_tensor_data(s), vals, sizeof vals) == 0,
         "the small dataset beside them comes in shared memory, intact");
  st_weights_free(r);
  tap_ok(shared_mappings() == 0, "nothing mapped once they are freed");
  free(zeros);
  unlink(path);
}

/* A file that is not HDF5: the child's error comes back, nothing stays mapped or open. */
static void test_failed_load(void) {
  char path[128];
  snprintf(path, sizeof path, "%s/bad.h5", dir);
  FILE *f = fopen(path, "wb");
  fputs("not an HDF5 file, but long enough to be read as one ..........................", f);
  fclose(f);
  const int fds = open_fds();
  st_weights *r = st_weights_load(path);
  tap_ok(!r && strstr(st_last_error(), "bad.h5"), "a bad file fails naming it: %s", st_last_error());
  tap_ok(shared_mappings() == 0 && open_fds() == fds, "and leaves nothing mapped or open");
  unlink(path);
}

int main(void) {
  tu_seed(14);
  snprintf(dir, sizeof dir, "/tmp/strata_isolate_XXXXXX");
  if (!mkdtemp(dir)) tap_skip_all("no temporary folder");
  test_shared();
  test_too_big_for_the_memfd();
  test_failed_load();
  rmdir(dir);
  return tap_done();
}
