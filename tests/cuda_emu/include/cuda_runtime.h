/* CUDA emulator (tests/cuda_emu): the subset of the CUDA runtime API that
 * strata uses, run on the CPU so that kernels/cuda and engine/gpu_cuda.c can
 * be tested on machines without a GPU. It stands in for the real
 * <cuda_runtime.h> only in the emulated build (make test-cuda-emu).
 *
 * "Device" memory is host memory that the emulator tracks: copies, memsets
 * and kernel pointer arguments are checked against it, so a host pointer
 * passed where device memory belongs is caught as it would crash on a GPU.
 * Kernels run block by block; threads of a block run as fibers so that
 * __syncthreads and warp shuffles have their real meaning (see grid.cpp). */
#ifndef STRATA_CUDA_EMU_RUNTIME_H
#define STRATA_CUDA_EMU_RUNTIME_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

typedef enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchFailure = 719
} cudaError_t;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4
};

#ifdef __cplusplus
extern "C" {
#endif
cudaError_t cudaGetDeviceCount(int *count);
cudaError_t cudaGetDevice(int *device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaMalloc(void **ptr, size_t size);
cudaError_t cudaFree(void *ptr);
cudaError_t cudaMemcpy(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind);
cudaError_t cudaMemset(void *ptr, int value, size_t count);
cudaError_t cudaDeviceSynchronize(void);
cudaError_t cudaGetLastError(void);
cudaError_t cudaPeekAtLastError(void);
const char *cudaGetErrorString(cudaError_t error);

/* Emulator internals shared with the cuDNN / cuBLAS stand-ins. */
/* Whether [p, p + bytes) lies inside one live device allocation. */
int st_emu_is_device(const void *p, size_t bytes);
/* Adds n to the count named `what` (STRATA_CUDA_EMU_STATS, runtime.cpp). */
void st_emu_count(const char *what, long n);
/* Reports a misuse the hardware would fault on, then aborts. */
void st_emu_fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
/* ---- the kernel side (C++ only, like CUDA) ---- */
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
/* Blocks run one after another, so one static copy serves as each block's
 * shared memory. */
#define __shared__ static
#define __restrict__ __restrict

struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
extern uint3 threadIdx, blockIdx;
extern dim3 blockDim, gridDim;

void __syncthreads(void);
/* One warp-wide exchange of 8 bytes; every lane of the warp must call it. */
uint64_t st_emu_warp_exchange(uint64_t mine, int from_lane, unsigned mask);

template <typename T>
inline T __shfl_down_sync(unsigned mask, T v, unsigned delta) {
  static_assert(sizeof(T) <= 8, "__shfl_down_sync of a type wider than 8 bytes");
  uint64_t bits = 0, got;
  std::memcpy(&bits, &v, sizeof v);
  const int lane = (int)(threadIdx.x & 31u);
  got = st_emu_warp_exchange(bits, lane + (int)delta, mask);
  T r;
  std::memcpy(&r, &got, sizeof r);
  return r;
}

/* IEEE round-to-nearest intrinsics are the plain host operations. */
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return sqrtf(a); }

/* Runs body() for every thread of the grid (see grid.cpp). */
void st_emu_run_grid(const char *kernel, dim3 grid, dim3 block, void (*body)(void *), void *ctx);

template <typename F, typename Tuple>
struct st_emu_call {
  F fn;
  Tuple *args;
  static void run(void *self) {
    st_emu_call *c = (st_emu_call *)self;
    std::apply(c->fn, *c->args); /* by value: each thread gets its own copies */
  }
};

/* A pointer argument must be null or point into device memory. */
template <typename T>
inline void st_emu_check_arg(const char *kernel, int i, const T &a) {
  if constexpr (std::is_pointer<T>::value) {
    if (a != nullptr && !st_emu_is_device((const void *)a, 1))
      st_emu_fatal("kernel %s: pointer argument %d (%p) is not device memory", kernel, i, (const void *)a);
  }
}

template <typename... P>
struct st_emu_launcher {
  void (*kernel)(P...);
  const char *name;
  dim3 grid, block;
  template <typename... A>
  void operator()(A &&...a) const {
    static_assert(sizeof...(A) == sizeof...(P), "kernel launched with the wrong number of arguments");
    std::tuple<P...> args(std::forward<A>(a)...);
    int i = 0;
    std::apply([&](const P &...p) { (st_emu_check_arg(name, i++, p), ...); }, args);
    st_emu_call<void (*)(P...), std::tuple<P...>> c{kernel, &args};
    st_emu_run_grid(name, grid, block, &st_emu_call<void (*)(P...), std::tuple<P...>>::run, &c);
  }
};

template <typename... P>
inline st_emu_launcher<P...> st_emu_launch_(void (*kernel)(P...), const char *name, dim3 grid, dim3 block) {
  return st_emu_launcher<P...>{kernel, name, grid, block};
}
/* `k<<<grid, block>>>(args)` is rewritten to `st_emu_launch(k, grid, block)(args)`
 * by the emulated build (mk/cuda_emu.mk). */
#define st_emu_launch(k, ...) st_emu_launch_(k, #k, __VA_ARGS__)
#endif /* __cplusplus */

#endif
