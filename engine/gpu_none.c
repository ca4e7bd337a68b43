/* CPU-only build: there is no GPU. */
#include <string.h>

#include "error.h"
#include "gpu.h"

int st_gpu_count(void) { return 0; }
const char *st_gpu_unavailable_reason(void) { return "this build of strata has no CUDA backend (built with CUDA=0 or without nvcc)"; }
void *st_gpu_malloc(int index, size_t nbytes) { (void)index; (void)nbytes; return NULL; }
void st_gpu_free(int index, void *ptr) { (void)index; (void)ptr; }

int st_gpu_memcpy(void *dst, st_device ddev, const void *src, st_device sdev, size_t nbytes) {
  if (ddev.kind != ST_CPU || sdev.kind != ST_CPU) return st_error("%s", st_gpu_unavailable_reason());
  memmove(dst, src, nbytes);
  return 0;
}

int st_gpu_memset(void *dst, int index, int byte, size_t nbytes) {
  (void)dst; (void)index; (void)byte; (void)nbytes;
  return st_error("%s", st_gpu_unavailable_reason());
}

int st_gpu_set_tf32(int on) {
  (void)on; /* TF32 is a GPU tensor-core format; the CPU build always computes in float32 */
  return 0;
}

const struct st_kernels *st_gpu_kernels(void) { return NULL; /* no CUDA kernels in this build */ }
