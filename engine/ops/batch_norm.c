/* Batch norm with fixed statistics: argument checks (the statistics' too,
 * unless the caller has checked them), then the device's kernel. */
#include <math.h>

#include "error.h"
#include "tensor.h"
#include "ops/dispatch.h"
#include "ops/fcrn_ops.h"

/* t, when present, is [C] on x's device. */
static int check_vec(const st_tensor *t, int64_t C, const st_tensor *x, const char *what) {
  if (!t) return 0;
  return st_check_placed(t, 1, &C, x, what);
}

static int check_eps(float eps, const char *fn) {
  if (!(eps >= 0.0f) || isinf(eps)) return st_error("%s: eps must be finite and >= 0, got %g", fn, eps);
  return 0;
}

int st_batch_norm_check_var(const st_tensor *var, float eps, const char *what) {
  if (check_eps(eps, what)) return -1;
  st_tensor *host = NULL;
  if (st_tensor_device(var).kind != ST_CPU && !(host = st_tensor_to(var, st_cpu()))) return -1;
  const float *v = st_tensor_data(host ? host : var);
  int rc = 0;
  for (int64_t c = 0; c < var->numel && rc == 0; c++)
    if (!((double)v[c] + (double)eps > 0.0))
      rc = st_error("%s: var[%lld] + eps = %g + %g must be > 0", what, (long long)c, (double)v[c], (double)eps);
  st_tensor_release(host);
  return rc;
}

static int forward(st_tensor *y, const st_tensor *x, const st_tensor *mean, const st_tensor *var,
                   const st_tensor *gamma, const st_tensor *beta, float eps, int check) {
  const char *fn = "st_batch_norm_forward";
  if (st_check_ndim(x, 4, "st_batch_norm_forward: x")) return -1;
  const int64_t C = x->shape[1];
  if (st_check_placed(y, 4, x->shape, x, "st_batch_norm_forward: y")) return -1;
  if (!mean || !var) return st_error("%s: mean and var are required", fn);
  if (check_vec(mean, C, x, "st_batch_norm_forward: mean") || check_vec(var, C, x, "st_batch_norm_forward: var") ||
      check_vec(gamma, C, x, "st_batch_norm_forward: gamma") || check_vec(beta, C, x, "st_batch_norm_forward: beta"))
    return -1;
  if (check_eps(eps, fn)) return -1;
  if (check && st_batch_norm_check_var(var, eps, "batch_norm forward")) return -1;
  int dev;
  const st_kernels *k = st_kernels_of(x, &dev, fn);
  if (!k) return -1;
  return k->batch_norm_forward(dev, st_tensor_data(y), st_tensor_data(x), st_tensor_data(mean), st_tensor_data(var),
                               gamma ? st_tensor_data(gamma) : NULL, beta ? st_tensor_data(beta) : NULL, x->shape[0],
                               C, x->shape[2] * x->shape[3], eps);
}

static int backward(st_tensor *dx, st_tensor *dgamma, st_tensor *dbeta, const st_tensor *dy, const st_tensor *x,
                    const st_tensor *mean, const st_tensor *var, const st_tensor *gamma, float eps, int check) {
  const char *fn = "st_batch_norm_backward";
  if (st_check_ndim(dy, 4, "st_batch_norm_backward: dy")) return -1;
  const int64_t C = dy->shape[1];
  if (dx && st_check_placed(dx, 4, dy->shape, dy, "st_batch_norm_backward: dx")) return -1;
  if (dgamma && !x) return st_error("%s: x (the forward input) is required for dgamma", fn);
  if (x && st_check_placed(x, 4, dy->shape, dy, "st_batch_norm_backward: x")) return -1;
  if (!mean || !var) return st_error("%s: mean and var are required", fn);
  if (check_vec(mean, C, dy, "st_batch_norm_backward: mean") || check_vec(var, C, dy, "st_batch_norm_backward: var") ||
      check_vec(gamma, C, dy, "st_batch_norm_backward: gamma") ||
      check_vec(dgamma, C, dy, "st_batch_norm_backward: dgamma") ||
      check_vec(dbeta, C, dy, "st_batch_norm_backward: dbeta"))
    return -1;
  if (check_eps(eps, fn)) return -1;
  if (check && st_batch_norm_check_var(var, eps, "batch_norm backward")) return -1;
  if (!dx && !dgamma && !dbeta) return 0;
  int dev;
  const st_kernels *k = st_kernels_of(dy, &dev, fn);
  if (!k) return -1;
  return k->batch_norm_backward(dev, dx ? st_tensor_data(dx) : NULL, dgamma ? st_tensor_data(dgamma) : NULL,
                                dbeta ? st_tensor_data(dbeta) : NULL, st_tensor_data(dy), x ? st_tensor_data(x) : NULL,
                                st_tensor_data(mean), st_tensor_data(var), gamma ? st_tensor_data(gamma) : NULL,
                                dy->shape[0], C, dy->shape[2] * dy->shape[3], eps);
}

int st_batch_norm_forward(st_tensor *y, const st_tensor *x, const st_tensor *mean, const st_tensor *var,
                          const st_tensor *gamma, const st_tensor *beta, float eps) {
  return forward(y, x, mean, var, gamma, beta, eps, 1);
}

int st_batch_norm_forward_prechecked(st_tensor *y, const st_tensor *x, const st_tensor *mean, const st_tensor *var,
                                     const st_tensor *gamma, const st_tensor *beta, float eps) {
  return forward(y, x, mean, var, gamma, beta, eps, 0);
}

int st_batch_norm_backward(st_tensor *dx, st_tensor *dgamma, st_tensor *dbeta, const st_tensor *dy,
                           const st_tensor *x, const st_tensor *mean, const st_tensor *var, const st_tensor *gamma,
                           float eps) {
  return backward(dx, dgamma, dbeta, dy, x, mean, var, gamma, eps, 1);
}

int st_batch_norm_backward_prechecked(st_tensor *dx, st_tensor *dgamma, st_tensor *dbeta, const st_tensor *dy,
                                      const st_tensor *x, const st_tensor *mean, const st_tensor *var,
                                      const st_tensor *gamma, float eps) {
  return backward(dx, dgamma, dbeta, dy, x, mean, var, gamma, eps, 0);
}
