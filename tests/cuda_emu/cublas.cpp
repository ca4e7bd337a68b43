/* CUDA emulator: cuBLAS stand-in (see include/cublas_v2.h). A plain
 * column-major triple loop in double: slow, but independent of the CPU
 * backend's BLAS, and the emulated tests only use modest sizes. */
#include <cublas_v2.h>

#include <vector>

#include "tf32.h"

struct st_emu_cublas_context {
  cublasMath_t math;
};

extern "C" {

const char *cublasGetStatusString(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

cublasStatus_t cublasCreate(cublasHandle_t *handle) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) return CUBLAS_STATUS_NOT_INITIALIZED;
  *handle = new st_emu_cublas_context{CUBLAS_DEFAULT_MATH};
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->math = mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t ta, cublasOperation_t tb, int m,
                                         int n, int k, const float *alpha, const float *A, int lda,
                                         long long stride_a, const float *B, int ldb, long long stride_b,
                                         const float *beta, float *C, int ldc, long long stride_c, int batch) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  const bool at = ta != CUBLAS_OP_N, bt = tb != CUBLAS_OP_N;
  /* cuBLAS's own argument rules (column-major, op(A) is m x k, op(B) k x n). */
  if (m < 0 || n < 0 || k < 0 || batch < 0 || lda < (at ? k : m) || lda < 1 || ldb < (bt ? n : k) || ldb < 1 ||
      ldc < m || ldc < 1)
    return CUBLAS_STATUS_INVALID_VALUE;
  if (m == 0 || n == 0 || batch == 0) return CUBLAS_STATUS_SUCCESS;
  st_emu_count("cublasSgemmStridedBatched", 1);
  /* Every element each operand spans must be device memory. */
  const long long a_cols = at ? m : k, b_cols = bt ? k : n;
  const size_t a_span = (size_t)((batch - 1) * stride_a + (a_cols - 1) * (long long)lda + (at ? k : m)) * 4;
  const size_t b_span = (size_t)((batch - 1) * stride_b + (b_cols - 1) * (long long)ldb + (bt ? n : k)) * 4;
  const size_t c_span = (size_t)((batch - 1) * stride_c + (n - 1) * (long long)ldc + m) * 4;
  if ((k > 0 && (!st_emu_is_device(A, a_span) || !st_emu_is_device(B, b_span))) || !st_emu_is_device(C, c_span))
    st_emu_fatal("cublasSgemmStridedBatched: an operand is not (enough) device memory (A %p, B %p, C %p)",
                 (const void *)A, (const void *)B, (void *)C);
  const bool tf32 = handle->math == CUBLAS_TF32_TENSOR_OP_MATH;
  const float a0 = *alpha, b0 = *beta;
  for (int b = 0; b < batch; b++) {
    const float *Ab = A + b * stride_a, *Bb = B + b * stride_b;
    float *Cb = C + b * stride_c;
    for (int j = 0; j < n; j++)
      for (int i = 0; i < m; i++) {
        double s = 0.0;
        for (int p = 0; p < k; p++) {
          float av = at ? Ab[i * (long long)lda + p] : Ab[p * (long long)lda + i];
          float bv = bt ? Bb[p * (long long)ldb + j] : Bb[j * (long long)ldb + p];
          if (tf32) av = st_emu_tf32(av), bv = st_emu_tf32(bv);
          s += (double)av * bv;
        }
        float &c = Cb[j * (long long)ldc + i];
        /* beta == 0: C is not read (it may hold NaN). */
        c = (float)(a0 * s + (b0 == 0.0f ? 0.0 : (double)b0 * c));
      }
  }
  return CUBLAS_STATUS_SUCCESS;
}

}  // extern "C"
