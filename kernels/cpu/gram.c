/* CPU Gram matrices: SYRK for the forward (half the work of a GEMM, then the
 * upper triangle is mirrored), one GEMM per image for the backward. BLAS
 * threads internally, so images run one after another. */
#include "kernels/cpu/gram.h"

#include <cblas.h>

#include "kernels/cpu/blas_threads.h"

void st_cpu_gram_forward(float *g, const float *x, int64_t n, int64_t c, int64_t hw, float scale) {
  st_blas_ready();
  for (int64_t b = 0; b < n; b++) {
    float *gb = g + b * c * c;
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)c, (int)hw, scale, x + b * c * hw, (int)hw, 0.0f, gb,
                (int)c);
    for (int64_t i = 0; i < c; i++)
      for (int64_t j = i + 1; j < c; j++) gb[j * c + i] = gb[i * c + j];
  }
}

void st_cpu_gram_backward(float *dx, const float *dg, const float *x, int64_t n, int64_t c, int64_t hw, float scale,
                          float *sym) {
  st_blas_ready();
  for (int64_t b = 0; b < n; b++) {
    const float *d = dg + b * c * c;
    /* dg need not be symmetric (an arbitrary upstream gradient), so both
     * triangles' contributions are summed before the product. */
    for (int64_t i = 0; i < c; i++)
      for (int64_t j = 0; j < c; j++) sym[i * c + j] = d[i * c + j] + d[j * c + i];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c, (int)hw, (int)c, scale, sym, (int)c,
                x + b * c * hw, (int)hw, 0.0f, dx + b * c * hw, (int)hw);
  }
}
