/* Per-device cuDNN / cuBLAS handles (see handles.h). Handles live until the
 * process exits: destroying them from an atexit hook can run after the CUDA
 * context is gone, and creating them is costly (tens of milliseconds). */
#include "kernels/cuda/handles.h"

#include <stdlib.h>
#include <string.h>

#include "kernels/cuda/cuda_check.h"

static cudnnHandle_t cudnn_handles[ST_CUDA_MAX_DEVICES];
static cublasHandle_t cublas_handles[ST_CUDA_MAX_DEVICES];

int st_cuda_tf32_allowed(void) {
  static int allowed = -1;
  if (allowed < 0) {
    const char *s = getenv("STRATA_TF32");
    allowed = s && strcmp(s, "1") == 0;
  }
  return allowed;
}

int st_cuda_use_device(int dev) {
  if (dev < 0 || dev >= ST_CUDA_MAX_DEVICES)
    return st_error("CUDA device ordinal %d is out of range (0..%d)", dev, ST_CUDA_MAX_DEVICES - 1);
  int cur = -1;
  ST_CUDA_CHECK(cudaGetDevice(&cur));
  if (cur != dev) ST_CUDA_CHECK(cudaSetDevice(dev));
  return 0;
}

int st_cuda_cudnn(int dev, cudnnHandle_t *out) {
  if (st_cuda_use_device(dev) != 0) return -1;
  if (!cudnn_handles[dev]) {
    cudnnHandle_t h;
    ST_CUDNN_CHECK(cudnnCreate(&h));
    cudnn_handles[dev] = h;
  }
  *out = cudnn_handles[dev];
  return 0;
}

int st_cuda_cublas(int dev, cublasHandle_t *out) {
  if (st_cuda_use_device(dev) != 0) return -1;
  if (!cublas_handles[dev]) {
    cublasHandle_t h;
    ST_CUBLAS_CHECK(cublasCreate(&h));
    cublasStatus_t s = cublasSetMathMode(h, st_cuda_tf32_allowed() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);
    if (s != CUBLAS_STATUS_SUCCESS) {
      cublasDestroy(h);
      return st_error("%s:%d: cublasSetMathMode failed: %s", __FILE__, __LINE__, cublasGetStatusString(s));
    }
    cublas_handles[dev] = h;
  }
  *out = cublas_handles[dev];
  return 0;
}
