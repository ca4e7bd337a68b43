/* Bilinear resize: argument checks, then the device's kernel. */
#include "ops/ops.h"

#include "error.h"
#include "ops/dispatch.h"

int st_resize_bilinear_forward(st_tensor *y, const st_tensor *x) {
  if (st_check_ndim(x, 4, "st_resize_bilinear_forward: x")) return -1;
  if (st_check_ndim(y, 4, "st_resize_bilinear_forward: y")) return -1;
  const int64_t want[4] = {x->shape[0], x->shape[1], y->shape[2], y->shape[3]};
  /* y's own height and width choose the output size; batch and channels must match x. */
  if (st_check_placed(y, 4, want, x, "st_resize_bilinear_forward: y (batch and channels of x)")) return -1;
  if (y->numel == 0 && x->numel == 0) return 0;
  if (x->shape[2] < 1 || x->shape[3] < 1 || y->shape[2] < 1 || y->shape[3] < 1)
    return st_error("st_resize_bilinear_forward: cannot resize between %lldx%lld and %lldx%lld (empty image)",
                    (long long)x->shape[2], (long long)x->shape[3], (long long)y->shape[2], (long long)y->shape[3]);
  int dev;
  const st_kernels *k = st_kernels_of(x, &dev, "st_resize_bilinear_forward");
  if (!k) return -1;
  return k->resize_bilinear_forward(dev, st_tensor_data(y), st_tensor_data(x), x->shape[0] * x->shape[1],
                                    x->shape[2], x->shape[3], y->shape[2], y->shape[3]);
}
