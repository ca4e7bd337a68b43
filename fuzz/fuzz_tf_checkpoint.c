/* libFuzzer target: the TensorFlow V2 checkpoint reader
 * (st_tf_checkpoint_read) and the FCRN importer built on it
 * (st_import_fcrn). The input is split into the two files of a checkpoint:
 * its first 4 bytes (little-endian) give the length of P.index, which
 * follows; the rest is P.data-00000-of-00001. Each must give weights or one
 * error line; what the FCRN importer gives is finite and named as strata's
 * FCRN expects. */
#include <string.h>

#include "engine/error.h"
#include "engine/io/import_fcrn.h"
#include "engine/io/tf_checkpoint.h"
#include "fuzz_common.h"

static void expect_error_line(void) {
  const char *e = st_last_error();
  if (!e[0] || strchr(e, '\n')) abort(); /* a failure says why, on one line */
  st_clear_error();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4) return 0;
  size_t n = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16 | (size_t)data[3] << 24;
  if (n > size - 4) n = size - 4;
  char prefix[512], index[600], shard[600];
  fuzz_temp_path(prefix, sizeof prefix, "tfckpt", "");
  snprintf(index, sizeof index, "%s.index", prefix);
  snprintf(shard, sizeof shard, "%s.data-00000-of-00001", prefix);
  if (fuzz_write_file(index, data + 4, n) != 0 || fuzz_write_file(shard, data + 4 + n, size - 4 - n) != 0) return 0;

  st_weights *w = st_tf_checkpoint_read(prefix, NULL, NULL);
  if (!w) expect_error_line();
  for (int i = 0; w && i < st_weights_count(w); i++)
    if (!st_weights_name(w, i) || st_weights_at(w, i)->numel < 0) abort();
  st_weights_free(w);

  w = st_import_fcrn(prefix);
  if (!w) {
    expect_error_line();
  } else {
    if (st_weights_check_finite(w) != 0 || !st_weights_get(w, "conv1.weight") || !st_weights_get(w, "ConvPred.bias"))
      abort();
    st_weights_free(w);
  }
  st_clear_error();
  return 0;
}
