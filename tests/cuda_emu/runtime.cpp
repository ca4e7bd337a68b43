/* CUDA emulator: devices, device memory, errors and counts (see
 * include/cuda_runtime.h).
 *
 * Device memory comes from malloc and is tracked by address, so every copy,
 * memset and kernel pointer argument can be checked against it. Knobs for
 * tests: STRATA_CUDA_EMU_DEVICES (how many devices, default 1; 0 = no device;
 * CUDA_VISIBLE_DEVICES narrows them as on a GPU machine) and
 * STRATA_CUDA_EMU_MEMORY (bytes per device, default 4 GiB).
 * STRATA_CUDA_EMU_STATS=FILE writes at exit what the program asked of the
 * "GPU": cudaMalloc calls, copies by direction (a device-to-host copy is a
 * synchronisation on a real GPU), kernel launches by kernel, cuDNN and
 * cuBLAS calls: the counts that decide GPU throughput beside the FLOPs. */
#include <cuda_runtime.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <mutex>

namespace {

struct allocation {
  size_t size;
  int device;
};

std::mutex lock;
std::map<std::string, long> &counts = *new std::map<std::string, long>; /* never destroyed: read at exit */

void write_stats() {
  const char *path = getenv("STRATA_CUDA_EMU_STATS");
  FILE *f = path && *path ? fopen(path, "w") : nullptr;
  if (!f) return;
  for (const auto &kv : counts) fprintf(f, "%s %ld\n", kv.first.c_str(), kv.second);
  fclose(f);
}

struct stats_at_exit {
  stats_at_exit() { atexit(write_stats); }
} stats_registration;
std::map<uintptr_t, allocation> live; /* start address -> allocation */
size_t in_use[16];
int current_device;
cudaError_t last_error = cudaSuccess;

long env_long(const char *name, long dflt) {
  const char *s = getenv(name);
  return s && *s ? strtol(s, nullptr, 0) : dflt;
}

/* STRATA_CUDA_EMU_DEVICES, narrowed by CUDA_VISIBLE_DEVICES as the driver
 * does: the listed ordinals, up to the first that does not exist. */
int device_count() {
  long n = env_long("STRATA_CUDA_EMU_DEVICES", 1);
  n = n < 0 ? 0 : n > 16 ? 16 : n;
  const char *vis = getenv("CUDA_VISIBLE_DEVICES");
  if (!vis) return (int)n;
  int seen = 0;
  for (const char *p = vis; *p;) {
    char *end;
    long i = strtol(p, &end, 10);
    if (end == p || i < 0 || i >= n) break;
    seen++;
    p = *end == ',' ? end + 1 : end;
    if (*end != ',' && *end) break;
  }
  return seen;
}

size_t capacity() { return (size_t)env_long("STRATA_CUDA_EMU_MEMORY", 4l << 30); }

cudaError_t fail(cudaError_t e) {
  last_error = e;
  return e;
}

/* The allocation holding [p, p + bytes), or live.end(). Caller holds lock. */
std::map<uintptr_t, allocation>::iterator find(const void *p, size_t bytes) {
  uintptr_t a = (uintptr_t)p;
  auto it = live.upper_bound(a);
  if (it == live.begin()) return live.end();
  --it;
  if (a + bytes > it->first + it->second.size || bytes > it->second.size) return live.end();
  return it;
}

}  // namespace

extern "C" {

void st_emu_fatal(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("cuda emulator: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  abort();
}

void st_emu_count(const char *what, long n) {
  std::lock_guard<std::mutex> g(lock);
  counts[what] += n;
}

int st_emu_is_device(const void *p, size_t bytes) {
  std::lock_guard<std::mutex> g(lock);
  return find(p, bytes ? bytes : 1) != live.end();
}

cudaError_t cudaGetDeviceCount(int *count) {
  *count = device_count();
  return *count > 0 ? cudaSuccess : fail(cudaErrorNoDevice);
}

cudaError_t cudaGetDevice(int *device) {
  if (device_count() == 0) return fail(cudaErrorNoDevice);
  *device = current_device;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  if (device < 0 || device >= device_count()) return fail(cudaErrorInvalidDevice);
  current_device = device;
  return cudaSuccess;
}

cudaError_t cudaMalloc(void **ptr, size_t size) {
  *ptr = nullptr;
  if (device_count() == 0) return fail(cudaErrorNoDevice);
  std::lock_guard<std::mutex> g(lock);
  if (size > capacity() - in_use[current_device]) return fail(cudaErrorMemoryAllocation);
  /* NaN bytes, not zeros: code that reads memory it never wrote shows it. */
  void *p = malloc(size ? size : 1);
  if (!p) return fail(cudaErrorMemoryAllocation);
  memset(p, 0xff, size);
  live[(uintptr_t)p] = allocation{size, current_device};
  counts["cudaMalloc"]++;
  counts["cudaMalloc.bytes"] += (long)size;
  in_use[current_device] += size;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFree(void *ptr) {
  if (!ptr) return cudaSuccess;
  std::lock_guard<std::mutex> g(lock);
  auto it = live.find((uintptr_t)ptr);
  if (it == live.end()) st_emu_fatal("cudaFree(%p): not the start of a live device allocation", ptr);
  in_use[it->second.device] -= it->second.size;
  live.erase(it);
  free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind) {
  if (count == 0) return cudaSuccess;
  const int dst_dev = st_emu_is_device(dst, count), src_dev = st_emu_is_device(src, count);
  const int dst_touches = st_emu_is_device(dst, 1), src_touches = st_emu_is_device(src, 1);
  int want_dst, want_src;
  switch (kind) {
    case cudaMemcpyHostToDevice: want_dst = 1, want_src = 0; break;
    case cudaMemcpyDeviceToHost: want_dst = 0, want_src = 1; break;
    case cudaMemcpyDeviceToDevice: want_dst = 1, want_src = 1; break;
    case cudaMemcpyHostToHost: want_dst = 0, want_src = 0; break;
    default: want_dst = dst_touches, want_src = src_touches; break;
  }
  if ((want_dst && !dst_dev) || (want_src && !src_dev) || (!want_dst && dst_touches) || (!want_src && src_touches))
    st_emu_fatal("cudaMemcpy(%p, %p, %zu, kind %d): dst is %s, src is %s", dst, src, count, (int)kind,
                 dst_dev ? "device memory" : dst_touches ? "device memory too short for the copy" : "host memory",
                 src_dev ? "device memory" : src_touches ? "device memory too short for the copy" : "host memory");
  memmove(dst, src, count);
  static const char *const names[5] = {"cudaMemcpy.host_to_host", "cudaMemcpy.host_to_device",
                                       "cudaMemcpy.device_to_host", "cudaMemcpy.device_to_device",
                                       "cudaMemcpy.default"};
  st_emu_count(names[(int)kind >= 0 && (int)kind < 5 ? (int)kind : 4], 1);
  return cudaSuccess;
}

cudaError_t cudaMemset(void *ptr, int value, size_t count) {
  if (count == 0) return cudaSuccess;
  if (!st_emu_is_device(ptr, count))
    st_emu_fatal("cudaMemset(%p, %d, %zu): not (enough) device memory", ptr, value, count);
  memset(ptr, value, count);
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }

cudaError_t cudaGetLastError(void) {
  cudaError_t e = last_error;
  last_error = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError(void) { return last_error; }

/* Sets the error the next cudaGetLastError returns (bad launch configurations). */
void st_emu_set_last_error(cudaError_t e) { last_error = e; }

const char *cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected (emulator: STRATA_CUDA_EMU_DEVICES=0)";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
  }
  return "unrecognized error code";
}

}  // extern "C"
