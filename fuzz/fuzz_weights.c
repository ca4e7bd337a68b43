/* libFuzzer target: the HDF5 weights loader (st_weights_load) on arbitrary
 * bytes. Loading must give weights or an error message; what it gives must
 * survive a save and load again unchanged in names and shapes. */
#include <string.h>

#include "engine/error.h"
#include "engine/io/weights.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[512], copy[512];
  fuzz_temp_path(path, sizeof path, "weights", ".h5");
  if (fuzz_write_file(path, data, size) != 0) return 0;
  st_weights *w = st_weights_load(path);
  if (!w) {
    if (!st_last_error()[0]) abort(); /* a failure must say why */
    st_clear_error();
    return 0;
  }
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
