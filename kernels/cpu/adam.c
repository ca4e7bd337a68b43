/* CPU Adam, in the order of operations torch.optim.Adam uses (single-tensor
 * path): m and v updated in place, then param -= step_size * m / (sqrt(v)/sqrt(bc2) + eps). */
#include "kernels/cpu/adam.h"

#include <math.h>

void st_cpu_adam_step(float *param, const float *grad, float *m, float *v, int64_t n, float beta1, float beta2,
                      float eps, float step_size, float sqrt_bc2) {
  float a1 = 1.0f - beta1, a2 = 1.0f - beta2;
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; i++) {
    float g = grad[i];
    float mi = beta1 * m[i] + a1 * g;
    float vi = beta2 * v[i] + a2 * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] -= step_size * (mi / (sqrtf(vi) / sqrt_bc2 + eps));
  }
}
