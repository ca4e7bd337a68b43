/* FCRN interleaving on raw float arrays (CPU): four planes-major maps of
 * `planes` x h x w into one of planes x 2h x 2w (see engine/ops/fcrn_ops.h). */
#ifndef STRATA_KERNELS_CPU_INTERLEAVE_H
#define STRATA_KERNELS_CPU_INTERLEAVE_H

#include <stdint.h>

/* y[2i,2j] = a, y[2i+1,2j] = b, y[2i,2j+1] = c, y[2i+1,2j+1] = d. */
void st_cpu_interleave_forward(float *y, const float *a, const float *b, const float *c, const float *d,
                               int64_t planes, int64_t h, int64_t w);

/* The inverse gather; any of da, db, dc, dd may be NULL. */
void st_cpu_interleave_backward(float *da, float *db, float *dc, float *dd, const float *dy, int64_t planes,
                                int64_t h, int64_t w);

#endif
