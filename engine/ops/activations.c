/* ReLU and tanh: argument checks, then the device's kernel. */
#include "ops/ops.h"

#include "error.h"
#include "ops/dispatch.h"

int st_relu_forward(st_tensor *y, const st_tensor *x) {
  if (st_check_like(y, "st_relu_forward: y", x, "st_relu_forward: x")) return -1;
  int dev;
  const st_kernels *k = st_kernels_of(x, &dev, "st_relu_forward");
  if (!k) return -1;
  return k->relu_forward(dev, st_tensor_data(y), st_tensor_data(x), x->numel);
}

int st_relu_backward(st_tensor *dx, const st_tensor *dy, const st_tensor *y) {
  if (st_check_like(dy, "st_relu_backward: dy", y, "st_relu_backward: y")) return -1;
  if (st_check_like(dx, "st_relu_backward: dx", y, "st_relu_backward: y")) return -1;
  int dev;
  const st_kernels *k = st_kernels_of(y, &dev, "st_relu_backward");
  if (!k) return -1;
  return k->relu_backward(dev, st_tensor_data(dx), st_tensor_data(dy), st_tensor_data(y), y->numel);
}

int st_tanh_forward(st_tensor *y, const st_tensor *x) {
  if (st_check_like(y, "st_tanh_forward: y", x, "st_tanh_forward: x")) return -1;
  int dev;
  const st_kernels *k = st_kernels_of(x, &dev, "st_tanh_forward");
  if (!k) return -1;
  return k->tanh_forward(dev, st_tensor_data(y), st_tensor_data(x), x->numel);
}

int st_tanh_backward(st_tensor *dx, const st_tensor *dy, const st_tensor *y) {
  if (st_check_like(dy, "st_tanh_backward: dy", y, "st_tanh_backward: y")) return -1;
  if (st_check_like(dx, "st_tanh_backward: dx", y, "st_tanh_backward: y")) return -1;
  int dev;
  const st_kernels *k = st_kernels_of(y, &dev, "st_tanh_backward");
  if (!k) return -1;
  return k->tanh_backward(dev, st_tensor_data(dx), st_tensor_data(dy), st_tensor_data(y), y->numel);
}
