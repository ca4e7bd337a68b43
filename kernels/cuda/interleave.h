/* FCRN interleaving on raw device arrays (CUDA twin of
 * kernels/cpu/interleave.h): four planes-major maps of `planes` x h x w into
 * one of planes x 2h x 2w. Return 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_INTERLEAVE_H
#define STRATA_KERNELS_CUDA_INTERLEAVE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y[2i,2j] = a, y[2i+1,2j] = b, y[2i,2j+1] = c, y[2i+1,2j+1] = d. */
int st_cuda_interleave_forward(int dev, float *y, const float *a, const float *b, const float *c, const float *d,
                               int64_t planes, int64_t h, int64_t w);

/* The inverse gather; any of da, db, dc, dd may be NULL. */
int st_cuda_interleave_backward(int dev, float *da, float *db, float *dc, float *dd, const float *dy,
                                int64_t planes, int64_t h, int64_t w);

#ifdef __cplusplus
}
#endif

#endif
