/* ReLU and tanh (CPU). Plain loops: with no restrict, aliasing y == x is fine
 * because each element is read before it is written. */
#include "kernels/cpu/activations.h"

#include <math.h>

#include "kernels/cpu/elementwise.h"

void st_cpu_relu_forward(float *y, const float *x, int64_t n) {
#pragma omp parallel for simd if (n >= ST_CPU_ELEMENTWISE_PAR_MIN)
  for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void st_cpu_relu_backward(float *dx, const float *dy, const float *y, int64_t n) {
#pragma omp parallel for simd if (n >= ST_CPU_ELEMENTWISE_PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    const float g = dy[i]; /* loaded unconditionally, so the loop vectorises */
    dx[i] = y[i] > 0.0f ? g : 0.0f;
  }
}

void st_cpu_tanh_forward(float *y, const float *x, int64_t n) {
  /* tanhf is costly enough to parallelise earlier than the cheap ops. */
#pragma omp parallel for if (n >= ST_CPU_ELEMENTWISE_PAR_MIN / 8)
  for (int64_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
}

void st_cpu_tanh_backward(float *dx, const float *dy, const float *y, int64_t n) {
#pragma omp parallel for simd if (n >= ST_CPU_ELEMENTWISE_PAR_MIN)
  for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}
