/* preserve_colors: argument checks, then the device's kernel (a per-pixel
 * colour transform after stylization). */
#include "error.h"
#include "ops/dispatch.h"
#include "ops/ops.h"

int st_preserve_colors(st_tensor *y, const st_tensor *lum, const st_tensor *chroma) {
  const char *fn = "preserve_colors";
  if (st_check_ndim(lum, 3, "preserve_colors: stylized image [3,H,W]")) return -1;
  if (lum->shape[0] != 3)
    return st_error("preserve_colors: stylized image has %lld channels, expected 3 (RGB)", (long long)lum->shape[0]);
  if (st_check_placed(chroma, 3, lum->shape, lum, "preserve_colors: original image (the stylized image's shape)"))
    return -1;
  if (st_check_placed(y, 3, lum->shape, lum, "preserve_colors: output")) return -1;
  int dev;
  const st_kernels *k = st_kernels_of(lum, &dev, fn);
  if (!k) return -1;
  return k->preserve_colors(dev, st_tensor_data(y), st_tensor_data(lum), st_tensor_data(chroma),
                            lum->shape[1] * lum->shape[2]);
}
