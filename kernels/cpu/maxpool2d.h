/* CPU max pooling over planes = N*C independent H x W planes (see train_ops.h). */
#ifndef STRATA_CPU_MAXPOOL2D_H
#define STRATA_CPU_MAXPOOL2D_H

#include <stdint.h>

#include "kernels/maxpool2d_params.h"

void st_cpu_maxpool2d_forward(float *y, const float *x, int64_t planes, int64_t h, int64_t w, int64_t oh,
                              int64_t ow, const st_maxpool2d_params *p);
/* dx is assigned (zeroed, then each dy added at its window's argmax). */
void st_cpu_maxpool2d_backward(float *dx, const float *dy, const float *x, int64_t planes, int64_t h, int64_t w,
                               int64_t oh, int64_t ow, const st_maxpool2d_params *p);

#endif
