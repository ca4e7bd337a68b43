/* preserve_colors: argument checks, then the CPU kernel (a per-pixel colour
 * transform after stylization; results come back to the CPU before it). */
#include "error.h"
#include "kernels/cpu/colour.h"
#include "ops/ops.h"

int st_preserve_colors(st_tensor *y, const st_tensor *lum, const st_tensor *chroma) {
  const char *fn = "preserve_colors";
  if (st_check_ndim(lum, 3, "preserve_colors: stylized image [3,H,W]")) return -1;
  if (lum->shape[0] != 3)
    return st_error("preserve_colors: stylized image has %lld channels, expected 3 (RGB)", (long long)lum->shape[0]);
  if (st_check_placed(chroma, 3, lum->shape, lum, "preserve_colors: original image (the stylized image's shape)"))
    return -1;
  if (st_check_placed(y, 3, lum->shape, lum, "preserve_colors: output")) return -1;
  if (st_tensor_device(lum).kind != ST_CPU) return st_no_kernel(fn, st_tensor_device(lum));
  st_cpu_preserve_colors(st_tensor_data(y), st_tensor_data(lum), st_tensor_data(chroma), lum->shape[1] * lum->shape[2]);
  return 0;
}
