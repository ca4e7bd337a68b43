/* Bilinear resize of [planes][H][W] float arrays to [planes][OH][OW] (CPU).
 *
 * Half-pixel centres. Each output sample is a normalised weighted sum of the
 * inputs under a triangle filter; when shrinking, the triangle is widened by
 * the scale factor (PIL's BILINEAR resample), so every input pixel
 * contributes and nothing aliases; when enlarging this is plain bilinear
 * interpolation with edge clamping. Separable: rows first, then columns. */
#ifndef STRATA_KERNELS_CPU_RESIZE_H
#define STRATA_KERNELS_CPU_RESIZE_H

#include <stdint.h>

/* Returns 0, or -1 with an error when scratch memory runs out. All sizes >= 1. */
int st_cpu_resize_bilinear_forward(float *y, const float *x, int64_t planes, int64_t H, int64_t W, int64_t OH,
                                   int64_t OW);

#endif
