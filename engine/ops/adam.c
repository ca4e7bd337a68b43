/* Adam step: argument checks, bias corrections (in double), then the device's kernel. */
#include "train_ops.h"

#include <math.h>

#include "../error.h"
#include "dispatch.h"

int st_adam_step(st_tensor *param, const st_tensor *grad, st_tensor *m, st_tensor *v, float lr, float beta1,
                 float beta2, float eps, int64_t t) {
  if (!param) return st_error("st_adam_step: missing tensor param");
  if (st_check_placed(grad, param->ndim, param->shape, param, "st_adam_step: grad") != 0 ||
      st_check_placed(m, param->ndim, param->shape, param, "st_adam_step: m") != 0 ||
      st_check_placed(v, param->ndim, param->shape, param, "st_adam_step: v") != 0)
    return -1;
  if (t < 1) return st_error("st_adam_step: step t is 1-based, got %lld", (long long)t);
  if (!(beta1 >= 0.0f && beta1 < 1.0f)) return st_error("st_adam_step: beta1 must be in [0, 1), got %g", beta1);
  if (!(beta2 >= 0.0f && beta2 < 1.0f)) return st_error("st_adam_step: beta2 must be in [0, 1), got %g", beta2);
  if (!(eps >= 0.0f) || !isfinite(eps)) return st_error("st_adam_step: eps must be finite and >= 0, got %g", eps);
  if (!isfinite(lr)) return st_error("st_adam_step: lr must be finite, got %g", lr);
  int dev;
  const st_kernels *k = st_kernels_of(param, &dev, "st_adam_step");
  if (!k) return -1;
  double bc1 = 1.0 - pow((double)beta1, (double)t), bc2 = 1.0 - pow((double)beta2, (double)t);
  /* beta2 = 0 with eps = 0 and a zero gradient would divide 0 by 0; that is
   * the caller's choice, as in torch. */
  return k->adam_step(dev, st_tensor_data(param), st_tensor_data(grad), st_tensor_data(m), st_tensor_data(v),
                      param->numel, beta1, beta2, eps, (float)((double)lr / bc1), (float)sqrt(bc2));
}
