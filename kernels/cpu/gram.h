/* CPU Gram matrices through BLAS: g[n] = F F^T * scale, F = x[n] as c x hw. */
#ifndef STRATA_CPU_GRAM_H
#define STRATA_CPU_GRAM_H

#include <stdint.h>

void st_cpu_gram_forward(float *g, const float *x, int64_t n, int64_t c, int64_t hw, float scale);
/* dx[n] = (dg[n] + dg[n]^T) F * scale, assigned; sym is c*c floats of scratch. */
void st_cpu_gram_backward(float *dx, const float *dg, const float *x, int64_t n, int64_t c, int64_t hw, float scale,
                          float *sym);

#endif
