/* The CUDA emulator checks itself: kernels see the thread and block indices
 * CUDA gives them; block sums (kernels/cuda/reduce.h) and warp shuffles give
 * CUDA's results; fresh device memory reads as NaN; a bad launch
 * configuration is an error from cudaGetLastError and runs nothing; device
 * memory has a capacity; and the misuses a GPU would fault or hang on stop
 * the program with a message (divergent __syncthreads, a host pointer given
 * to a kernel, a copy in the wrong direction or past an allocation's end).
 * Built and run only by make test-cuda-emu. */
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <cublas_v2.h>

#include "kernels/cuda/launch.h"
#include "kernels/cuda/reduce.h"
#include "tap.h"

__global__ void iota_kernel(float *y, int64_t n) {
  ST_CUDA_GRID_LOOP(i, n) y[i] = (float)i;
}

/* out[b] = sum over the block's threads of (global thread index + 1). */
__global__ void block_sum_kernel(double *out) {
  double a = (double)(blockIdx.x * blockDim.x + threadIdx.x + 1), b = 1.0;
  st_block_sum2(a, b);
  if (threadIdx.x == 0) out[blockIdx.x * 2] = a, out[blockIdx.x * 2 + 1] = b;
}

__global__ void shuffle_kernel(int *out, unsigned delta) {
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, (int)threadIdx.x * 10, delta);
}

__global__ void index_kernel(int *out) {
  const int t = (int)(threadIdx.z * blockDim.y * blockDim.x + threadIdx.y * blockDim.x + threadIdx.x);
  const int b = (int)(blockIdx.y * gridDim.x + blockIdx.x);
  out[(b * blockDim.x * blockDim.y * blockDim.z + t) * 2] = (int)threadIdx.x + 100 * (int)threadIdx.y;
  out[(b * blockDim.x * blockDim.y * blockDim.z + t) * 2 + 1] = (int)blockIdx.x + 100 * (int)blockIdx.y;
}

__global__ void divergent_kernel(float *y) {
  if (threadIdx.x == 0) __syncthreads();
  y[threadIdx.x] = 1.0f;
}

__global__ void late_sync_kernel(float *y) {
  if (blockIdx.x == 1) __syncthreads();
  y[threadIdx.x] = 1.0f;
}

template <typename T>
static T *device_alloc(size_t n) {
  void *p = nullptr;
  if (cudaMalloc(&p, n * sizeof(T)) != cudaSuccess) {
    tap_diag("cudaMalloc failed");
    exit(1);
  }
  return (T *)p;
}

template <typename T>
static std::vector<T> to_host(const T *d, size_t n) {
  std::vector<T> h(n);
  cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost);
  return h;
}

/* Runs fn in a child process; ok when it aborts with `expect` in its stderr. */
template <typename F>
static void expect_fatal(F fn, const char *expect, const char *what) {
  int fds[2];
  if (pipe(fds) != 0) {
    tap_ok(0, "%s: pipe", what);
    return;
  }
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 2);
    close(fds[0]);
    fn();
    _exit(0);
  }
  close(fds[1]);
  std::string err;
  char buf[512];
  ssize_t r;
  while ((r = read(fds[0], buf, sizeof buf)) > 0) err.append(buf, (size_t)r);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  const bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
  if (!tap_ok(aborted && err.find(expect) != std::string::npos, "%s", what))
    tap_diag("child status %d, stderr: %s", status, err.c_str());
}

int main() {
  int n = 0;
  cudaError_t ce = cudaGetDeviceCount(&n);
  tap_ok(ce == cudaSuccess && n == 1, "one emulated device (%d)", n);
  setenv("STRATA_CUDA_EMU_DEVICES", "3", 1);
  setenv("CUDA_VISIBLE_DEVICES", "2,0", 1);
  ce = cudaGetDeviceCount(&n);
  tap_ok(ce == cudaSuccess && n == 2, "CUDA_VISIBLE_DEVICES=2,0 of 3 shows 2 (%d)", n);
  setenv("CUDA_VISIBLE_DEVICES", "1,7,0", 1);
  ce = cudaGetDeviceCount(&n);
  tap_ok(ce == cudaSuccess && n == 1, "the list stops at an ordinal that does not exist (%d)", n);
  unsetenv("CUDA_VISIBLE_DEVICES");
  unsetenv("STRATA_CUDA_EMU_DEVICES");

  /* Grid-stride loop over more elements than the capped grid has threads. */
  const int64_t big = (int64_t)ST_CUDA_THREADS * ST_CUDA_MAX_BLOCKS + 12345;
  float *y = device_alloc<float>((size_t)big);
  iota_kernel<<<st_cuda_blocks(big), ST_CUDA_THREADS>>>(y, big);
  std::vector<float> h = to_host(y, (size_t)big);
  int64_t bad = -1;
  for (int64_t i = 0; i < big && bad < 0; i++)
    if (h[(size_t)i] != (float)i) bad = i;
  tap_ok(bad < 0, "a capped grid-stride launch writes all %lld elements (first wrong: %lld)", (long long)big,
         (long long)bad);
  cudaFree(y);

  /* Block sums for block sizes 32, 256, 1024. */
  for (unsigned threads : {32u, 256u, 1024u}) {
    const unsigned blocks = 3;
    double *out = device_alloc<double>(2 * blocks);
    block_sum_kernel<<<blocks, threads>>>(out);
    std::vector<double> s = to_host(out, 2 * blocks);
    bool good = true;
    for (unsigned b = 0; b < blocks; b++) {
      const double lo = (double)b * threads + 1, hi = (double)(b + 1) * threads;
      good = good && s[2 * b] == (lo + hi) * threads / 2 && s[2 * b + 1] == threads;
    }
    tap_ok(good, "st_block_sum2 sums both values over blocks of %u threads", threads);
    cudaFree(out);
  }

  /* __shfl_down_sync: lane i reads lane i + delta; the last lanes keep their own. */
  int *sh = device_alloc<int>(64);
  shuffle_kernel<<<1, 64>>>(sh, 5);
  std::vector<int> s = to_host(sh, 64);
  bool good = true;
  for (int t = 0; t < 64; t++) {
    const int lane = t % 32, want = lane + 5 < 32 ? (t + 5) * 10 : t * 10;
    good = good && s[(size_t)t] == want;
  }
  tap_ok(good, "__shfl_down_sync by 5 over two warps");
  cudaFree(sh);

  /* Multi-dimensional blocks and grids. */
  int *ix = device_alloc<int>(2 * 6 * 32);
  index_kernel<<<dim3(3, 2), dim3(8, 4)>>>(ix);
  std::vector<int> iv = to_host(ix, 2 * 6 * 32);
  good = true;
  for (int b = 0; b < 6; b++)
    for (int t = 0; t < 32; t++) {
      const int k = (b * 32 + t) * 2;
      good = good && iv[(size_t)k] == t % 8 + 100 * (t / 8) && iv[(size_t)k + 1] == b % 3 + 100 * (b / 3);
    }
  tap_ok(good, "threadIdx / blockIdx in a 3x2 grid of 8x4 blocks");
  cudaFree(ix);

  /* Fresh device memory is NaN: reading unwritten memory shows. */
  float *fresh = device_alloc<float>(16);
  std::vector<float> fv = to_host(fresh, 16);
  tap_ok(std::isnan(fv[0]) && std::isnan(fv[15]), "fresh device memory reads as NaN");

  /* A bad configuration is reported by cudaGetLastError and runs nothing. */
  cudaMemset(fresh, 0, 16 * sizeof(float));
  iota_kernel<<<1, 2048>>>(fresh, 16);
  const cudaError_t e = cudaGetLastError();
  tap_ok(e == cudaErrorInvalidConfiguration, "a 2048-thread block: %s", cudaGetErrorString(e));
  tap_ok(cudaGetLastError() == cudaSuccess, "cudaGetLastError clears the error");
  fv = to_host(fresh, 16);
  tap_ok(fv[5] == 0.0f, "the badly configured kernel did not run");

  /* Capacity. */
  setenv("STRATA_CUDA_EMU_MEMORY", "1000000", 1);
  void *p = nullptr;
  tap_ok(cudaMalloc(&p, 2000000) == cudaErrorMemoryAllocation && p == nullptr,
         "an allocation over STRATA_CUDA_EMU_MEMORY fails with out of memory");
  cudaGetLastError();
  unsetenv("STRATA_CUDA_EMU_MEMORY");

  /* cuBLAS: a small product with transposes, and TF32 rounding when asked for. */
  cublasHandle_t hb;
  cublasCreate(&hb);
  float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 0, 2, 1, 0, 3}; /* column-major */
  float *dA = device_alloc<float>(6), *dB = device_alloc<float>(6), *dC = device_alloc<float>(4);
  cudaMemcpy(dA, A, sizeof A, cudaMemcpyHostToDevice);
  cudaMemcpy(dB, B, sizeof B, cudaMemcpyHostToDevice);
  const float one = 1.0f, zero = 0.0f;
  /* C (2x2) = A^T (2x3) * B (3x2), A 3x2 with lda 3. */
  cublasStatus_t st = cublasSgemmStridedBatched(hb, CUBLAS_OP_T, CUBLAS_OP_N, 2, 2, 3, &one, dA, 3, 6, dB, 3, 6, &zero,
                                                dC, 2, 4, 1);
  std::vector<float> c = to_host(dC, 4);
  tap_ok(st == CUBLAS_STATUS_SUCCESS && c[0] == 7 && c[1] == 16 && c[2] == 10 && c[3] == 22,
         "cuBLAS A^T B, column-major (%g %g %g %g)", c[0], c[1], c[2], c[3]);
  const float tiny[2] = {1.0f + 1.0f / 4096, 1.0f};
  cudaMemcpy(dA, tiny, sizeof tiny, cudaMemcpyHostToDevice);
  cudaMemcpy(dB, tiny + 1, sizeof(float), cudaMemcpyHostToDevice);
  cublasSetMathMode(hb, CUBLAS_TF32_TENSOR_OP_MATH);
  cublasSgemmStridedBatched(hb, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, dA, 1, 1, dB, 1, 1, &zero, dC, 1, 1, 1);
  c = to_host(dC, 1);
  tap_ok(c[0] == 1.0f, "TF32 math rounds 1 + 2^-12 to 1 (%.9g)", c[0]);
  cublasSetMathMode(hb, CUBLAS_DEFAULT_MATH);
  cublasSgemmStridedBatched(hb, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, dA, 1, 1, dB, 1, 1, &zero, dC, 1, 1, 1);
  c = to_host(dC, 1);
  tap_ok(c[0] == tiny[0], "default math keeps float32 (%.9g)", c[0]);
  st = cublasSgemmStridedBatched(hb, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, dA, 1, 6, dB, 3, 6, &zero, dC, 2, 4, 1);
  tap_ok(st == CUBLAS_STATUS_INVALID_VALUE, "lda smaller than m is CUBLAS_STATUS_INVALID_VALUE");
  cublasDestroy(hb);
  cudaFree(dA);
  cudaFree(dB);
  cudaFree(dC);
  cudaFree(fresh);

  /* Misuses that fault or hang on a GPU stop the program with a message. */
  float *d16 = device_alloc<float>(16);
  expect_fatal([&] { divergent_kernel<<<1, 16>>>(d16); }, "divergent __syncthreads",
               "a __syncthreads only thread 0 reaches stops with a message");
  expect_fatal([&] { late_sync_kernel<<<2, 16>>>(d16); }, "although the first block run reached none",
               "a barrier only in a later block stops with a message");
  std::vector<float> host(16);
  expect_fatal([&] { iota_kernel<<<1, 16>>>(host.data(), 16); }, "is not device memory",
               "a host pointer given to a kernel stops with a message");
  expect_fatal([&] { cudaMemcpy(host.data(), d16, 16 * sizeof(float), cudaMemcpyHostToDevice); },
               "dst is host memory", "a copy in the wrong direction stops with a message");
  expect_fatal([&] { cudaMemcpy(host.data(), d16, 17 * sizeof(float), cudaMemcpyDeviceToHost); },
               "too short for the copy", "a copy past the end of an allocation stops with a message");
  expect_fatal([&] { cudaFree(d16 + 1); }, "not the start of a live device allocation",
               "freeing a pointer that cudaMalloc did not return stops with a message");
  cudaFree(d16);
  return tap_done();
}
