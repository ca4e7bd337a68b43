/* libFuzzer target: PNG and JPEG decoding (st_image_read, st_image_decode_size)
 * of arbitrary bytes. Every input must give a tensor of a sane shape or an
 * error message, never a crash, leak or undefined behaviour. */
#include <string.h>

#include "engine/error.h"
#include "engine/io/image.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[512];
  fuzz_temp_path(path, sizeof path, "image", ".img");
  if (fuzz_write_file(path, data, size) != 0) return 0;
  int w = 0, h = 0;
  int sized = st_image_decode_size(path, &w, &h) == 0;
  if (!sized && !st_last_error()[0]) abort(); /* a failure must say why */
  st_tensor *img = st_image_read(path);
  if (img) {
    /* [3, H, W] with the size the header gave, values in 0..255 */
    if (img->ndim != 3 || img->shape[0] != 3 || (sized && (img->shape[1] != h || img->shape[2] != w))) abort();
    const float *p = st_tensor_data(img);
    for (int64_t i = 0; i < img->numel; i++)
      if (!(p[i] >= 0 && p[i] <= 255)) abort();
    st_tensor_release(img);
  } else if (!st_last_error()[0]) {
    abort(); /* a failure must say why */
  }
  st_clear_error();
  return 0;
}
