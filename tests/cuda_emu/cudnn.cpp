/* CUDA emulator: cuDNN convolution stand-in (see include/cudnn.h), by
 * im2col + OpenBLAS SGEMM, an independent route from the CPU backend's
 * oneDNN / AVX-512 kernels. */
#include <cudnn.h>

#include <cblas.h>
#include <cstdlib>
#include <vector>

#include "tf32.h"

struct st_emu_cudnn_context {
  unsigned calls; /* varies the summation order of the non-deterministic algorithms */
};
struct st_emu_cudnn_tensor {
  int set, n, c, h, w;
};
struct st_emu_cudnn_filter {
  int set, k, c, h, w;
};
struct st_emu_cudnn_conv {
  int set, ph, pw, sh, sw, dh, dw;
  cudnnConvolutionMode_t mode;
  cudnnMathType_t math;
};

namespace {

/* Per-direction algorithm table: what Find / Get report, in that order. */
struct algo_entry {
  int algo;
  cudnnStatus_t status;
  size_t memory;
  cudnnDeterminism_t det;
  bool tensor_op; /* reported only when the descriptor's math allows tensor ops */
};

/* First the entries the caller must pass over (unsupported, too much
 * workspace, tensor-op, non-deterministic), then a usable one. The forward
 * direction has no non-deterministic algorithms, as in cuDNN. */
const algo_entry table[3][5] = {
    {{1, CUDNN_STATUS_SUCCESS, 8192, CUDNN_DETERMINISTIC, true},
     {7, CUDNN_STATUS_NOT_SUPPORTED, 0, CUDNN_DETERMINISTIC, false},
     {4, CUDNN_STATUS_SUCCESS, (size_t)3 << 30, CUDNN_DETERMINISTIC, false},
     {2, CUDNN_STATUS_SUCCESS, 12288, CUDNN_DETERMINISTIC, false},
     {0, CUDNN_STATUS_SUCCESS, 4096, CUDNN_DETERMINISTIC, false}},
    {{1, CUDNN_STATUS_SUCCESS, 8192, CUDNN_DETERMINISTIC, true},
     {3, CUDNN_STATUS_SUCCESS, 4096, CUDNN_NON_DETERMINISTIC, false},
     {5, CUDNN_STATUS_NOT_SUPPORTED, 0, CUDNN_DETERMINISTIC, false},
     {4, CUDNN_STATUS_SUCCESS, (size_t)3 << 30, CUDNN_DETERMINISTIC, false},
     {0, CUDNN_STATUS_SUCCESS, 20480, CUDNN_DETERMINISTIC, false}},
    {{1, CUDNN_STATUS_SUCCESS, 8192, CUDNN_DETERMINISTIC, true},
     {3, CUDNN_STATUS_SUCCESS, 4096, CUDNN_NON_DETERMINISTIC, false},
     {6, CUDNN_STATUS_NOT_SUPPORTED, 0, CUDNN_DETERMINISTIC, false},
     {4, CUDNN_STATUS_SUCCESS, (size_t)3 << 30, CUDNN_DETERMINISTIC, false},
     {0, CUDNN_STATUS_SUCCESS, 16384, CUDNN_DETERMINISTIC, false}}};

const algo_entry *entry_of(int dir, int algo) {
  for (const algo_entry &e : table[dir])
    if (e.algo == algo) return &e;
  return nullptr;
}

bool allows_tensor_op(cudnnMathType_t m) { return m != CUDNN_FMA_MATH; }

template <typename Perf>
cudnnStatus_t list(int dir, const cudnnConvolutionDescriptor_t cd, int requested, int *returned, Perf *out) {
  if (requested < 1 || !returned || !out) return CUDNN_STATUS_BAD_PARAM;
  int n = 0;
  for (const algo_entry &e : table[dir]) {
    if (e.tensor_op && !allows_tensor_op(cd->math)) continue;
    if (n == requested) break;
    Perf p = {};
    p.algo = (decltype(p.algo))e.algo;
    p.status = e.status;
    p.time = (float)(n + 1);
    p.memory = e.memory;
    p.determinism = e.det;
    p.mathType = e.tensor_op ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
    out[n++] = p;
  }
  *returned = n;
  return CUDNN_STATUS_SUCCESS;
}

int out_size(int in, int pad, int k, int s, int d) { return (in + 2 * pad - d * (k - 1) - 1) / s + 1; }

/* The descriptors describe one convolution x * w -> y. */
cudnnStatus_t check_geometry(const st_emu_cudnn_tensor *x, const st_emu_cudnn_filter *w, const st_emu_cudnn_conv *c,
                             const st_emu_cudnn_tensor *y) {
  if (!x || !w || !c || !y || !x->set || !w->set || !c->set || !y->set) return CUDNN_STATUS_BAD_PARAM;
  if (x->c != w->c || y->n != x->n || y->c != w->k) return CUDNN_STATUS_BAD_PARAM;
  if (y->h != out_size(x->h, c->ph, w->h, c->sh, c->dh) || y->w != out_size(x->w, c->pw, w->w, c->sw, c->dw))
    return CUDNN_STATUS_BAD_PARAM;
  if (c->mode != CUDNN_CROSS_CORRELATION) return CUDNN_STATUS_NOT_SUPPORTED; /* the emulator has no flipped mode */
  return CUDNN_STATUS_SUCCESS;
}

/* A tensor or filter descriptor: positive sizes, float NCHW (all the emulator has). */
template <typename D>
cudnnStatus_t set_4d(D *d, cudnnTensorFormat_t format, cudnnDataType_t type, int a, int b, int c, int e) {
  if (!d || a <= 0 || b <= 0 || c <= 0 || e <= 0) return CUDNN_STATUS_BAD_PARAM;
  if (format != CUDNN_TENSOR_NCHW || type != CUDNN_DATA_FLOAT) return CUDNN_STATUS_NOT_SUPPORTED;
  *d = D{1, a, b, c, e};
  return CUDNN_STATUS_SUCCESS;
}

size_t bytes(const st_emu_cudnn_tensor *t) { return (size_t)t->n * t->c * t->h * t->w * sizeof(float); }
size_t bytes(const st_emu_cudnn_filter *t) { return (size_t)t->k * t->c * t->h * t->w * sizeof(float); }

/* Pointers, workspace and algorithm, as cuDNN would need them. */
cudnnStatus_t check_call(cudnnHandle_t h, int dir, int algo, const void *ws, size_t ws_bytes,
                         const cudnnConvolutionDescriptor_t cd, const void *a, size_t a_bytes, const void *b,
                         size_t b_bytes, const void *out, size_t out_bytes, const char *fn) {
  if (!h) return CUDNN_STATUS_BAD_PARAM;
  const algo_entry *e = entry_of(dir, algo);
  if (!e || e->status != CUDNN_STATUS_SUCCESS) return CUDNN_STATUS_NOT_SUPPORTED;
  if (e->tensor_op && !allows_tensor_op(cd->math)) return CUDNN_STATUS_NOT_SUPPORTED;
  if (ws_bytes < e->memory) return CUDNN_STATUS_BAD_PARAM; /* too little workspace for this algorithm */
  if (ws_bytes > 0 && !st_emu_is_device(ws, ws_bytes))
    st_emu_fatal("%s: workspace %p of %zu bytes is not device memory", fn, ws, ws_bytes);
  if (!st_emu_is_device(a, a_bytes) || !st_emu_is_device(b, b_bytes) || !st_emu_is_device(out, out_bytes))
    st_emu_fatal("%s: a tensor is not (enough) device memory (inputs %p, %p; output %p)", fn, a, b, out);
  return CUDNN_STATUS_SUCCESS;
}

/* col[(c*kh + i)*kw + j][oy*OW + ox] = x[c][oy*sh - ph + i*dh][ox*sw - pw + j*dw] (0 outside). */
void im2col(const float *x, const st_emu_cudnn_tensor *xd, const st_emu_cudnn_filter *wd, const st_emu_cudnn_conv *c,
            int OH, int OW, float *col) {
  const int C = xd->c, H = xd->h, W = xd->w, kh = wd->h, kw = wd->w;
  for (int ch = 0; ch < C; ch++)
    for (int i = 0; i < kh; i++)
      for (int j = 0; j < kw; j++) {
        float *row = col + ((size_t)(ch * kh + i) * kw + j) * OH * OW;
        for (int oy = 0; oy < OH; oy++) {
          const int iy = oy * c->sh - c->ph + i * c->dh;
          for (int ox = 0; ox < OW; ox++) {
            const int ix = ox * c->sw - c->pw + j * c->dw;
            row[oy * OW + ox] = iy >= 0 && iy < H && ix >= 0 && ix < W ? x[((size_t)ch * H + iy) * W + ix] : 0.0f;
          }
        }
      }
}

/* The adjoint of im2col: dx += scatter(col). */
void col2im(const float *col, const st_emu_cudnn_tensor *xd, const st_emu_cudnn_filter *wd,
            const st_emu_cudnn_conv *c, int OH, int OW, float *dx) {
  const int C = xd->c, H = xd->h, W = xd->w, kh = wd->h, kw = wd->w;
  for (int ch = 0; ch < C; ch++)
    for (int i = 0; i < kh; i++)
      for (int j = 0; j < kw; j++) {
        const float *row = col + ((size_t)(ch * kh + i) * kw + j) * OH * OW;
        for (int oy = 0; oy < OH; oy++) {
          const int iy = oy * c->sh - c->ph + i * c->dh;
          if (iy < 0 || iy >= H) continue;
          for (int ox = 0; ox < OW; ox++) {
            const int ix = ox * c->sw - c->pw + j * c->dw;
            if (ix >= 0 && ix < W) dx[((size_t)ch * H + iy) * W + ix] += row[oy * OW + ox];
          }
        }
      }
}

/* out = alpha * r + beta * out; with beta == 0 the old out is not read. */
void blend(float *out, const std::vector<float> &r, float alpha, float beta) {
  for (size_t i = 0; i < r.size(); i++) out[i] = alpha * r[i] + (beta == 0.0f ? 0.0f : beta * out[i]);
}

}  // namespace

extern "C" {

const char *cudnnGetErrorString(cudnnStatus_t s) {
  switch (s) {
    case CUDNN_STATUS_SUCCESS: return "CUDNN_STATUS_SUCCESS";
    case CUDNN_STATUS_NOT_INITIALIZED: return "CUDNN_STATUS_NOT_INITIALIZED";
    case CUDNN_STATUS_BAD_PARAM: return "CUDNN_STATUS_BAD_PARAM";
    case CUDNN_STATUS_NOT_SUPPORTED: return "CUDNN_STATUS_NOT_SUPPORTED";
    case CUDNN_STATUS_ALLOC_FAILED: return "CUDNN_STATUS_ALLOC_FAILED";
    case CUDNN_STATUS_EXECUTION_FAILED: return "CUDNN_STATUS_EXECUTION_FAILED";
  }
  return "CUDNN_STATUS_UNKNOWN";
}

cudnnStatus_t cudnnCreate(cudnnHandle_t *handle) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) return CUDNN_STATUS_NOT_INITIALIZED;
  *handle = new st_emu_cudnn_context{0};
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroy(cudnnHandle_t handle) {
  delete handle;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t *d) {
  *d = new st_emu_cudnn_tensor{};
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t d) {
  delete d;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t d, cudnnTensorFormat_t format, cudnnDataType_t type,
                                         int n, int c, int h, int w) {
  return set_4d(d, format, type, n, c, h, w);
}

cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t *d) {
  *d = new st_emu_cudnn_filter{};
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t d) {
  delete d;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t d, cudnnDataType_t type, cudnnTensorFormat_t format,
                                         int k, int c, int h, int w) {
  return set_4d(d, format, type, k, c, h, w);
}

cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t *d) {
  *d = new st_emu_cudnn_conv{};
  (*d)->math = CUDNN_DEFAULT_MATH;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t d) {
  delete d;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t d, int pad_h, int pad_w, int u, int v,
                                              int dilation_h, int dilation_w, cudnnConvolutionMode_t mode,
                                              cudnnDataType_t compute_type) {
  if (!d || pad_h < 0 || pad_w < 0 || u <= 0 || v <= 0 || dilation_h <= 0 || dilation_w <= 0)
    return CUDNN_STATUS_BAD_PARAM;
  if (compute_type != CUDNN_DATA_FLOAT) return CUDNN_STATUS_NOT_SUPPORTED;
  cudnnMathType_t math = d->math;
  *d = st_emu_cudnn_conv{1, pad_h, pad_w, u, v, dilation_h, dilation_w, mode, math};
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d, cudnnMathType_t math) {
  if (!d) return CUDNN_STATUS_BAD_PARAM;
  d->math = math;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(const cudnnConvolutionDescriptor_t cd,
                                                    const cudnnTensorDescriptor_t xd,
                                                    const cudnnFilterDescriptor_t wd, int *n, int *c, int *h, int *w) {
  if (!cd || !xd || !wd || !cd->set || !xd->set || !wd->set || xd->c != wd->c) return CUDNN_STATUS_BAD_PARAM;
  *n = xd->n;
  *c = wd->k;
  *h = out_size(xd->h, cd->ph, wd->h, cd->sh, cd->dh);
  *w = out_size(xd->w, cd->pw, wd->w, cd->sw, cd->dw);
  if (*h <= 0 || *w <= 0) return CUDNN_STATUS_BAD_PARAM;
  return CUDNN_STATUS_SUCCESS;
}

/* ---- algorithm lists and workspace sizes ---- */

cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t h, const cudnnTensorDescriptor_t xd,
                                                     const cudnnFilterDescriptor_t wd,
                                                     const cudnnConvolutionDescriptor_t cd,
                                                     const cudnnTensorDescriptor_t yd, int requested, int *returned,
                                                     cudnnConvolutionFwdAlgoPerf_t *results) {
  cudnnStatus_t s = h ? check_geometry(xd, wd, cd, yd) : CUDNN_STATUS_BAD_PARAM;
  return s != CUDNN_STATUS_SUCCESS ? s : list(0, cd, requested, returned, results);
}
cudnnStatus_t cudnnFindConvolutionForwardAlgorithm(cudnnHandle_t h, const cudnnTensorDescriptor_t xd,
                                                   const cudnnFilterDescriptor_t wd,
                                                   const cudnnConvolutionDescriptor_t cd,
                                                   const cudnnTensorDescriptor_t yd, int requested, int *returned,
                                                   cudnnConvolutionFwdAlgoPerf_t *results) {
  st_emu_count("cudnnFind", 1);
  return cudnnGetConvolutionForwardAlgorithm_v7(h, xd, wd, cd, yd, requested, returned, results);
}
cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnnHandle_t h, const cudnnFilterDescriptor_t wd,
                                                          const cudnnTensorDescriptor_t dyd,
                                                          const cudnnConvolutionDescriptor_t cd,
                                                          const cudnnTensorDescriptor_t dxd, int requested,
                                                          int *returned, cudnnConvolutionBwdDataAlgoPerf_t *results) {
  cudnnStatus_t s = h ? check_geometry(dxd, wd, cd, dyd) : CUDNN_STATUS_BAD_PARAM;
  return s != CUDNN_STATUS_SUCCESS ? s : list(1, cd, requested, returned, results);
}
cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithm(cudnnHandle_t h, const cudnnFilterDescriptor_t wd,
                                                        const cudnnTensorDescriptor_t dyd,
                                                        const cudnnConvolutionDescriptor_t cd,
                                                        const cudnnTensorDescriptor_t dxd, int requested,
                                                        int *returned, cudnnConvolutionBwdDataAlgoPerf_t *results) {
  st_emu_count("cudnnFind", 1);
  return cudnnGetConvolutionBackwardDataAlgorithm_v7(h, wd, dyd, cd, dxd, requested, returned, results);
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnnHandle_t h, const cudnnTensorDescriptor_t xd,
                                                            const cudnnTensorDescriptor_t dyd,
                                                            const cudnnConvolutionDescriptor_t cd,
                                                            const cudnnFilterDescriptor_t dwd, int requested,
                                                            int *returned,
                                                            cudnnConvolutionBwdFilterAlgoPerf_t *results) {
  cudnnStatus_t s = h ? check_geometry(xd, dwd, cd, dyd) : CUDNN_STATUS_BAD_PARAM;
  return s != CUDNN_STATUS_SUCCESS ? s : list(2, cd, requested, returned, results);
}
cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithm(cudnnHandle_t h, const cudnnTensorDescriptor_t xd,
                                                          const cudnnTensorDescriptor_t dyd,
                                                          const cudnnConvolutionDescriptor_t cd,
                                                          const cudnnFilterDescriptor_t dwd, int requested,
                                                          int *returned,
                                                          cudnnConvolutionBwdFilterAlgoPerf_t *results) {
  st_emu_count("cudnnFind", 1);
  return cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, xd, dyd, cd, dwd, requested, returned, results);
}

static cudnnStatus_t workspace(int dir, int algo, const cudnnConvolutionDescriptor_t cd, size_t *out) {
  const algo_entry *e = entry_of(dir, algo);
  if (!e || e->status != CUDNN_STATUS_SUCCESS || (e->tensor_op && !allows_tensor_op(cd->math)))
    return CUDNN_STATUS_NOT_SUPPORTED;
  *out = e->memory;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t h, const cudnnTensorDescriptor_t xd,
                                                      const cudnnFilterDescriptor_t wd,
                                                      const cudnnConvolutionDescriptor_t cd,
                                                      const cudnnTensorDescriptor_t yd, cudnnConvolutionFwdAlgo_t algo,
                                                      size_t *bytes) {
  cudnnStatus_t s = h ? check_geometry(xd, wd, cd, yd) : CUDNN_STATUS_BAD_PARAM;
  return s != CUDNN_STATUS_SUCCESS ? s : workspace(0, algo, cd, bytes);
}
cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(cudnnHandle_t h, const cudnnFilterDescriptor_t wd,
                                                           const cudnnTensorDescriptor_t dyd,
                                                           const cudnnConvolutionDescriptor_t cd,
                                                           const cudnnTensorDescriptor_t dxd,
                                                           cudnnConvolutionBwdDataAlgo_t algo, size_t *bytes) {
  cudnnStatus_t s = h ? check_geometry(dxd, wd, cd, dyd) : CUDNN_STATUS_BAD_PARAM;
  return s != CUDNN_STATUS_SUCCESS ? s : workspace(1, algo, cd, bytes);
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnnHandle_t h, const cudnnTensorDescriptor_t xd,
                                                             const cudnnTensorDescriptor_t dyd,
                                                             const cudnnConvolutionDescriptor_t cd,
                                                             const cudnnFilterDescriptor_t dwd,
                                                             cudnnConvolutionBwdFilterAlgo_t algo, size_t *bytes) {
  cudnnStatus_t s = h ? check_geometry(xd, dwd, cd, dyd) : CUDNN_STATUS_BAD_PARAM;
  return s != CUDNN_STATUS_SUCCESS ? s : workspace(2, algo, cd, bytes);
}

/* ---- the convolutions ---- */

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t h, const void *alpha, const cudnnTensorDescriptor_t xd,
                                      const void *x, const cudnnFilterDescriptor_t wd, const void *w,
                                      const cudnnConvolutionDescriptor_t cd, cudnnConvolutionFwdAlgo_t algo,
                                      void *ws, size_t ws_bytes, const void *beta, const cudnnTensorDescriptor_t yd,
                                      void *y) {
  cudnnStatus_t s = check_geometry(xd, wd, cd, yd);
  if (s == CUDNN_STATUS_SUCCESS)
    s = check_call(h, 0, algo, ws, ws_bytes, cd, x, bytes(xd), w, bytes(wd), y, bytes(yd), "cudnnConvolutionForward");
  if (s != CUDNN_STATUS_SUCCESS) return s;
  st_emu_count("cudnnConvolutionForward", 1);
  const bool tf32 = allows_tensor_op(cd->math);
  const int K = wd->k, CKK = wd->c * wd->h * wd->w, OH = yd->h, OW = yd->w, P = OH * OW;
  std::vector<float> kx, kw, col((size_t)CKK * P), r((size_t)K * P);
  const float *xs = st_emu_maybe_tf32((const float *)x, bytes(xd) / 4, tf32, kx);
  const float *ws_ = st_emu_maybe_tf32((const float *)w, bytes(wd) / 4, tf32, kw);
  for (int n = 0; n < xd->n; n++) {
    im2col(xs + (size_t)n * xd->c * xd->h * xd->w, xd, wd, cd, OH, OW, col.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, K, P, CKK, 1.0f, ws_, CKK, col.data(), P, 0.0f, r.data(),
                P);
    blend((float *)y + (size_t)n * K * P, r, *(const float *)alpha, *(const float *)beta);
  }
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t h, const void *alpha, const cudnnFilterDescriptor_t wd,
                                           const void *w, const cudnnTensorDescriptor_t dyd, const void *dy,
                                           const cudnnConvolutionDescriptor_t cd, cudnnConvolutionBwdDataAlgo_t algo,
                                           void *ws, size_t ws_bytes, const void *beta,
                                           const cudnnTensorDescriptor_t dxd, void *dx) {
  cudnnStatus_t s = check_geometry(dxd, wd, cd, dyd);
  if (s == CUDNN_STATUS_SUCCESS)
    s = check_call(h, 1, algo, ws, ws_bytes, cd, dy, bytes(dyd), w, bytes(wd), dx, bytes(dxd),
                   "cudnnConvolutionBackwardData");
  if (s != CUDNN_STATUS_SUCCESS) return s;
  st_emu_count("cudnnConvolutionBackwardData", 1);
  const bool tf32 = allows_tensor_op(cd->math);
  const int K = wd->k, CKK = wd->c * wd->h * wd->w, OH = dyd->h, OW = dyd->w, P = OH * OW;
  const size_t plane = (size_t)dxd->c * dxd->h * dxd->w;
  std::vector<float> kdy, kw, col((size_t)CKK * P), r(plane);
  const float *dys = st_emu_maybe_tf32((const float *)dy, bytes(dyd) / 4, tf32, kdy);
  const float *ws_ = st_emu_maybe_tf32((const float *)w, bytes(wd) / 4, tf32, kw);
  for (int n = 0; n < dxd->n; n++) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, P, K, 1.0f, ws_, CKK, dys + (size_t)n * K * P, P, 0.0f,
                col.data(), P);
    std::fill(r.begin(), r.end(), 0.0f);
    col2im(col.data(), dxd, wd, cd, OH, OW, r.data());
    blend((float *)dx + (size_t)n * plane, r, *(const float *)alpha, *(const float *)beta);
  }
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t h, const void *alpha, const cudnnTensorDescriptor_t xd,
                                             const void *x, const cudnnTensorDescriptor_t dyd, const void *dy,
                                             const cudnnConvolutionDescriptor_t cd,
                                             cudnnConvolutionBwdFilterAlgo_t algo, void *ws, size_t ws_bytes,
                                             const void *beta, const cudnnFilterDescriptor_t dwd, void *dw) {
  cudnnStatus_t s = check_geometry(xd, dwd, cd, dyd);
  if (s == CUDNN_STATUS_SUCCESS)
    s = check_call(h, 2, algo, ws, ws_bytes, cd, x, bytes(xd), dy, bytes(dyd), dw, bytes(dwd),
                   "cudnnConvolutionBackwardFilter");
  if (s != CUDNN_STATUS_SUCCESS) return s;
  st_emu_count("cudnnConvolutionBackwardFilter", 1);
  const bool tf32 = allows_tensor_op(cd->math);
  const int K = dwd->k, CKK = dwd->c * dwd->h * dwd->w, OH = dyd->h, OW = dyd->w, P = OH * OW, N = xd->n;
  std::vector<float> kx, kdy, col((size_t)CKK * P), r((size_t)K * CKK, 0.0f);
  const float *xs = st_emu_maybe_tf32((const float *)x, bytes(xd) / 4, tf32, kx);
  const float *dys = st_emu_maybe_tf32((const float *)dy, bytes(dyd) / 4, tf32, kdy);
  /* A non-deterministic algorithm adds the batch in a different order on every other call. */
  const bool reverse = entry_of(2, algo)->det == CUDNN_NON_DETERMINISTIC && (h->calls++ & 1u);
  for (int i = 0; i < N; i++) {
    const int n = reverse ? N - 1 - i : i;
    im2col(xs + (size_t)n * xd->c * xd->h * xd->w, xd, dwd, cd, OH, OW, col.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, K, CKK, P, 1.0f, dys + (size_t)n * K * P, P, col.data(), P,
                1.0f, r.data(), CKK);
  }
  blend((float *)dw, r, *(const float *)alpha, *(const float *)beta);
  return CUDNN_STATUS_SUCCESS;
}

}  // extern "C"
