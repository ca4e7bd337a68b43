/* The CUDA backend as a plugin: what lib/libstrata_cuda.so hands the core.
 *
 * Why a plugin: linking cuDNN, cuBLAS and the CUDA runtime into bin/strata
 * made every start map ~230 MB of libraries and spend ~0.15 s in the dynamic
 * loader, on CPU runs too. So engine/gpu_cuda.c and the kernels/cuda files are built
 * into a shared object that engine/gpu_plugin.c dlopen()s the first time a
 * CUDA device is asked for; CPU runs never load it.
 *
 * The plugin exports one symbol, ST_GPU_BACKEND_ENTRY, a function returning
 * this table. It imports from the core only the functions named in
 * engine/gpu_exports.list (bin/strata and the test programs export them).
 * Both sides are built from the same tree; `abi` catches a stale plugin. */
#ifndef STRATA_GPU_BACKEND_H
#define STRATA_GPU_BACKEND_H

#include <stddef.h>

#include "device.h"

#define ST_GPU_BACKEND_ENTRY "st_cuda_backend"
/* Raise when this struct or kernels/kernels.h changes. */
#define ST_GPU_BACKEND_ABI 1

struct st_kernels;

typedef struct st_gpu_backend {
  int abi;            /* ST_GPU_BACKEND_ABI of the plugin's build */
  size_t kernels_size; /* sizeof(st_kernels) in the plugin's build */
  /* The calls of engine/gpu.h, with the same meaning. */
  int (*count)(void);
  const char *(*unavailable_reason)(void);
  void *(*malloc)(int index, size_t nbytes);
  void (*free)(int index, void *ptr);
  int (*memcpy)(void *dst, st_device ddev, const void *src, st_device sdev, size_t nbytes);
  int (*memset)(void *dst, int index, int byte, size_t nbytes);
  int (*set_tf32)(int on);
  const struct st_kernels *kernels;
} st_gpu_backend;

typedef const st_gpu_backend *(*st_gpu_backend_entry)(void);

#endif
