/* Colour preservation on raw device arrays (CUDA twin of kernels/cpu/colour.h,
 * which has the formulas): y, lum, chroma are [3][n] planes (R, G, B); y may
 * alias lum. Each product and sum is rounded as the CPU kernel rounds it, so
 * the results are equal. Returns 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_COLOUR_H
#define STRATA_KERNELS_CUDA_COLOUR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int st_cuda_preserve_colors(int dev, float *y, const float *lum, const float *chroma, int64_t n);

#ifdef __cplusplus
}
#endif

#endif
