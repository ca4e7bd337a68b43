/* Gram matrices (CUDA): one strided-batched SGEMM per direction.
 *
 * cuBLAS is column-major: x[n] (row-major c x hw) is the column-major hw x c
 * matrix A = F^T with leading dimension hw. Then
 *   g = F F^T = A^T A                    (c x c, symmetric: either layout)
 *   dx^T = (S F)^T = A S^T = A S         (S = dg + dg^T, symmetric)
 * and dx^T column-major (hw x c) is dx row-major (c x hw). */
#include "kernels/cuda/gram.h"

#include <limits.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"
#include "kernels/cuda/launch.h"

extern "C" {
#include "engine/device.h"
#include "engine/memory.h"
}

/* sym[b] = dg[b] + dg[b]^T (dg need not be symmetric: an arbitrary upstream gradient). */
__global__ void gram_symmetrize_kernel(float *sym, const float *dg, int64_t n, int64_t c) {
  ST_CUDA_GRID_LOOP(k, n * c * c) {
    const int64_t j = k % c, i = (k / c) % c, b = k / (c * c);
    sym[k] = dg[k] + dg[(b * c + j) * c + i];
  }
}

static int check_dims(int64_t n, int64_t c, int64_t hw, const char *fn) {
  if (c > INT_MAX || hw > INT_MAX || n > INT_MAX)
    return st_error("%s: sizes n %lld, c %lld, hw %lld exceed cuBLAS's int dimensions", fn, (long long)n,
                    (long long)c, (long long)hw);
  return 0;
}

extern "C" int st_cuda_gram_forward(int dev, float *g, const float *x, int64_t n, int64_t c, int64_t hw, float scale) {
  if (n <= 0 || c <= 0) return 0;
  if (check_dims(n, c, hw, "gram forward") != 0) return -1;
  cublasHandle_t h;
  if (st_cuda_cublas(dev, &h) != 0) return -1;
  const float beta = 0.0f;
  ST_CUBLAS_CHECK(cublasSgemmStridedBatched(h, CUBLAS_OP_T, CUBLAS_OP_N, (int)c, (int)c, (int)hw, &scale, x, (int)hw,
                                            (long long)(c * hw), x, (int)hw, (long long)(c * hw), &beta, g, (int)c,
                                            (long long)(c * c), (int)n));
  return 0;
}

extern "C" int st_cuda_gram_backward(int dev, float *dx, const float *dg, const float *x, int64_t n, int64_t c,
                                     int64_t hw, float scale) {
  if (n <= 0 || c <= 0 || hw <= 0) return 0;
  if (check_dims(n, c, hw, "gram backward") != 0) return -1;
  cublasHandle_t h;
  if (st_cuda_cublas(dev, &h) != 0) return -1;
  int rc = -1;
  const float beta = 0.0f;
  float *sym = (float *)st_mem_alloc(st_cuda(dev), (size_t)(n * c * c) * sizeof(float), "gram backward scratch");
  if (!sym) return -1;
  gram_symmetrize_kernel<<<st_cuda_blocks(n * c * c), ST_CUDA_THREADS>>>(sym, dg, n, c);
  ST_CUDA_LAUNCH_CHECK_GOTO("gram_symmetrize_kernel", done);
  ST_CUBLAS_CHECK_GOTO(cublasSgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, (int)hw, (int)c, (int)c, &scale, x,
                                                 (int)hw, (long long)(c * hw), sym, (int)c, (long long)(c * c), &beta,
                                                 dx, (int)hw, (long long)(c * hw), (int)n),
                       done);
  rc = 0;
done:
  st_mem_free(st_cuda(dev), sym);
  return rc;
}
