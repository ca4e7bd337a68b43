/* The CUDA plugin's device calls, on the CUDA runtime, and its one entry
 * point (engine/gpu_backend.h): built into lib/libstrata_cuda.so with
 * kernels/cuda, loaded by engine/gpu_plugin.c. */
#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "gpu_backend.h"
#include "kernels/cuda/tf32.h"
#include "kernels/kernels.h"

static int count = -1;
static char reason[256];

static int count_devices(void) {
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

static const char *unavailable_reason(void) {
  count_devices();
  return reason[0] ? reason : "CUDA device available";
}

static void *gpu_malloc(int index, size_t nbytes) {
  void *p = NULL;
  if (cudaSetDevice(index) != cudaSuccess) return NULL;
  if (cudaMalloc(&p, nbytes) != cudaSuccess) {
    cudaGetLastError(); /* clear the sticky-free error so later calls work */
    return NULL;
  }
  return p;
}

static void gpu_free(int index, void *ptr) {
  cudaSetDevice(index);
  cudaFree(ptr);
}

static int gpu_memcpy(void *dst, st_device ddev, const void *src, st_device sdev, size_t nbytes) {
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

static int gpu_memset(void *dst, int index, int byte, size_t nbytes) {
  cudaSetDevice(index);
  cudaError_t e = cudaMemset(dst, byte, nbytes);
  if (e != cudaSuccess) return st_error("%s:%d: cudaMemset failed: %s", __FILE__, __LINE__, cudaGetErrorString(e));
  return 0;
}

static const st_gpu_backend backend = {
    .abi = ST_GPU_BACKEND_ABI,
    .kernels_size = sizeof(st_kernels),
    .count = count_devices,
    .unavailable_reason = unavailable_reason,
    .malloc = gpu_malloc,
    .free = gpu_free,
    .memcpy = gpu_memcpy,
    .memset = gpu_memset,
    .set_tf32 = st_cuda_set_tf32,
    .kernels = &st_cuda_kernels,
};

/* The plugin's only exported symbol (kernels/cuda/plugin.map). */
const st_gpu_backend *st_cuda_backend(void) { return &backend; }
