/* Builds with the CUDA backend: engine/gpu.h on top of the plugin
 * lib/libstrata_cuda.so (engine/gpu_backend.h), dlopen()ed the first time a
 * CUDA device is asked for, so that CPU runs never map cuDNN, cuBLAS or the
 * CUDA runtime.
 *
 * Where the plugin is looked for, first found wins:
 *   $STRATA_CUDA_PLUGIN            an explicit path (.device/run.sh sets it);
 *   <home>/lib/libstrata_cuda.so for the executable <home>/<dir>/<name>
 *                                  (bin/strata -> lib/, as for lua/);
 *   the path the build wrote it to (ST_CUDA_PLUGIN_BUILT, from the Makefile),
 *   for the test programs under build/.
 * If it is missing or cannot be loaded (say libcudnn is not found), there is
 * no CUDA device, and the reason names the file and dlerror()'s message. */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "gpu.h"
#include "gpu_backend.h"
#include "kernels/kernels.h"

#ifndef ST_CUDA_PLUGIN_BUILT
#define ST_CUDA_PLUGIN_BUILT ""
#endif
#define PLUGIN_NAME "libstrata_cuda.so"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const st_gpu_backend *backend; /* NULL when the plugin could not be loaded */
static char load_error[PATH_MAX + 512];

/* Candidate i (0, 1, 2) into out; 0 when there is none. */
static int candidate(int i, char *out, size_t n) {
  if (i == 0) {
    const char *env = getenv("STRATA_CUDA_PLUGIN");
    if (!env || !*env) return 0;
    snprintf(out, n, "%s", env);
    return 1;
  }
  if (i == 1) {
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k <= 0) return 0;
    exe[k] = '\0';
    for (int up = 0; up < 2; up++) { /* <home>/bin/strata -> <home> */
      char *slash = strrchr(exe, '/');
      if (!slash) return 0;
      *slash = '\0';
    }
    return snprintf(out, n, "%s/lib/" PLUGIN_NAME, exe) < (int)n;
  }
  if (i == 2 && ST_CUDA_PLUGIN_BUILT[0]) {
    snprintf(out, n, "%s", ST_CUDA_PLUGIN_BUILT);
    return 1;
  }
  return 0;
}

static void load(void) {
  char path[PATH_MAX], tried[3 * PATH_MAX] = "";
  /* An explicit path is the only candidate: a wrong one is an error, not a
   * reason to pick up some other copy. */
  int last = getenv("STRATA_CUDA_PLUGIN") && *getenv("STRATA_CUDA_PLUGIN") ? 0 : 2;
  for (int i = 0; i <= last; i++) {
    if (!candidate(i, path, sizeof path)) continue;
    if (i > 0 && access(path, F_OK) != 0) {
      if (!strstr(tried, path)) { /* the build's path is often <home>/lib too */
        size_t len = strlen(tried);
        snprintf(tried + len, sizeof tried - len, "%s%s", len ? ", " : "", path);
      }
      continue;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char *why = dlerror();
      snprintf(load_error, sizeof load_error, "the CUDA backend %s cannot be loaded: %s", path,
               why ? why : "unknown dlopen error");
      return;
    }
    st_gpu_backend_entry entry = (st_gpu_backend_entry)dlsym(h, ST_GPU_BACKEND_ENTRY);
    const st_gpu_backend *b = entry ? entry() : NULL;
    if (!b) {
      snprintf(load_error, sizeof load_error, "the CUDA backend %s has no entry point %s", path,
               ST_GPU_BACKEND_ENTRY);
    } else if (b->abi != ST_GPU_BACKEND_ABI || b->kernels_size != sizeof(st_kernels)) {
      snprintf(load_error, sizeof load_error,
               "the CUDA backend %s was built from another version of strata (interface %d, expected %d); "
               "rebuild it with this binary",
               path, b->abi, ST_GPU_BACKEND_ABI);
    } else {
      backend = b;
      return;
    }
    dlclose(h);
    return;
  }
  snprintf(load_error, sizeof load_error, "the CUDA backend " PLUGIN_NAME " is missing (looked for %s)",
           tried[0] ? tried : "nothing: no path to look in");
}

static const st_gpu_backend *get(void) {
  pthread_once(&once, load);
  return backend;
}

int st_gpu_count(void) { return get() ? backend->count() : 0; }

const char *st_gpu_unavailable_reason(void) { return get() ? backend->unavailable_reason() : load_error; }

void *st_gpu_malloc(int index, size_t nbytes) { return get() ? backend->malloc(index, nbytes) : NULL; }

void st_gpu_free(int index, void *ptr) {
  if (get()) backend->free(index, ptr);
}

int st_gpu_memcpy(void *dst, st_device ddev, const void *src, st_device sdev, size_t nbytes) {
  if (ddev.kind == ST_CPU && sdev.kind == ST_CPU) { /* every CPU run's copies: no plugin needed */
    memmove(dst, src, nbytes);
    return 0;
  }
  if (!get()) return st_error("%s", load_error);
  return backend->memcpy(dst, ddev, src, sdev, nbytes);
}

int st_gpu_memset(void *dst, int index, int byte, size_t nbytes) {
  if (!get()) return st_error("%s", load_error);
  return backend->memset(dst, index, byte, nbytes);
}

int st_gpu_set_tf32(int on) {
  if (!get()) return 0; /* as in a CPU-only build: nothing computes in TF32 */
  return backend->set_tf32(on);
}

const struct st_kernels *st_gpu_kernels(void) { return get() ? backend->kernels : NULL; }
