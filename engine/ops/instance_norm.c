/* Instance norm: argument checks, then the device's kernel.
 * gamma and beta may be NULL (no affine: 1 and 0); mean and rstd may be NULL
 * in the forward (inference) but are required by the backward. */
#include "ops/ops.h"

#include <math.h>

#include "error.h"
#include "ops/dispatch.h"

/* t, when present, has shape [n] (ndim 1) or [n0, n1] (ndim 2) and x's device. */
static int check_opt(const st_tensor *t, int ndim, const int64_t *shape, const st_tensor *x, const char *what) {
  if (!t) return 0;
  return st_check_placed(t, ndim, shape, x, what);
}

static int check_x(const st_tensor *x, const char *what) {
  if (st_check_ndim(x, 4, what)) return -1;
  if (x->shape[2] * x->shape[3] == 0)
    return st_error("%s: instance norm needs non-empty planes, got H=%lld W=%lld", what, (long long)x->shape[2],
                    (long long)x->shape[3]);
  return 0;
}

int st_instance_norm_forward(st_tensor *y, st_tensor *mean, st_tensor *rstd, const st_tensor *x,
                             const st_tensor *gamma, const st_tensor *beta, float eps) {
  if (check_x(x, "st_instance_norm_forward: x")) return -1;
  const int64_t N = x->shape[0], C = x->shape[1], nc[2] = {N, C};
  if (st_check_placed(y, 4, x->shape, x, "st_instance_norm_forward: y")) return -1;
  if (check_opt(mean, 2, nc, x, "st_instance_norm_forward: mean")) return -1;
  if (check_opt(rstd, 2, nc, x, "st_instance_norm_forward: rstd")) return -1;
  if (check_opt(gamma, 1, &C, x, "st_instance_norm_forward: gamma")) return -1;
  if (check_opt(beta, 1, &C, x, "st_instance_norm_forward: beta")) return -1;
  if (!(eps >= 0.0f) || isinf(eps)) return st_error("st_instance_norm_forward: eps must be finite and >= 0, got %g", eps);
  int dev;
  const st_kernels *k = st_kernels_of(x, &dev, "st_instance_norm_forward");
  if (!k) return -1;
  return k->instance_norm_forward(dev, st_tensor_data(y), mean ? st_tensor_data(mean) : NULL,
                                  rstd ? st_tensor_data(rstd) : NULL, st_tensor_data(x),
                                  gamma ? st_tensor_data(gamma) : NULL, beta ? st_tensor_data(beta) : NULL, N, C,
                                  x->shape[2] * x->shape[3], eps);
}

int st_instance_norm_backward(st_tensor *dx, st_tensor *dgamma, st_tensor *dbeta, const st_tensor *dy,
                              const st_tensor *x, const st_tensor *mean, const st_tensor *rstd, const st_tensor *gamma) {
  if (check_x(x, "st_instance_norm_backward: x")) return -1;
  const int64_t N = x->shape[0], C = x->shape[1], nc[2] = {N, C};
  if (st_check_placed(dy, 4, x->shape, x, "st_instance_norm_backward: dy")) return -1;
  if (check_opt(dx, 4, x->shape, x, "st_instance_norm_backward: dx")) return -1;
  /* mean and rstd are required: the forward's eps is not known here. */
  if (st_check_shape(mean, 2, nc, "st_instance_norm_backward: mean (saved by the forward)")) return -1;
  if (st_check_shape(rstd, 2, nc, "st_instance_norm_backward: rstd (saved by the forward)")) return -1;
  if (check_opt(mean, 2, nc, x, "st_instance_norm_backward: mean")) return -1;
  if (check_opt(rstd, 2, nc, x, "st_instance_norm_backward: rstd")) return -1;
  if (check_opt(gamma, 1, &C, x, "st_instance_norm_backward: gamma")) return -1;
  if (check_opt(dgamma, 1, &C, x, "st_instance_norm_backward: dgamma")) return -1;
  if (check_opt(dbeta, 1, &C, x, "st_instance_norm_backward: dbeta")) return -1;
  if (!dx && !dgamma && !dbeta) return 0;
  int dev;
  const st_kernels *k = st_kernels_of(x, &dev, "st_instance_norm_backward");
  if (!k) return -1;
  return k->instance_norm_backward(dev, dx ? st_tensor_data(dx) : NULL, dgamma ? st_tensor_data(dgamma) : NULL,
                                   dbeta ? st_tensor_data(dbeta) : NULL, st_tensor_data(dy), st_tensor_data(x),
                                   st_tensor_data(mean), st_tensor_data(rstd), gamma ? st_tensor_data(gamma) : NULL, N,
                                   C, x->shape[2] * x->shape[3]);
}
