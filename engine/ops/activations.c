/* ReLU and tanh: argument checks, then the device's kernel. */
#include "ops/ops.h"

#include "error.h"
#include "kernels/cpu/activations.h"
#ifdef STRATA_CUDA
#include "kernels/cuda/activations.h"
#endif

int st_relu_forward(st_tensor *y, const st_tensor *x) {
  if (st_check_like(y, "st_relu_forward: y", x, "st_relu_forward: x")) return -1;
#ifdef STRATA_CUDA
  if (st_tensor_device(x).kind == ST_CUDA)
    return st_cuda_relu_forward(st_tensor_device(x).index, st_tensor_data(y), st_tensor_data(x), x->numel);
#endif
  if (st_tensor_device(x).kind != ST_CPU) return st_no_kernel("st_relu_forward", st_tensor_device(x));
  st_cpu_relu_forward(st_tensor_data(y), st_tensor_data(x), x->numel);
  return 0;
}

int st_relu_backward(st_tensor *dx, const st_tensor *dy, const st_tensor *y) {
  if (st_check_like(dy, "st_relu_backward: dy", y, "st_relu_backward: y")) return -1;
  if (st_check_like(dx, "st_relu_backward: dx", y, "st_relu_backward: y")) return -1;
#ifdef STRATA_CUDA
  if (st_tensor_device(y).kind == ST_CUDA)
    return st_cuda_relu_backward(st_tensor_device(y).index, st_tensor_data(dx), st_tensor_data(dy), st_tensor_data(y),
                                 y->numel);
#endif
  if (st_tensor_device(y).kind != ST_CPU) return st_no_kernel("st_relu_backward", st_tensor_device(y));
  st_cpu_relu_backward(st_tensor_data(dx), st_tensor_data(dy), st_tensor_data(y), y->numel);
  return 0;
}

int st_tanh_forward(st_tensor *y, const st_tensor *x) {
  if (st_check_like(y, "st_tanh_forward: y", x, "st_tanh_forward: x")) return -1;
#ifdef STRATA_CUDA
  if (st_tensor_device(x).kind == ST_CUDA)
    return st_cuda_tanh_forward(st_tensor_device(x).index, st_tensor_data(y), st_tensor_data(x), x->numel);
#endif
  if (st_tensor_device(x).kind != ST_CPU) return st_no_kernel("st_tanh_forward", st_tensor_device(x));
  st_cpu_tanh_forward(st_tensor_data(y), st_tensor_data(x), x->numel);
  return 0;
}

int st_tanh_backward(st_tensor *dx, const st_tensor *dy, const st_tensor *y) {
  if (st_check_like(dy, "st_tanh_backward: dy", y, "st_tanh_backward: y")) return -1;
  if (st_check_like(dx, "st_tanh_backward: dx", y, "st_tanh_backward: y")) return -1;
#ifdef STRATA_CUDA
  if (st_tensor_device(y).kind == ST_CUDA)
    return st_cuda_tanh_backward(st_tensor_device(y).index, st_tensor_data(dx), st_tensor_data(dy), st_tensor_data(y),
                                 y->numel);
#endif
  if (st_tensor_device(y).kind != ST_CPU) return st_no_kernel("st_tanh_backward", st_tensor_device(y));
  st_cpu_tanh_backward(st_tensor_data(dx), st_tensor_data(dy), st_tensor_data(y), y->numel);
  return 0;
}
