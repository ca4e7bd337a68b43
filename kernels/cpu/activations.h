/* ReLU and tanh on raw float arrays (CPU). y may alias x; dx may alias dy. */
#ifndef STRATA_KERNELS_CPU_ACTIVATIONS_H
#define STRATA_KERNELS_CPU_ACTIVATIONS_H

#include <stdint.h>

/* y = max(x, 0) */
void st_cpu_relu_forward(float *y, const float *x, int64_t n);
/* dx = dy where the forward output y > 0, else 0 */
void st_cpu_relu_backward(float *dx, const float *dy, const float *y, int64_t n);
/* y = tanh(x) */
void st_cpu_tanh_forward(float *y, const float *x, int64_t n);
/* dx = dy * (1 - y^2), y the forward output */
void st_cpu_tanh_backward(float *dx, const float *dy, const float *y, int64_t n);

#endif
