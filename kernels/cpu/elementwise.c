/* Elementwise arithmetic (CPU). */
#include "kernels/cpu/elementwise.h"

void st_cpu_add_forward(float *y, const float *a, const float *b, int64_t n) {
#pragma omp parallel for simd if (n >= ST_CPU_ELEMENTWISE_PAR_MIN)
  for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

void st_cpu_affine_forward(float *y, const float *x, float scale, float shift, int64_t n) {
#pragma omp parallel for simd if (n >= ST_CPU_ELEMENTWISE_PAR_MIN)
  for (int64_t i = 0; i < n; i++) y[i] = x[i] * scale + shift;
}
