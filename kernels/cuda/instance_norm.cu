/* Instance norm (CUDA): one block per (n, c) plane.
 *
 * Statistics in double and in two passes (mean, then squared deviations), so
 * planes of raw 0..255 values far from zero keep their digits; the plane is
 * re-read from L2. Parameter gradients go through per-plane sums that a
 * second kernel adds over n in a fixed order: reproducible, no atomics. */
#include "kernels/cuda/instance_norm.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"
#include "kernels/cuda/reduce.h"

extern "C" {
#include "engine/device.h"
#include "engine/memory.h"
}

#define IN_THREADS 512

__global__ void instance_norm_forward_kernel(float *y, float *mean, float *rstd, const float *x, const float *gamma,
                                             const float *beta, int64_t C, int64_t HW, float eps) {
  const int64_t p = blockIdx.x;
  const float *xp = x + p * HW;
  float *yp = y + p * HW;
  double s = 0.0, unused = 0.0;
  for (int64_t i = threadIdx.x; i < HW; i += blockDim.x) s += (double)xp[i];
  st_block_sum2(s, unused);
  const double m = s / (double)HW;
  double ss = 0.0;
  unused = 0.0;
  for (int64_t i = threadIdx.x; i < HW; i += blockDim.x) {
    double d = (double)xp[i] - m;
    ss += d * d;
  }
  st_block_sum2(ss, unused);
  const double r = 1.0 / sqrt(ss / (double)HW + (double)eps);
  if (threadIdx.x == 0) {
    if (mean) mean[p] = (float)m;
    if (rstd) rstd[p] = (float)r;
  }
  /* The mean as a float pair hi + lo: x - hi is exact for x near the mean
   * (Sterbenz), so y keeps its precision even when |mean| >> std. Same
   * expression as the CPU kernel. */
  const int64_t c = p % C;
  const float hi = (float)m, lo = (float)(m - (double)hi);
  const float g = gamma ? gamma[c] : 1.0f, b = beta ? beta[c] : 0.0f;
  const float scale = (float)((double)g * r);
  for (int64_t i = threadIdx.x; i < HW; i += blockDim.x)
    yp[i] = __fadd_rn(__fmul_rn(__fsub_rn(__fsub_rn(xp[i], hi), lo), scale), b);
}

/* sums[2p] = sum dy, sums[2p+1] = sum dy * xhat over plane p; dx (when wanted)
 * = g*r * (dy - mean(dy) - xhat * mean(dy*xhat)). */
__global__ void instance_norm_backward_kernel(float *dx, double *sums, const float *dy, const float *x,
                                              const float *mean, const float *rstd, const float *gamma, int64_t C,
                                              int64_t HW) {
  const int64_t p = blockIdx.x;
  const float *xp = x + p * HW, *dyp = dy + p * HW;
  const float m = mean[p], r = rstd[p];
  double sdy = 0.0, sdyx = 0.0;
  for (int64_t i = threadIdx.x; i < HW; i += blockDim.x) {
    double d = dyp[i];
    sdy += d;
    sdyx += d * (double)__fmul_rn(__fsub_rn(xp[i], m), r);
  }
  st_block_sum2(sdy, sdyx); /* every thread has read its dy before any dx is written (dx may alias dy) */
  if (threadIdx.x == 0) {
    sums[2 * p] = sdy;
    sums[2 * p + 1] = sdyx;
  }
  if (dx) {
    const float g = gamma ? gamma[p % C] : 1.0f;
    const float k = g * r, a = (float)(sdy / (double)HW), bq = (float)(sdyx / (double)HW);
    float *dxp = dx + p * HW;
    for (int64_t i = threadIdx.x; i < HW; i += blockDim.x) {
      float xhat = __fmul_rn(__fsub_rn(xp[i], m), r);
      dxp[i] = __fmul_rn(k, __fsub_rn(__fsub_rn(dyp[i], a), __fmul_rn(xhat, bq)));
    }
  }
}

__global__ void instance_norm_params_kernel(float *dgamma, float *dbeta, const double *sums, int64_t N, int64_t C) {
  for (int64_t c = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; c < C; c += (int64_t)gridDim.x * blockDim.x) {
    double sdy = 0.0, sdyx = 0.0;
    for (int64_t n = 0; n < N; n++) {
      sdy += sums[2 * (n * C + c)];
      sdyx += sums[2 * (n * C + c) + 1];
    }
    if (dbeta) dbeta[c] += (float)sdy;
    if (dgamma) dgamma[c] += (float)sdyx;
  }
}

static int check_grid(int64_t planes, const char *fn) {
  if (planes > 2147483647LL)
    return st_error("%s: %lld planes are more than one CUDA grid holds", fn, (long long)planes);
  return 0;
}

extern "C" int st_cuda_instance_norm_forward(int dev, float *y, float *mean, float *rstd, const float *x,
                                             const float *gamma, const float *beta, int64_t N, int64_t C, int64_t HW,
                                             float eps) {
  if (N * C <= 0 || HW <= 0) return 0;
  if (check_grid(N * C, "instance norm forward") != 0 || st_cuda_use_device(dev) != 0) return -1;
  instance_norm_forward_kernel<<<(unsigned)(N * C), IN_THREADS>>>(y, mean, rstd, x, gamma, beta, C, HW, eps);
  ST_CUDA_LAUNCH_CHECK("instance_norm_forward_kernel");
  return 0;
}

extern "C" int st_cuda_instance_norm_backward(int dev, float *dx, float *dgamma, float *dbeta, const float *dy,
                                              const float *x, const float *mean, const float *rstd,
                                              const float *gamma, int64_t N, int64_t C, int64_t HW) {
  if (N * C <= 0 || HW <= 0 || (!dx && !dgamma && !dbeta)) return 0;
  if (check_grid(N * C, "instance norm backward") != 0 || st_cuda_use_device(dev) != 0) return -1;
  int rc = -1;
  double *sums = (double *)st_mem_alloc(st_cuda(dev), (size_t)(N * C) * 2 * sizeof(double), "instance norm plane sums");
  if (!sums) return -1;
  instance_norm_backward_kernel<<<(unsigned)(N * C), IN_THREADS>>>(dx, sums, dy, x, mean, rstd, gamma, C, HW);
  ST_CUDA_LAUNCH_CHECK_GOTO("instance_norm_backward_kernel", done);
  if (dgamma || dbeta) {
    unsigned nb = (unsigned)((C + 255) / 256);
    instance_norm_params_kernel<<<nb, 256>>>(dgamma, dbeta, sums, N, C);
    ST_CUDA_LAUNCH_CHECK_GOTO("instance_norm_params_kernel", done);
  }
  rc = 0;
done:
  st_mem_free(st_cuda(dev), sums); /* stream-ordered: the next user of this block runs after these kernels */
  return rc;
}
