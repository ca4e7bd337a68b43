/* ReLU and tanh on raw device arrays (CUDA twin of kernels/cpu/activations.h).
 * `dev` is the CUDA ordinal the pointers live on. y may alias x; dx may alias
 * dy. Return 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_ACTIVATIONS_H
#define STRATA_KERNELS_CUDA_ACTIVATIONS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y = max(x, 0) */
int st_cuda_relu_forward(int dev, float *y, const float *x, int64_t n);
/* dx = dy where the forward output y > 0, else 0 */
int st_cuda_relu_backward(int dev, float *dx, const float *dy, const float *y, int64_t n);
/* y = tanh(x) */
int st_cuda_tanh_forward(int dev, float *y, const float *x, int64_t n);
/* dx = dy * (1 - y^2), y the forward output */
int st_cuda_tanh_backward(int dev, float *dx, const float *dy, const float *y, int64_t n);

#ifdef __cplusplus
}
#endif

#endif
