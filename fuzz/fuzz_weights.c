/* libFuzzer target: the HDF5 weights loader (st_weights_load) on arbitrary
 * bytes. Loading must give weights or an error message, never a crash (a
 * file that crashes libhdf5 is parsed in a child process: an error). Unless
 * it did crash libhdf5, the same file is then loaded in this process too
 * (st_weights_load_here), so that the fuzzer's coverage sees the parsing,
 * and must give the same result. What loads must survive a save and load
 * again unchanged in names and shapes, and hold only finite values. */
#include <string.h>

#include "engine/error.h"
#include "engine/io/weights.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[512], copy[512];
  fuzz_temp_path(path, sizeof path, "weights", ".h5");
  if (fuzz_write_file(path, data, size) != 0) return 0;
  st_weights *w = st_weights_load(path);
  if (!w && !st_last_error()[0]) abort(); /* a failure must say why */
  if (!w && strstr(st_last_error(), "crashed the HDF5 library")) {
    st_clear_error();
    return 0;
  }
  st_clear_error();
  st_weights *here = st_weights_load_here(path);
  if (!here != !w || (w && st_weights_count(here) != st_weights_count(w))) abort(); /* child and here disagree */
  st_weights_free(here);
  st_clear_error();
  if (!w) return 0;
  if (st_weights_check_finite(w) != 0) abort(); /* the loader lets no NaN or infinity through */
  for (int i = 0; i < st_weights_count(w); i++) {
    const st_tensor *t = st_weights_at(w, i);
    if (!st_weights_name(w, i) || !t || t->numel < 0) abort();
  }
  for (int i = 0; i < st_weights_attr_count(w); i++)
    if (!st_weights_attr_key(w, i) || !st_weights_get_attr(w, st_weights_attr_key(w, i))) abort();
  /* A loaded file saves and loads back with the same names and shapes. */
  if (st_weights_numel(w) < (1 << 22)) {
    fuzz_temp_path(copy, sizeof copy, "weights-copy", ".h5");
    if (st_weights_save(w, copy) == 0) {
      st_weights *r = st_weights_load(copy);
      if (!r || st_weights_count(r) != st_weights_count(w)) abort();
      for (int i = 0; i < st_weights_count(w); i++) {
        const st_tensor *t = st_weights_at(w, i);
        if (st_weights_expect(r, st_weights_name(w, i), t->ndim, t->shape) != 0) abort();
      }
      st_weights_free(r);
    }
  }
  st_weights_free(w);
  st_clear_error();
  return 0;
}
