/* Colour preservation (CPU): the luminance of one RGB image with the chroma
 * of another, in JPEG's YCbCr (ITU-R BT.601 coefficients, full range 0..255,
 * chroma centred on 128):
 *   Y  =       0.299    R + 0.587    G + 0.114    B
 *   Cb = 128 - 0.168736 R - 0.331264 G + 0.5      B
 *   Cr = 128 + 0.5      R - 0.418688 G - 0.081312 B
 *   R = Y + 1.402 (Cr-128), G = Y - 0.344136 (Cb-128) - 0.714136 (Cr-128),
 *   B = Y + 1.772 (Cb-128)
 * The luminance image is clamped to 0..255 first (what a saved stylization
 * holds); the result is not clamped (image writers round and clamp). */
#ifndef STRATA_KERNELS_CPU_COLOUR_H
#define STRATA_KERNELS_CPU_COLOUR_H

#include <stdint.h>

/* y, lum, chroma: [3][n] planes (R, G, B). y may alias lum. */
void st_cpu_preserve_colors(float *y, const float *lum, const float *chroma, int64_t n);

#endif
