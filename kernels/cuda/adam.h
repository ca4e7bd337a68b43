/* Adam update over n device floats (CUDA twin of kernels/cpu/adam.h; the
 * formula is in engine/ops/train_ops.h). step_size = lr / (1 - beta1^t),
 * sqrt_bc2 = sqrt(1 - beta2^t). Returns 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_ADAM_H
#define STRATA_KERNELS_CUDA_ADAM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int st_cuda_adam_step(int dev, float *param, const float *grad, float *m, float *v, int64_t n, float beta1,
                      float beta2, float eps, float step_size, float sqrt_bc2);

#ifdef __cplusplus
}
#endif

#endif
