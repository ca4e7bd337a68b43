/* Per-device cuDNN / cuBLAS handles (see handles.h). Handles live until the
 * process exits: destroying them from an atexit hook can run after the CUDA
 * context is gone, and creating them is costly (tens of milliseconds). */
#include "kernels/cuda/handles.h"

#include <stdlib.h>
#include <string.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cudnn_conv.h"
#include "kernels/cuda/tf32.h"

static cudnnHandle_t cudnn_handles[ST_CUDA_MAX_DEVICES];
static cublasHandle_t cublas_handles[ST_CUDA_MAX_DEVICES];

static int tf32 = -1; /* -1: not decided yet (STRATA_TF32 decides) */

int st_cuda_tf32_allowed(void) {
  if (tf32 < 0) {
    const char *s = getenv("STRATA_TF32");
    tf32 = s && strcmp(s, "1") == 0;
  }
  return tf32;
}

static cublasMath_t cublas_math(void) {
  return st_cuda_tf32_allowed() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
}

extern "C" int st_cuda_set_tf32(int on) {
  on = on != 0;
  if (tf32 == on) return 0;
  tf32 = on;
  for (int d = 0; d < ST_CUDA_MAX_DEVICES; d++)
    if (cublas_handles[d]) ST_CUBLAS_CHECK(cublasSetMathMode(cublas_handles[d], cublas_math()));
  st_cudnn_conv_forget_choices(); /* chosen under the other math policy */
  return 0;
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
    cublasStatus_t s = cublasSetMathMode(h, cublas_math());
    if (s != CUBLAS_STATUS_SUCCESS) {
      cublasDestroy(h);
      return st_error("%s:%d: cublasSetMathMode failed: %s", __FILE__, __LINE__, cublasGetStatusString(s));
    }
    cublas_handles[dev] = h;
  }
  *out = cublas_handles[dev];
  return 0;
}
