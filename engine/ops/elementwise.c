/* add and affine: argument checks, then the device's kernel. */
#include "ops/ops.h"

#include "error.h"
#include "kernels/cpu/elementwise.h"
#ifdef STRATA_CUDA
#include "kernels/cuda/elementwise.h"
#endif

int st_add_forward(st_tensor *y, const st_tensor *a, const st_tensor *b) {
  if (st_check_like(b, "st_add_forward: b", a, "st_add_forward: a")) return -1;
  if (st_check_like(y, "st_add_forward: y", a, "st_add_forward: a")) return -1;
#ifdef STRATA_CUDA
  if (st_tensor_device(a).kind == ST_CUDA)
    return st_cuda_add_forward(st_tensor_device(a).index, st_tensor_data(y), st_tensor_data(a), st_tensor_data(b),
                               a->numel);
#endif
  if (st_tensor_device(a).kind != ST_CPU) return st_no_kernel("st_add_forward", st_tensor_device(a));
  st_cpu_add_forward(st_tensor_data(y), st_tensor_data(a), st_tensor_data(b), a->numel);
  return 0;
}

int st_affine_forward(st_tensor *y, const st_tensor *x, float scale, float shift) {
  if (st_check_like(y, "st_affine_forward: y", x, "st_affine_forward: x")) return -1;
#ifdef STRATA_CUDA
  if (st_tensor_device(x).kind == ST_CUDA)
    return st_cuda_affine_forward(st_tensor_device(x).index, st_tensor_data(y), st_tensor_data(x), scale, shift,
                                  x->numel);
#endif
  if (st_tensor_device(x).kind != ST_CPU) return st_no_kernel("st_affine_forward", st_tensor_device(x));
  st_cpu_affine_forward(st_tensor_data(y), st_tensor_data(x), scale, shift, x->numel);
  return 0;
}
