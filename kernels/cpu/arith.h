/* Tensor arithmetic on raw float arrays (CPU): n elements, y may alias any
 * input. One float operation per element, as written (no fused multiply-add). */
#ifndef STRATA_KERNELS_CPU_ARITH_H
#define STRATA_KERNELS_CPU_ARITH_H

#include <stdint.h>

#include "kernels/arith_op.h"

/* y = a (op) b */
void st_cpu_arith(float *y, const float *a, const float *b, int64_t n, st_arith_op op);
/* y = x (op) s, or s (op) x when scalar_first */
void st_cpu_arith_scalar(float *y, const float *x, float s, int scalar_first, int64_t n, st_arith_op op);
/* y = |x| */
void st_cpu_abs(float *y, const float *x, int64_t n);
/* y += alpha * x (the product rounded, then the sum) */
void st_cpu_axpy(float *y, float alpha, const float *x, int64_t n);

#endif
