/* Elementwise arithmetic on raw float arrays (CPU). y may alias any input. */
#ifndef STRATA_KERNELS_CPU_ELEMENTWISE_H
#define STRATA_KERNELS_CPU_ELEMENTWISE_H

#include <stdint.h>

/* Below this many elements a parallel region costs more than it saves. */
#define ST_CPU_ELEMENTWISE_PAR_MIN 32768

/* y = a + b */
void st_cpu_add_forward(float *y, const float *a, const float *b, int64_t n);
/* y = x * scale + shift */
void st_cpu_affine_forward(float *y, const float *x, float scale, float shift, int64_t n);

#endif
