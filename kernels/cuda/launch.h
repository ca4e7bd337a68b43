/* Launch geometry for the elementwise kernels in kernels/cuda: a fixed block
 * size and a grid capped so that grid-stride loops cover any size (int64). */
#ifndef STRATA_KERNELS_CUDA_LAUNCH_H
#define STRATA_KERNELS_CUDA_LAUNCH_H

#include <stdint.h>

#define ST_CUDA_THREADS 256
/* Enough blocks to fill any current GPU many times over; beyond that each
 * thread loops. */
#define ST_CUDA_MAX_BLOCKS 16384

static inline unsigned st_cuda_blocks(int64_t n) {
  int64_t b = (n + ST_CUDA_THREADS - 1) / ST_CUDA_THREADS;
  if (b > ST_CUDA_MAX_BLOCKS) b = ST_CUDA_MAX_BLOCKS;
  return b < 1 ? 1u : (unsigned)b;
}

/* for (i = ...; i < n; i += stride) over a 1-D grid, in 64-bit indices. */
#define ST_CUDA_GRID_LOOP(i, n)                                                                    \
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);                        \
       i += (int64_t)gridDim.x * blockDim.x)

#endif
