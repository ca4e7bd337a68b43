/* CPU total variation over planes = N*C planes of h x w (see train_ops.h). */
#ifndef STRATA_CPU_TV_H
#define STRATA_CPU_TV_H

#include <stdint.h>

/* Sums of squared horizontal (*sx) and vertical (*sy) neighbour differences,
 * in double; the same for any thread count. */
void st_cpu_tv_sums(const float *x, int64_t planes, int64_t h, int64_t w, double *sx, double *sy);
/* dx = ax * d(sx)/dx + ay * d(sy)/dx, assigned. */
void st_cpu_tv_backward(float *dx, const float *x, int64_t planes, int64_t h, int64_t w, float ax, float ay);

#endif
