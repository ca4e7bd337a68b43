/* gram dispatch: argument checks, then the CPU kernel (BLAS). */
#include "train_ops.h"

#include <limits.h>

#include "../error.h"
#include "../memory.h"
#include "kernels/cpu/gram.h"
#ifdef STRATA_CUDA
#include "kernels/cuda/gram.h"
#endif

int st_gram_shape(const st_tensor *x, int64_t out[3]) {
  char b[128];
  if (st_check_ndim(x, 4, "gram: x") != 0) return -1;
  if (x->shape[1] < 1 || x->shape[2] < 1 || x->shape[3] < 1)
    return st_error("gram: x needs C, H, W >= 1, got shape %s", st_shape_str(x->ndim, x->shape, b, sizeof b));
  /* BLAS takes int dimensions. */
  if (x->shape[1] > INT_MAX || x->shape[2] * x->shape[3] > INT_MAX)
    return st_error("gram: x of shape %s is too large for BLAS (int) dimensions",
                    st_shape_str(x->ndim, x->shape, b, sizeof b));
  out[0] = x->shape[0];
  out[1] = x->shape[1];
  out[2] = x->shape[1];
  return 0;
}

static float gram_scale(const st_tensor *x) {
  return (float)(1.0 / ((double)x->shape[1] * (double)x->shape[2] * (double)x->shape[3]));
}

int st_gram_forward(st_tensor *g, const st_tensor *x) {
  int64_t out[3];
  if (st_gram_shape(x, out) != 0 || st_check_placed(g, 3, out, x, "st_gram_forward: g") != 0 ||
      st_check_kernel(x, "st_gram_forward") != 0)
    return -1;
#ifdef STRATA_CUDA
  if (st_tensor_device(x).kind == ST_CUDA)
    return st_cuda_gram_forward(st_tensor_device(x).index, st_tensor_data(g), st_tensor_data(x), x->shape[0],
                                x->shape[1], x->shape[2] * x->shape[3], gram_scale(x));
#endif
  st_cpu_gram_forward(st_tensor_data(g), st_tensor_data(x), x->shape[0], x->shape[1], x->shape[2] * x->shape[3],
                      gram_scale(x));
  return 0;
}

int st_gram_backward(st_tensor *dx, const st_tensor *dg, const st_tensor *x) {
  int64_t out[3];
  if (st_gram_shape(x, out) != 0 || st_check_placed(dg, 3, out, x, "st_gram_backward: dg") != 0 ||
      st_check_kernel(x, "st_gram_backward") != 0)
    return -1;
  if (!dx) return 0;
  if (st_check_placed(dx, 4, x->shape, x, "st_gram_backward: dx") != 0)
    return -1;
#ifdef STRATA_CUDA
  if (st_tensor_device(x).kind == ST_CUDA)
    return st_cuda_gram_backward(st_tensor_device(x).index, st_tensor_data(dx), st_tensor_data(dg), st_tensor_data(x),
                                 x->shape[0], x->shape[1], x->shape[2] * x->shape[3], gram_scale(x));
#endif
  int64_t c = x->shape[1];
  float *sym = st_mem_alloc(st_cpu(), (size_t)(c * c) * sizeof(float), "st_gram_backward scratch");
  if (!sym) return -1;
  st_cpu_gram_backward(st_tensor_data(dx), st_tensor_data(dg), st_tensor_data(x), x->shape[0], c,
                       x->shape[2] * x->shape[3], gram_scale(x), sym);
  st_mem_free(st_cpu(), sym);
  return 0;
}
