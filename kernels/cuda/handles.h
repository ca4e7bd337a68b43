/* Per-device cuDNN and cuBLAS handles, created on first use, and the device
 * and precision settings every CUDA kernel shares.
 *
 * TF32: on Ampere and later GPUs cuDNN runs float convolutions on tensor
 * cores in TF32 (10-bit mantissa) unless told otherwise, which puts results
 * ~1e-3 away from the CPU reference. Strata keeps full float32 by default
 * (cuDNN's CUDNN_FMA_MATH, cuBLAS's CUBLAS_DEFAULT_MATH); TF32 is allowed
 * for speed by an experiment's precision = "tf32" (st_cuda_set_tf32) or,
 * before any such call, by the environment variable STRATA_TF32=1.
 * C++ only (included by the .cu files). */
#ifndef STRATA_KERNELS_CUDA_HANDLES_H
#define STRATA_KERNELS_CUDA_HANDLES_H

#include <cublas_v2.h>
#include <cudnn.h>

/* The most GPUs one process addresses. */
#define ST_CUDA_MAX_DEVICES 64

/* Makes `dev` the calling thread's current device (kernels launch there).
 * Returns 0, or -1 with an error for a bad ordinal. */
int st_cuda_use_device(int dev);

/* The handle for `dev` (which becomes current). Returns 0, or -1 with an error. */
int st_cuda_cudnn(int dev, cudnnHandle_t *out);
int st_cuda_cublas(int dev, cublasHandle_t *out);

/* 1 when TF32 tensor-core math is allowed, else 0. */
int st_cuda_tf32_allowed(void);

#endif
