/* Tensor arithmetic (CPU). Large arrays are split over threads; every
 * element is independent, so the result does not depend on their number. */
#include "kernels/cpu/arith.h"

#include <math.h>

#include "kernels/cpu/elementwise.h"

static inline float apply(st_arith_op op, float a, float b) {
  switch (op) {
    case ST_ARITH_ADD: return a + b;
    case ST_ARITH_SUB: return a - b;
    case ST_ARITH_MUL: return a * b;
    case ST_ARITH_DIV: break;
  }
  return a / b;
}

void st_cpu_arith(float *y, const float *a, const float *b, int64_t n, st_arith_op op) {
#pragma omp parallel for if (n >= ST_CPU_ELEMENTWISE_PAR_MIN)
  for (int64_t i = 0; i < n; i++) y[i] = apply(op, a[i], b[i]);
}

void st_cpu_arith_scalar(float *y, const float *x, float s, int scalar_first, int64_t n, st_arith_op op) {
#pragma omp parallel for if (n >= ST_CPU_ELEMENTWISE_PAR_MIN)
  for (int64_t i = 0; i < n; i++) y[i] = scalar_first ? apply(op, s, x[i]) : apply(op, x[i], s);
}

void st_cpu_abs(float *y, const float *x, int64_t n) {
#pragma omp parallel for simd if (n >= ST_CPU_ELEMENTWISE_PAR_MIN)
  for (int64_t i = 0; i < n; i++) y[i] = fabsf(x[i]);
}

void st_cpu_axpy(float *y, float alpha, const float *x, int64_t n) {
#pragma omp parallel for simd if (n >= ST_CPU_ELEMENTWISE_PAR_MIN)
  for (int64_t i = 0; i < n; i++) y[i] += alpha * x[i];
}
