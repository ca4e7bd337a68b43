/* Device dispatch: the one switch over device kinds that the ops share. */
#include "ops/dispatch.h"

#include "error.h"
#include "gpu.h"

const st_kernels *st_kernels_for(st_device d) {
  switch (d.kind) {
    case ST_CPU: return &st_cpu_kernels;
    case ST_CUDA: return st_gpu_kernels(); /* NULL in a CPU-only build (engine/gpu_none.c) or when the CUDA plugin cannot load */
  }
  return NULL;
}

const st_kernels *st_kernels_of(const st_tensor *t, int *dev, const char *fn) {
  st_device d = st_tensor_device(t);
  const st_kernels *k = st_kernels_for(d);
  if (!k) {
    st_no_kernel(fn, d);
    return NULL;
  }
  *dev = d.index;
  return k;
}

int st_no_kernel(const char *fn, st_device dev) {
  return st_error("%s: no kernel for tensors on %s in this build", fn, st_device_name(dev));
}

int st_check_kernel(const st_tensor *t, const char *fn) {
  st_device dev = st_tensor_device(t);
  return st_kernels_for(dev) ? 0 : st_no_kernel(fn, dev);
}
