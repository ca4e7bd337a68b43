/* CPU Adam update over n parameters (see train_ops.h for the formula). */
#ifndef STRATA_CPU_ADAM_H
#define STRATA_CPU_ADAM_H

#include <stdint.h>

/* step_size = lr / (1 - beta1^t); sqrt_bc2 = sqrt(1 - beta2^t). */
void st_cpu_adam_step(float *param, const float *grad, float *m, float *v, int64_t n, float beta1, float beta2,
                      float eps, float step_size, float sqrt_bc2);

#endif
