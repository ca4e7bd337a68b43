/* Adam (CUDA), in the CPU kernel's order of operations. Products and sums are
 * rounded one at a time (no fused multiply-add), as the CPU build computes
 * them, so both devices take the same steps to the last bit or close to it. */
#include "kernels/cuda/adam.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"
#include "kernels/cuda/launch.h"

__global__ void adam_kernel(float *param, const float *grad, float *m, float *v, int64_t n, float beta1, float beta2,
                            float eps, float step_size, float sqrt_bc2) {
  const float a1 = __fadd_rn(1.0f, -beta1), a2 = __fadd_rn(1.0f, -beta2);
  ST_CUDA_GRID_LOOP(i, n) {
    float g = grad[i];
    float mi = __fadd_rn(__fmul_rn(beta1, m[i]), __fmul_rn(a1, g));
    float vi = __fadd_rn(__fmul_rn(beta2, v[i]), __fmul_rn(__fmul_rn(a2, g), g));
    m[i] = mi;
    v[i] = vi;
    float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), sqrt_bc2), eps);
    param[i] = __fadd_rn(param[i], -__fmul_rn(step_size, __fdiv_rn(mi, denom)));
  }
}

extern "C" int st_cuda_adam_step(int dev, float *param, const float *grad, float *m, float *v, int64_t n, float beta1,
                                 float beta2, float eps, float step_size, float sqrt_bc2) {
  if (n <= 0) return 0;
  if (st_cuda_use_device(dev) != 0) return -1;
  adam_kernel<<<st_cuda_blocks(n), ST_CUDA_THREADS>>>(param, grad, m, v, n, beta1, beta2, eps, step_size, sqrt_bc2);
  ST_CUDA_LAUNCH_CHECK("adam_kernel");
  return 0;
}
