/* Total variation loss: argument checks, normalisation, the device's kernel. */
#include "train_ops.h"

#include <stdio.h>

#include "../error.h"
#include "dispatch.h"

/* Checks x; sets *k and *dev to its device's kernels. */
static int check_tv(const char *op, const st_tensor *x, const st_kernels **k, int *dev) {
  char s[128], what[64];
  snprintf(what, sizeof what, "%s: x", op);
  if (st_check_ndim(x, 4, what) != 0) return -1;
  if (x->numel < 1) return st_error("%s: x is empty (shape %s)", op, st_shape_str(x->ndim, x->shape, s, sizeof s));
  return (*k = st_kernels_of(x, dev, op)) ? 0 : -1;
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
  const st_kernels *k;
  int dev;
  if (check_tv("st_tv_forward", x, &k, &dev) != 0) return -1;
  double sx, sy, wx, wy;
  if (k->tv_sums(dev, st_tensor_data(x), x->shape[0] * x->shape[1], x->shape[2], x->shape[3], &sx, &sy) != 0)
    return -1;
  tv_weights(x, &wx, &wy);
  *loss = (float)(sx * wx + sy * wy);
  return 0;
}

int st_tv_backward(st_tensor *dx, float dloss, const st_tensor *x) {
  const st_kernels *k;
  int dev;
  if (check_tv("st_tv_backward", x, &k, &dev) != 0) return -1;
  if (!dx) return 0;
  if (st_check_placed(dx, 4, x->shape, x, "st_tv_backward: dx") != 0)
    return -1;
  double wx, wy;
  tv_weights(x, &wx, &wy);
  return k->tv_backward(dev, st_tensor_data(dx), st_tensor_data(x), x->shape[0] * x->shape[1], x->shape[2],
                        x->shape[3], (float)(dloss * wx), (float)(dloss * wy));
}
