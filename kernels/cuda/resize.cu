/* Bilinear resize (CUDA). The filter taps are computed on the host in double,
 * with the CPU kernel's formula, and copied to the device; each output is
 * then summed in the CPU kernel's order (rows first, then columns), with
 * separately rounded products and sums, so both devices agree closely. */
#include "kernels/cuda/resize.h"

#include <math.h>
#include <stdlib.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"
#include "kernels/cuda/launch.h"

extern "C" {
#include "engine/device.h"
#include "engine/memory.h"
}

/* One axis's taps: output i reads inputs start[i] .. start[i]+count[i]-1 with
 * weights w[i*ksize ..]. Host arrays during setup, device arrays in kernels. */
typedef struct {
  int64_t *start, *count;
  float *w;
  int64_t ksize;
} taps;

static double triangle(double x) {
  x = fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

static int64_t taps_ksize(int64_t in, int64_t out) {
  const double scale = (double)in / (double)out;
  return (int64_t)ceil(scale > 1.0 ? scale : 1.0) * 2 + 1;
}

/* Fills host arrays sized by taps_ksize (same formula as kernels/cpu/resize.c). */
static void taps_fill(taps *t, int64_t in, int64_t out) {
  const double scale = (double)in / (double)out;
  const double fscale = scale > 1.0 ? scale : 1.0; /* widen only when shrinking */
  const double support = fscale;                   /* the triangle's half-width is 1 input pixel */
  for (int64_t i = 0; i < out; i++) {
    const double centre = ((double)i + 0.5) * scale;
    int64_t lo = (int64_t)(centre - support + 0.5), hi = (int64_t)(centre + support + 0.5);
    if (lo < 0) lo = 0;
    if (hi > in) hi = in;
    double sum = 0.0;
    for (int64_t j = lo; j < hi; j++) sum += triangle(((double)j + 0.5 - centre) / fscale);
    float *w = t->w + i * t->ksize;
    for (int64_t j = 0; j < t->ksize; j++)
      w[j] = (j < hi - lo && sum > 0.0) ? (float)(triangle(((double)(lo + j) + 0.5 - centre) / fscale) / sum) : 0.0f;
    t->start[i] = lo;
    t->count[i] = hi - lo;
  }
}

/* Bytes for one axis's taps in the packed layout: start, count, then w;
 * rounded up to 16 so the next axis's int64 arrays stay aligned. */
static size_t taps_bytes(int64_t out, int64_t ksize) {
  size_t n = (size_t)out * 2 * sizeof(int64_t) + (size_t)(out * ksize) * sizeof(float);
  return (n + 15) / 16 * 16;
}

static taps taps_at(char *base, int64_t out, int64_t ksize) {
  taps t;
  t.start = (int64_t *)base;
  t.count = t.start + out;
  t.w = (float *)(t.count + out);
  t.ksize = ksize;
  return t;
}

/* dst[r][o] = sum_k w[o][k] src[r][start[o] + k], rows r of length W. */
__global__ void resize_rows_kernel(float *dst, const float *src, int64_t rows, int64_t W, int64_t OW, taps t) {
  ST_CUDA_GRID_LOOP(k, rows * OW) {
    const int64_t o = k % OW, r = k / OW;
    const float *w = t.w + o * t.ksize, *s = src + r * W + t.start[o];
    float acc = 0.0f;
    for (int64_t q = 0; q < t.count[o]; q++) acc = __fadd_rn(acc, __fmul_rn(w[q], s[q]));
    dst[k] = acc;
  }
}

/* y[p][o][i] = sum_k w[o][k] rows[p][start[o] + k][i]. */
__global__ void resize_cols_kernel(float *y, const float *rows, int64_t planes, int64_t H, int64_t OH, int64_t OW,
                                   taps t) {
  ST_CUDA_GRID_LOOP(k, planes * OH * OW) {
    const int64_t i = k % OW, o = (k / OW) % OH, p = k / (OW * OH);
    const float *w = t.w + o * t.ksize, *s = rows + (p * H + t.start[o]) * OW + i;
    float acc = 0.0f;
    for (int64_t q = 0; q < t.count[o]; q++) acc = __fadd_rn(acc, __fmul_rn(w[q], s[q * OW]));
    y[k] = acc;
  }
}

extern "C" int st_cuda_resize_bilinear_forward(int dev, float *y, const float *x, int64_t planes, int64_t H, int64_t W,
                                               int64_t OH, int64_t OW) {
  if (planes <= 0) return 0;
  if (H < 1 || W < 1 || OH < 1 || OW < 1)
    return st_error("resize: sizes must be positive, got %lldx%lld -> %lldx%lld", (long long)H, (long long)W,
                    (long long)OH, (long long)OW);
  if (st_cuda_use_device(dev) != 0) return -1;
  if (H == OH && W == OW) {
    ST_CUDA_CHECK(cudaMemcpy(y, x, (size_t)(planes * H * W) * sizeof(float), cudaMemcpyDeviceToDevice));
    return 0;
  }
  int rc = -1;
  const int64_t kw = taps_ksize(W, OW), kh = taps_ksize(H, OH);
  const size_t bw = taps_bytes(OW, kw), bh = taps_bytes(OH, kh), bytes = bw + bh;
  char *host = (char *)malloc(bytes), *devbuf = NULL;
  float *tmp = NULL;
  const float *rows = x;
  taps tw, th;
  if (!host) return st_error("resize: out of memory for the filter taps (%zu bytes)", bytes);
  tw = taps_at(host, OW, kw);
  th = taps_at(host + bw, OH, kh);
  taps_fill(&tw, W, OW);
  taps_fill(&th, H, OH);
  devbuf = (char *)st_mem_alloc(st_cuda(dev), bytes, "resize filter taps");
  if (!devbuf) goto done;
  ST_CUDA_CHECK_GOTO(cudaMemcpy(devbuf, host, bytes, cudaMemcpyHostToDevice), done);
  tw = taps_at(devbuf, OW, kw);
  th = taps_at(devbuf + bw, OH, kh);
  if (W != OW) {
    /* Rows first, into an [planes][H][OW] intermediate (or straight into y when the height stays). */
    float *dst = y;
    if (H != OH) {
      tmp = (float *)st_mem_alloc(st_cuda(dev), (size_t)(planes * H * OW) * sizeof(float), "resize intermediate");
      if (!tmp) goto done;
      dst = tmp;
    }
    resize_rows_kernel<<<st_cuda_blocks(planes * H * OW), ST_CUDA_THREADS>>>(dst, x, planes * H, W, OW, tw);
    ST_CUDA_LAUNCH_CHECK_GOTO("resize_rows_kernel", done);
    rows = dst;
  }
  if (H != OH) {
    resize_cols_kernel<<<st_cuda_blocks(planes * OH * OW), ST_CUDA_THREADS>>>(y, rows, planes, H, OH, OW, th);
    ST_CUDA_LAUNCH_CHECK_GOTO("resize_cols_kernel", done);
  }
  rc = 0;
done:
  if (tmp) st_mem_free(st_cuda(dev), tmp);
  if (devbuf) st_mem_free(st_cuda(dev), devbuf);
  free(host);
  return rc;
}
