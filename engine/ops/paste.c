/* paste: argument checks, then the device's kernel. */
#include "ops/tensor_ops.h"

#include "error.h"
#include "ops/dispatch.h"

int st_paste(st_tensor *dst, const st_tensor *src, int64_t row, int64_t col) {
  char a[128], b[128];
  if (st_check_ndim(dst, 3, "st_paste: dst ([C, H, W])") || st_check_ndim(src, 3, "st_paste: src ([C, h, w])"))
    return -1;
  if (dst->shape[0] != src->shape[0])
    return st_error("st_paste: dst %s and src %s must have the same number of channels",
                    st_shape_str(3, dst->shape, a, sizeof a), st_shape_str(3, src->shape, b, sizeof b));
  if (st_check_same_device(dst, src, "st_paste: dst and src")) return -1;
  int dev;
  const st_kernels *k = st_kernels_of(dst, &dev, "st_paste");
  if (!k) return -1;
  return k->paste(dev, st_tensor_data(dst), st_tensor_data(src), dst->shape[0], dst->shape[1], dst->shape[2],
                  src->shape[1], src->shape[2], row, col);
}
