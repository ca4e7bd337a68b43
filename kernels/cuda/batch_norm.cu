/* Batch norm with fixed statistics (CUDA): a per-channel affine map.
 *
 * Elementwise passes run a few blocks per (n, c) plane, so the channel's
 * scale is worked out once per thread, in double as the CPU kernel does (the
 * correctly rounded gamma / sqrt(var + eps)), and not per element. The float
 * arithmetic uses the _rn intrinsics so that no multiply-add is fused: the
 * results are the CPU's bit for bit. Parameter gradients: per-plane sums in
 * double, then a second kernel adds them over n in a fixed order (no atomics,
 * reproducible). */
#include "kernels/cuda/batch_norm.h"


#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"
#include "kernels/cuda/reduce.h"

extern "C" {
#include "engine/device.h"
#include "engine/memory.h"
}

#define BN_MAX_THREADS 256
/* Elements per thread that one block of an elementwise pass aims to cover. */
#define BN_PER_THREAD 8

/* Launch shape over `planes` planes of HW values: threads a multiple of 32
 * that small planes (deep layers: 4x4) do not leave idle, and bpp blocks per
 * plane; grid = planes * bpp. */
typedef struct {
  unsigned threads;
  int64_t bpp;
} plane_grid;

static int make_grid(int64_t planes, int64_t HW, int one_block_per_plane, plane_grid *g, const char *fn) {
  if (planes > 2147483647LL)
    return st_error("%s: %lld planes are more than one CUDA grid holds", fn, (long long)planes);
  int64_t t = (HW + 31) / 32 * 32;
  g->threads = (unsigned)(t < BN_MAX_THREADS ? t : BN_MAX_THREADS);
  const int64_t chunk = (int64_t)g->threads * BN_PER_THREAD;
  int64_t bpp = one_block_per_plane ? 1 : (HW + chunk - 1) / chunk;
  if (bpp < 1) bpp = 1;
  if (bpp > 2147483647LL / planes) bpp = 2147483647LL / planes; /* each block then loops further */
  g->bpp = bpp;
  return 0;
}

/* The channel's scale, as the CPU kernel computes it. */
__device__ __forceinline__ float bn_scale(const float *gamma, const float *var, int64_t c, float eps) {
  return (float)((gamma ? (double)gamma[c] : 1.0) / sqrt((double)var[c] + (double)eps));
}

/* y = (x - m) * s + b over plane p = blockIdx.x / bpp; y may alias x (each
 * element is read, then written, by one thread). */
__global__ void bn_forward_kernel(float *y, const float *x, const float *mean, const float *var, const float *gamma,
                                  const float *beta, int64_t C, int64_t HW, int64_t bpp, float eps) {
  const int64_t p = blockIdx.x / bpp, k = blockIdx.x % bpp, c = p % C;
  const float m = mean[c], b = beta ? beta[c] : 0.0f, s = bn_scale(gamma, var, c, eps);
  const float *xp = x + p * HW;
  float *yp = y + p * HW;
  for (int64_t i = k * blockDim.x + threadIdx.x; i < HW; i += bpp * blockDim.x)
    yp[i] = __fadd_rn(__fmul_rn(__fsub_rn(xp[i], m), s), b);
}

/* dx = dy * s; dx may alias dy. */
__global__ void bn_backward_dx_kernel(float *dx, const float *dy, const float *var, const float *gamma, int64_t C,
                                      int64_t HW, int64_t bpp, float eps) {
  const int64_t p = blockIdx.x / bpp, k = blockIdx.x % bpp;
  const float s = bn_scale(gamma, var, p % C, eps);
  const float *dyp = dy + p * HW;
  float *dxp = dx + p * HW;
  for (int64_t i = k * blockDim.x + threadIdx.x; i < HW; i += bpp * blockDim.x) dxp[i] = __fmul_rn(dyp[i], s);
}

/* One block per plane: sums[2p] = sum dy, sums[2p+1] = sum dy * xhat (x NULL:
 * 0), xhat = (x - m) * r with r the float rstd, as on the CPU. */
__global__ void bn_plane_sums_kernel(double *sums, const float *dy, const float *x, const float *mean,
                                     const float *var, int64_t C, int64_t HW, float eps) {
  const int64_t p = blockIdx.x, c = p % C;
  const float *dyp = dy + p * HW;
  double sdy = 0.0, sdyx = 0.0;
  if (x) {
    const float *xp = x + p * HW;
    const float m = mean[c], r = (float)(1.0 / sqrt((double)var[c] + (double)eps));
    for (int64_t i = threadIdx.x; i < HW; i += blockDim.x) {
      const double d = dyp[i];
      sdy += d;
      sdyx += d * (double)__fmul_rn(__fsub_rn(xp[i], m), r); /* float x float is exact in double */
    }
  } else {
    for (int64_t i = threadIdx.x; i < HW; i += blockDim.x) sdy += (double)dyp[i];
  }
  st_block_sum2(sdy, sdyx);
  if (threadIdx.x == 0) {
    sums[2 * p] = sdy;
    sums[2 * p + 1] = sdyx;
  }
}

/* dbeta[c] += sum over n of the plane sums, n in order; dgamma likewise. */
__global__ void bn_params_kernel(float *dgamma, float *dbeta, const double *sums, int64_t N, int64_t C) {
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

extern "C" int st_cuda_batch_norm_forward(int dev, float *y, const float *x, const float *mean, const float *var,
                                          const float *gamma, const float *beta, int64_t N, int64_t C, int64_t HW,
                                          float eps) {
  if (st_cuda_use_device(dev) != 0) return -1;
  if (N * C <= 0 || HW <= 0) return 0;
  plane_grid g = {32, 1};
  if (make_grid(N * C, HW, 0, &g, "batch_norm forward") != 0) return -1;
  bn_forward_kernel<<<(unsigned)(N * C * g.bpp), g.threads>>>(y, x, mean, var, gamma, beta, C, HW, g.bpp, eps);
  ST_CUDA_LAUNCH_CHECK("bn_forward_kernel");
  return 0;
}

extern "C" int st_cuda_batch_norm_backward(int dev, float *dx, float *dgamma, float *dbeta, const float *dy,
                                           const float *x, const float *mean, const float *var, const float *gamma,
                                           int64_t N, int64_t C, int64_t HW, float eps) {
  if (st_cuda_use_device(dev) != 0) return -1;
  if (N * C <= 0 || HW <= 0 || (!dx && !dgamma && !dbeta)) return 0;
  int rc = -1;
  double *sums = NULL;
  if (dgamma || dbeta) {
    /* Before dx is written: dx may alias dy. */
    plane_grid g = {32, 1};
    if (make_grid(N * C, HW, 1, &g, "batch_norm backward") != 0) return -1;
    sums = (double *)st_mem_alloc(st_cuda(dev), (size_t)(N * C) * 2 * sizeof(double), "batch norm plane sums");
    if (!sums) return -1;
    bn_plane_sums_kernel<<<(unsigned)(N * C), g.threads>>>(sums, dy, dgamma ? x : NULL, mean, var, C, HW, eps);
    ST_CUDA_LAUNCH_CHECK_GOTO("bn_plane_sums_kernel", done);
    bn_params_kernel<<<(unsigned)((C + 255) / 256), 256>>>(dgamma, dbeta, sums, N, C);
    ST_CUDA_LAUNCH_CHECK_GOTO("bn_params_kernel", done);
  }
  if (dx) {
    plane_grid g = {32, 1};
    if (make_grid(N * C, HW, 0, &g, "batch_norm backward") != 0) goto done;
    bn_backward_dx_kernel<<<(unsigned)(N * C * g.bpp), g.threads>>>(dx, dy, var, gamma, C, HW, g.bpp, eps);
    ST_CUDA_LAUNCH_CHECK_GOTO("bn_backward_dx_kernel", done);
  }
  rc = 0;
done:
  if (sums) st_mem_free(st_cuda(dev), sums); /* stream-ordered: the next user of this block runs after these kernels */
  return rc;
}
