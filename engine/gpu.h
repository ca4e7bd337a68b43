/* The few CUDA runtime calls the core needs, behind plain C functions: a
 * CPU-only build links gpu_none.c, a CUDA build gpu_plugin.c, which loads
 * the CUDA backend (a plugin, engine/gpu_backend.h) on first use. */
#ifndef STRATA_GPU_H
#define STRATA_GPU_H

#include <stddef.h>

#include "device.h"

/* Number of usable devices (0 without a driver or in a CPU-only build). */
int st_gpu_count(void);
/* Why st_gpu_count() is 0, for the fallback message. */
const char *st_gpu_unavailable_reason(void);

void *st_gpu_malloc(int index, size_t nbytes); /* NULL on failure */
void st_gpu_free(int index, void *ptr);

/* Copies nbytes between any two devices; returns 0 or -1 with an error. */
int st_gpu_memcpy(void *dst, st_device ddev, const void *src, st_device sdev, size_t nbytes);
int st_gpu_memset(void *dst, int index, int byte, size_t nbytes);

/* Allows (on != 0) or forbids TF32 tensor-core math in GPU convolutions and
 * GEMMs (default: forbidden, unless STRATA_TF32=1). No effect in a CPU-only
 * build. Returns 0, or -1 with an error. */
int st_gpu_set_tf32(int on);

/* The CUDA backend's kernel table (kernels/kernels.h), or NULL in a CPU-only
 * build. Ops reach it through st_kernels_of (engine/ops/dispatch.h). */
struct st_kernels;
const struct st_kernels *st_gpu_kernels(void);

#endif
