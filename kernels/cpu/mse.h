/* CPU squared-difference sums for mean-squared losses. a is outer x inner;
 * b is outer x inner, or one inner-sized block broadcast over outer when
 * b_broadcast is set (a style target Gram matrix against a batch). */
#ifndef STRATA_CPU_MSE_H
#define STRATA_CPU_MSE_H

#include <stdint.h>

/* sum (a - b)^2, accumulated in double; the same result for any thread count. */
double st_cpu_sqdiff_sum(const float *a, const float *b, int64_t outer, int64_t inner, int b_broadcast);
/* da = scale (a - b) and db = -scale (a - b) (summed over outer when broadcast),
 * both assigned; either may be NULL. */
void st_cpu_sqdiff_backward(float *da, float *db, const float *a, const float *b, int64_t outer, int64_t inner,
                            int b_broadcast, float scale);

#endif
