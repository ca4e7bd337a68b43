/* add and affine: argument checks, then the device's kernel. */
#include "ops/ops.h"

#include "error.h"
#include "ops/dispatch.h"

int st_add_forward(st_tensor *y, const st_tensor *a, const st_tensor *b) {
  if (st_check_like(b, "st_add_forward: b", a, "st_add_forward: a")) return -1;
  if (st_check_like(y, "st_add_forward: y", a, "st_add_forward: a")) return -1;
  int dev;
  const st_kernels *k = st_kernels_of(a, &dev, "st_add_forward");
  if (!k) return -1;
  return k->add_forward(dev, st_tensor_data(y), st_tensor_data(a), st_tensor_data(b), a->numel);
}

int st_affine_forward(st_tensor *y, const st_tensor *x, float scale, float shift) {
  if (st_check_like(y, "st_affine_forward: y", x, "st_affine_forward: x")) return -1;
  int dev;
  const st_kernels *k = st_kernels_of(x, &dev, "st_affine_forward");
  if (!k) return -1;
  return k->affine_forward(dev, st_tensor_data(y), st_tensor_data(x), scale, shift, x->numel);
}
