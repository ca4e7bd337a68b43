/* Total variation loss dispatch: argument checks, normalisation, CPU kernel. */
#include "train_ops.h"

#include <stdio.h>

#include "../error.h"
#include "kernels/cpu/tv.h"
#ifdef STRATA_CUDA
#include "kernels/cuda/tv.h"
#endif

static int check_tv(const char *op, const st_tensor *x) {
  char s[128], what[64];
  snprintf(what, sizeof what, "%s: x", op);
  if (st_check_ndim(x, 4, what) != 0) return -1;
  if (x->numel < 1) return st_error("%s: x is empty (shape %s)", op, st_shape_str(x->ndim, x->shape, s, sizeof s));
  return st_check_kernel(x, op);
}

/* Weights of the two sums: 1 / (N * count of differences per image); an empty
 * direction (a single row or column) gets weight 0 instead of 0/0. */
static void tv_weights(const st_tensor *x, double *wx, double *wy) {
  double n = (double)x->shape[0], c = (double)x->shape[1], h = (double)x->shape[2], w = (double)x->shape[3];
  *wx = w > 1 ? 1.0 / (n * h * (w - 1) * c) : 0.0;
  *wy = h > 1 ? 1.0 / (n * (h - 1) * w * c) : 0.0;
}

int st_tv_forward(float *loss, const st_tensor *x) {
  if (!loss) return st_error("st_tv_forward: missing loss pointer");
  if (check_tv("st_tv_forward", x) != 0) return -1;
  double sx, sy, wx, wy;
#ifdef STRATA_CUDA
  if (st_tensor_device(x).kind == ST_CUDA) {
    if (st_cuda_tv_sums(st_tensor_device(x).index, st_tensor_data(x), x->shape[0] * x->shape[1], x->shape[2],
                        x->shape[3], &sx, &sy) != 0)
      return -1;
  } else
#endif
  st_cpu_tv_sums(st_tensor_data(x), x->shape[0] * x->shape[1], x->shape[2], x->shape[3], &sx, &sy);
  tv_weights(x, &wx, &wy);
  *loss = (float)(sx * wx + sy * wy);
  return 0;
}

int st_tv_backward(st_tensor *dx, float dloss, const st_tensor *x) {
  if (check_tv("st_tv_backward", x) != 0) return -1;
  if (!dx) return 0;
  if (st_check_placed(dx, 4, x->shape, x, "st_tv_backward: dx") != 0)
    return -1;
  double wx, wy;
  tv_weights(x, &wx, &wy);
#ifdef STRATA_CUDA
  if (st_tensor_device(x).kind == ST_CUDA)
    return st_cuda_tv_backward(st_tensor_device(x).index, st_tensor_data(dx), st_tensor_data(x),
                               x->shape[0] * x->shape[1], x->shape[2], x->shape[3], (float)(dloss * wx),
                               (float)(dloss * wy));
#endif
  st_cpu_tv_backward(st_tensor_data(dx), st_tensor_data(x), x->shape[0] * x->shape[1], x->shape[2], x->shape[3],
                     (float)(dloss * wx), (float)(dloss * wy));
  return 0;
}
