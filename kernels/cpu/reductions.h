/* Whole-array reductions on raw float arrays (CPU), for tensor statistics
 * (engine/ops/tensor_ops.h). n >= 0 elements. */
#ifndef STRATA_KERNELS_CPU_REDUCTIONS_H
#define STRATA_KERNELS_CPU_REDUCTIONS_H

#include <stdint.h>

/* sum of x, accumulated in double in index order (0 for n = 0). */
double st_cpu_sum(const float *x, int64_t n);
/* The smallest and largest element, n >= 1. NaN elements are skipped, except
 * that a NaN first element makes both results NaN (a scan that starts from
 * x[0] and keeps it unless a smaller element comes). */
void st_cpu_min_max(float *mn, float *mx, const float *x, int64_t n);
/* 1 when every element is finite (no NaN, no infinity). */
int st_cpu_all_finite(const float *x, int64_t n);

#endif
