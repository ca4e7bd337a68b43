/* CUDA build: the core's device calls, on the CUDA runtime. */
#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "gpu.h"
#include "kernels/cuda/tf32.h"
#include "kernels/kernels.h"

static int count = -1;
static char reason[256];

int st_gpu_count(void) {
  if (count < 0) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
      snprintf(reason, sizeof reason, "no usable CUDA device (%s)", cudaGetErrorString(e));
      n = 0;
    } else if (n == 0) {
      snprintf(reason, sizeof reason, "no CUDA device found");
    }
    count = n;
  }
  return count;
}

const char *st_gpu_unavailable_reason(void) {
  st_gpu_count();
  return reason[0] ? reason : "CUDA device available";
}

void *st_gpu_malloc(int index, size_t nbytes) {
  void *p = NULL;
  if (cudaSetDevice(index) != cudaSuccess) return NULL;
  if (cudaMalloc(&p, nbytes) != cudaSuccess) {
    cudaGetLastError(); /* clear the sticky-free error so later calls work */
    return NULL;
  }
  return p;
}

void st_gpu_free(int index, void *ptr) {
  cudaSetDevice(index);
  cudaFree(ptr);
}

int st_gpu_memcpy(void *dst, st_device ddev, const void *src, st_device sdev, size_t nbytes) {
  if (ddev.kind == ST_CPU && sdev.kind == ST_CPU) {
    memmove(dst, src, nbytes);
    return 0;
  }
  enum cudaMemcpyKind kind = ddev.kind == ST_CPU ? cudaMemcpyDeviceToHost
                        : sdev.kind == ST_CPU ? cudaMemcpyHostToDevice
                                              : cudaMemcpyDeviceToDevice;
  cudaError_t e = cudaMemcpy(dst, src, nbytes, kind);
  if (e != cudaSuccess) return st_error("%s:%d: cudaMemcpy of %zu bytes failed: %s", __FILE__, __LINE__, nbytes, cudaGetErrorString(e));
  return 0;
}

int st_gpu_memset(void *dst, int index, int byte, size_t nbytes) {
  cudaSetDevice(index);
  cudaError_t e = cudaMemset(dst, byte, nbytes);
  if (e != cudaSuccess) return st_error("%s:%d: cudaMemset failed: %s", __FILE__, __LINE__, cudaGetErrorString(e));
  return 0;
}

int st_gpu_set_tf32(int on) { return st_cuda_set_tf32(on); }

const st_kernels *st_gpu_kernels(void) { return &st_cuda_kernels; }
