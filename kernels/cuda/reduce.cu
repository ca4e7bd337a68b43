/* Second pass of the deterministic sums (see reduce.h). */
#include "kernels/cuda/reduce.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"

extern "C" {
#include "engine/device.h"
#include "engine/memory.h"
}

/* One block per sum: each thread adds a strided subset in order, then the
 * fixed-shape block reduction. */
__global__ void finish_sums_kernel(const double *part, int nblocks, double *out) {
  const double *p = part + (int64_t)blockIdx.x * nblocks;
  double s = 0.0, unused = 0.0;
  for (int i = threadIdx.x; i < nblocks; i += blockDim.x) s += p[i];
  st_block_sum2(s, unused);
  if (threadIdx.x == 0) out[blockIdx.x] = s;
}

int st_cuda_finish_sums(int dev, const double *part, int nblocks, int nsums, double *out) {
  if (nsums < 1 || nsums > 4 || nblocks < 1) return st_error("st_cuda_finish_sums: bad sizes %d x %d", nsums, nblocks);
  if (st_cuda_use_device(dev) != 0) return -1;
  int rc = -1;
  double *d = (double *)st_mem_alloc(st_cuda(dev), 4 * sizeof(double), "reduction result");
  if (!d) return -1;
  finish_sums_kernel<<<nsums, 256>>>(part, nblocks, d);
  ST_CUDA_LAUNCH_CHECK_GOTO("finish_sums_kernel", done);
  ST_CUDA_CHECK_GOTO(cudaMemcpy(out, d, (size_t)nsums * sizeof(double), cudaMemcpyDeviceToHost), done);
  rc = 0;
done:
  st_mem_free(st_cuda(dev), d);
  return rc;
}
