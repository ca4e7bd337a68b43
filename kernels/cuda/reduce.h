/* Deterministic sums for the CUDA kernels: block reductions in double with a
 * fixed shape (warp shuffles, then one warp over the warp sums), and a second
 * pass that adds per-block partial sums in block order. No atomics, so a loss
 * or a parameter gradient is the same bit for bit from run to run.
 * C++ only (included by the .cu files). */
#ifndef STRATA_KERNELS_CUDA_REDUCE_H
#define STRATA_KERNELS_CUDA_REDUCE_H

#include <stdint.h>

#if defined(__CUDACC__) || defined(STRATA_CUDA_EMU) /* nvcc, or the emulator (tests/cuda_emu) */
__device__ __forceinline__ double st_warp_sum(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

/* Sums a and b over the block; every thread gets the totals. blockDim.x must
 * be a multiple of 32 (at most 1024) and every thread of the block must call it. */
__device__ __forceinline__ void st_block_sum2(double &a, double &b) {
  __shared__ double sa[32], sb[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  a = st_warp_sum(a);
  b = st_warp_sum(b);
  if (lane == 0) {
    sa[warp] = a;
    sb[warp] = b;
  }
  __syncthreads();
  if (warp == 0) {
    a = lane < nwarps ? sa[lane] : 0.0;
    b = lane < nwarps ? sb[lane] : 0.0;
    a = st_warp_sum(a);
    b = st_warp_sum(b);
    if (lane == 0) {
      sa[0] = a;
      sb[0] = b;
    }
  }
  __syncthreads();
  a = sa[0];
  b = sb[0];
  __syncthreads(); /* before a later call overwrites sa / sb */
}
#endif

/* Blocks for a first pass that leaves one partial sum per block. */
#define ST_CUDA_REDUCE_BLOCKS 512

/* out[k] (host) = sum over i < nblocks of part[k * nblocks + i] (device), in
 * order i, for k < nsums (at most 4). Synchronises with the device (it copies
 * to the host). Returns 0 or -1 with an error. */
int st_cuda_finish_sums(int dev, const double *part, int nblocks, int nsums, double *out);

#endif
