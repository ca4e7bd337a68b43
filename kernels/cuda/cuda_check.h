/* Status checks for the CUDA runtime, cuDNN and cuBLAS calls in kernels/cuda.
 *
 * Every failing call becomes one st_error() line
 *   "<file>:<line>: <call> failed: <the library's error string>"
 * and the function returns -1 (ST_*_CHECK) or jumps to its cleanup label
 * (ST_*_CHECK_GOTO, for functions holding scratch memory; they keep
 * `int rc = -1` and set it to 0 just before the label).
 *
 * Kernel launches are asynchronous: ST_CUDA_LAUNCH_CHECK catches launch
 * errors (bad configuration, missing kernel image for this GPU) at once;
 * faults while the kernel runs surface at the next synchronising call (a
 * copy to the host), which reports them the same way.
 * C++ only (included by the .cu files). */
#ifndef STRATA_KERNELS_CUDA_CHECK_H
#define STRATA_KERNELS_CUDA_CHECK_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

extern "C" {
#include "engine/error.h"
}

#define ST_CUDA_CHECK(call)                                                                                   \
  do {                                                                                                        \
    cudaError_t st_e_ = (call);                                                                               \
    if (st_e_ != cudaSuccess)                                                                                 \
      return st_error("%s:%d: %s failed: %s", __FILE__, __LINE__, #call, cudaGetErrorString(st_e_));          \
  } while (0)

#define ST_CUDNN_CHECK(call)                                                                                  \
  do {                                                                                                        \
    cudnnStatus_t st_s_ = (call);                                                                             \
    if (st_s_ != CUDNN_STATUS_SUCCESS)                                                                        \
      return st_error("%s:%d: %s failed: %s", __FILE__, __LINE__, #call, cudnnGetErrorString(st_s_));         \
  } while (0)

#define ST_CUBLAS_CHECK(call)                                                                                 \
  do {                                                                                                        \
    cublasStatus_t st_b_ = (call);                                                                            \
    if (st_b_ != CUBLAS_STATUS_SUCCESS)                                                                       \
      return st_error("%s:%d: %s failed: %s", __FILE__, __LINE__, #call, cublasGetStatusString(st_b_));       \
  } while (0)

#define ST_CUDA_CHECK_GOTO(call, label)                                                                       \
  do {                                                                                                        \
    cudaError_t st_e_ = (call);                                                                               \
    if (st_e_ != cudaSuccess) {                                                                               \
      st_error("%s:%d: %s failed: %s", __FILE__, __LINE__, #call, cudaGetErrorString(st_e_));                 \
      goto label;                                                                                             \
    }                                                                                                         \
  } while (0)

#define ST_CUDNN_CHECK_GOTO(call, label)                                                                      \
  do {                                                                                                        \
    cudnnStatus_t st_s_ = (call);                                                                             \
    if (st_s_ != CUDNN_STATUS_SUCCESS) {                                                                      \
      st_error("%s:%d: %s failed: %s", __FILE__, __LINE__, #call, cudnnGetErrorString(st_s_));                \
      goto label;                                                                                             \
    }                                                                                                         \
  } while (0)

#define ST_CUBLAS_CHECK_GOTO(call, label)                                                                     \
  do {                                                                                                        \
    cublasStatus_t st_b_ = (call);                                                                            \
    if (st_b_ != CUBLAS_STATUS_SUCCESS) {                                                                     \
      st_error("%s:%d: %s failed: %s", __FILE__, __LINE__, #call, cublasGetStatusString(st_b_));              \
      goto label;                                                                                             \
    }                                                                                                         \
  } while (0)

/* After `kernel<<<...>>>(...)`: `what` names the kernel in the message. */
#define ST_CUDA_LAUNCH_CHECK(what)                                                                            \
  do {                                                                                                        \
    cudaError_t st_e_ = cudaGetLastError();                                                                   \
    if (st_e_ != cudaSuccess)                                                                                 \
      return st_error("%s:%d: launch of %s failed: %s", __FILE__, __LINE__, what, cudaGetErrorString(st_e_));  \
  } while (0)

#define ST_CUDA_LAUNCH_CHECK_GOTO(what, label)                                                                \
  do {                                                                                                        \
    cudaError_t st_e_ = cudaGetLastError();                                                                   \
    if (st_e_ != cudaSuccess) {                                                                               \
      st_error("%s:%d: launch of %s failed: %s", __FILE__, __LINE__, what, cudaGetErrorString(st_e_));        \
      goto label;                                                                                             \
    }                                                                                                         \
  } while (0)

#endif
