/* gram: argument checks, then the device's kernel (BLAS on the CPU, cuBLAS on CUDA). */
#include "train_ops.h"

#include <limits.h>

#include "../error.h"
#include "dispatch.h"

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
  int dev;
  const st_kernels *k;
  if (st_gram_shape(x, out) != 0 || st_check_placed(g, 3, out, x, "st_gram_forward: g") != 0 ||
      !(k = st_kernels_of(x, &dev, "st_gram_forward")))
    return -1;
  return k->gram_forward(dev, st_tensor_data(g), st_tensor_data(x), x->shape[0], x->shape[1],
                         x->shape[2] * x->shape[3], gram_scale(x));
}

int st_gram_backward(st_tensor *dx, const st_tensor *dg, const st_tensor *x) {
  int64_t out[3];
  int dev;
  const st_kernels *k;
  if (st_gram_shape(x, out) != 0 || st_check_placed(dg, 3, out, x, "st_gram_backward: dg") != 0 ||
      !(k = st_kernels_of(x, &dev, "st_gram_backward")))
    return -1;
  if (!dx) return 0;
  if (st_check_placed(dx, 4, x->shape, x, "st_gram_backward: dx") != 0)
    return -1;
  return k->gram_backward(dev, st_tensor_data(dx), st_tensor_data(dg), st_tensor_data(x), x->shape[0], x->shape[1],
                          x->shape[2] * x->shape[3], gram_scale(x));
}
