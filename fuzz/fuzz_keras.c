/* libFuzzer target: the Keras VGG-19 importer (st_import_keras_vgg19) on
 * arbitrary bytes as the HDF5 file. Importing must give weights or an error
 * message, never a crash (a file that crashes libhdf5 is parsed in a child
 * process: an error). Unless it did crash libhdf5, the file is imported in
 * this process too (st_import_keras_vgg19_here), for the fuzzer's coverage,
 * and must give the same result: VGG-19's 16 conv layers, finite, chained. */
#include <string.h>

#include "engine/error.h"
#include "engine/io/import_keras_vgg19.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[512];
  fuzz_temp_path(path, sizeof path, "keras", ".h5");
  if (fuzz_write_file(path, data, size) != 0) return 0;
  st_weights *w = st_import_keras_vgg19(path);
  if (!w && !st_last_error()[0]) abort(); /* a failure must say why */
  if (!w && strstr(st_last_error(), "crashed the HDF5 library")) {
    st_clear_error();
    return 0;
  }
  st_clear_error();
  st_weights *here = st_import_keras_vgg19_here(path);
  if (!here != !w) abort(); /* the child and this process disagree */
  if (w) {
    if (st_weights_count(w) != 32 || st_weights_count(here) != 32) abort();
    if (st_weights_check_finite(w) != 0) abort();
    const st_tensor *c1 = st_weights_get(w, "conv1_1.weight"), *c54 = st_weights_get(w, "conv5_4.bias");
    if (!c1 || c1->ndim != 4 || c1->shape[1] != 3 || !c54 || c54->ndim != 1) abort();
  }
  st_weights_free(w);
  st_weights_free(here);
  st_clear_error();
  return 0;
}
