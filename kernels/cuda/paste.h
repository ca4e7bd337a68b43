/* Pasting a [C, h, w] device image into a [C, H, W] one (CUDA twin of
 * kernels/cpu/paste.h). Returns 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_PASTE_H
#define STRATA_KERNELS_CUDA_PASTE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* dst[c, r0 + i, c0 + j] = src[c, i, j] wherever that lies inside dst. */
int st_cuda_paste(int dev, float *dst, const float *src, int64_t C, int64_t H, int64_t W, int64_t h, int64_t w,
                  int64_t r0, int64_t c0);

#ifdef __cplusplus
}
#endif

#endif
