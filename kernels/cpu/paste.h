/* Pasting one [C, h, w] image into a [C, H, W] one (CPU), for contact sheets
 * (lua/strata/figure.lua). */
#ifndef STRATA_KERNELS_CPU_PASTE_H
#define STRATA_KERNELS_CPU_PASTE_H

#include <stdint.h>

/* dst[c, r0 + i, c0 + j] = src[c, i, j] wherever that lies inside dst (r0,
 * c0 are 0-based and may be negative); the rest of dst is left as it is. */
void st_cpu_paste(float *dst, const float *src, int64_t C, int64_t H, int64_t W, int64_t h, int64_t w, int64_t r0,
                  int64_t c0);

#endif
