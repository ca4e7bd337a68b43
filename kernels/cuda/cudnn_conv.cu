/* cuDNN convolution plans (see cudnn_conv.h). */
#include "kernels/cuda/cudnn_conv.h"

#include <stdlib.h>
#include <string.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/handles.h"

extern "C" {
#include "engine/device.h"
#include "engine/memory.h"
}

enum { DIR_FWD = 0, DIR_BWD_DATA = 1, DIR_BWD_FILTER = 2 };
static const char *dir_name[3] = {"forward", "backward-data", "backward-filter"};

/* Algorithms needing more workspace than this are passed over. */
#define WORKSPACE_LIMIT ((size_t)1 << 30)

typedef struct {
  int dev;
  st_cudnn_conv_geom g;
  cudnnTensorDescriptor_t xd, yd;
  cudnnFilterDescriptor_t wd;
  cudnnConvolutionDescriptor_t cd;
  int chosen[3];
  int algo[3];
  cudnnMathType_t math[3];
  size_t workspace[3];
} plan;

static plan **plans;
static int n_plans, cap_plans;

/* One algorithm's measurement, whatever the direction. */
typedef struct {
  int algo;
  cudnnStatus_t status;
  size_t memory;
  cudnnDeterminism_t determinism;
  cudnnMathType_t math;
} perf;

static int env_off(const char *name) {
  const char *s = getenv(name);
  return s && strcmp(s, "0") == 0;
}

static void plan_destroy(plan *p) {
  if (p->xd) cudnnDestroyTensorDescriptor(p->xd);
  if (p->yd) cudnnDestroyTensorDescriptor(p->yd);
  if (p->wd) cudnnDestroyFilterDescriptor(p->wd);
  if (p->cd) cudnnDestroyConvolutionDescriptor(p->cd);
  free(p);
}

static int plan_init(plan *p) {
  const st_cudnn_conv_geom *g = &p->g;
  int n, k, oh, ow;
  ST_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->xd));
  ST_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->yd));
  ST_CUDNN_CHECK(cudnnCreateFilterDescriptor(&p->wd));
  ST_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p->cd));
  ST_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, g->N, g->C, g->H, g->W));
  ST_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, g->N, g->K, g->OH, g->OW));
  ST_CUDNN_CHECK(cudnnSetFilter4dDescriptor(p->wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, g->K, g->C, g->kh, g->kw));
  /* Cross-correlation (no kernel flip), as the CPU kernels compute. */
  ST_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(p->cd, g->ph, g->pw, g->sh, g->sw, 1, 1, CUDNN_CROSS_CORRELATION,
                                                 CUDNN_DATA_FLOAT));
  ST_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(p->cd, p->xd, p->wd, &n, &k, &oh, &ow));
  if (n != g->N || k != g->K || oh != g->OH || ow != g->OW)
    return st_error("cuDNN conv: x [%d, %d, %d, %d], w [%d, %d, %d, %d], stride %dx%d, pad %dx%d gives "
                    "[%d, %d, %d, %d], expected [%d, %d, %d, %d]",
                    g->N, g->C, g->H, g->W, g->K, g->C, g->kh, g->kw, g->sh, g->sw, g->ph, g->pw, n, k, oh, ow, g->N,
                    g->K, g->OH, g->OW);
  return 0;
}

static int plan_get(int dev, const st_cudnn_conv_geom *g, plan **out) {
  for (int i = 0; i < n_plans; i++)
    if (plans[i]->dev == dev && memcmp(&plans[i]->g, g, sizeof *g) == 0) {
      *out = plans[i];
      return 0;
    }
  if (n_plans == cap_plans) {
    int cap = cap_plans ? 2 * cap_plans : 32;
    plan **grown = (plan **)realloc(plans, (size_t)cap * sizeof *grown);
    if (!grown) return st_error("cuDNN conv: out of memory for the plan cache");
    plans = grown;
    cap_plans = cap;
  }
  plan *p = (plan *)calloc(1, sizeof *p);
  if (!p) return st_error("cuDNN conv: out of memory for a plan");
  p->dev = dev;
  p->g = *g;
  if (plan_init(p) != 0) {
    plan_destroy(p);
    return -1;
  }
  plans[n_plans++] = p;
  *out = p;
  return 0;
}

void st_cudnn_conv_forget_choices(void) {
  for (int i = 0; i < n_plans; i++) memset(plans[i]->chosen, 0, sizeof plans[i]->chosen);
}

/* Copies cuDNN's per-direction results into `perf` records. */
template <typename T>
static int to_perf(const T *r, int n, perf *out) {
  for (int i = 0; i < n; i++) {
    out[i].algo = (int)r[i].algo;
    out[i].status = r[i].status;
    out[i].memory = r[i].memory;
    out[i].determinism = r[i].determinism;
    out[i].math = r[i].mathType;
  }
  return n;
}

/* Measures (or asks the heuristic about) every algorithm of one direction. */
static int list_algos(cudnnHandle_t h, plan *p, int dir, int exhaustive, perf *out, int *n_out) {
  int n = 0;
  if (dir == DIR_FWD) {
    cudnnConvolutionFwdAlgoPerf_t r[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    if (exhaustive)
      ST_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithm(h, p->xd, p->wd, p->cd, p->yd,
                                                          CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, r));
    else
      ST_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, p->xd, p->wd, p->cd, p->yd,
                                                            CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, r));
    *n_out = to_perf(r, n, out);
  } else if (dir == DIR_BWD_DATA) {
    cudnnConvolutionBwdDataAlgoPerf_t r[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    if (exhaustive)
      ST_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithm(h, p->wd, p->yd, p->cd, p->xd,
                                                               CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, r));
    else
      ST_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p->wd, p->yd, p->cd, p->xd,
                                                                 CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, r));
    *n_out = to_perf(r, n, out);
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t r[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    if (exhaustive)
      ST_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithm(h, p->xd, p->yd, p->cd, p->wd,
                                                                 CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, r));
    else
      ST_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p->xd, p->yd, p->cd, p->wd,
                                                                   CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, r));
    *n_out = to_perf(r, n, out);
  }
  return 0;
}

static int workspace_size(cudnnHandle_t h, plan *p, int dir, int algo, size_t *bytes) {
  if (dir == DIR_FWD)
    ST_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, p->xd, p->wd, p->cd, p->yd,
                                                           (cudnnConvolutionFwdAlgo_t)algo, bytes));
  else if (dir == DIR_BWD_DATA)
    ST_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(h, p->wd, p->yd, p->cd, p->xd,
                                                                (cudnnConvolutionBwdDataAlgo_t)algo, bytes));
  else
    ST_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, p->xd, p->yd, p->cd, p->wd,
                                                                  (cudnnConvolutionBwdFilterAlgo_t)algo, bytes));
  return 0;
}

/* Whether an algorithm's math is acceptable: tensor-op math (TF32 for float
 * data) only when allowed, and never _ALLOW_CONVERSION, which may round float
 * tensors down to half precision. */
static int math_ok(cudnnMathType_t m, int tf32) {
  if (m == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) return 0;
  return tf32 || m != CUDNN_TENSOR_OP_MATH;
}

/* Chooses direction dir's algorithm for plan p, once. Results come fastest
 * first (Find) or best first (heuristic). */
static int choose(cudnnHandle_t h, plan *p, int dir) {
  const int tf32 = st_cuda_tf32_allowed();
  const int exhaustive = !env_off("STRATA_CUDNN_FIND");
  const int want_det = !env_off("STRATA_CUDNN_DETERMINISTIC");
  perf r[16];
  int n = 0, pick = -1;
  /* FMA_MATH keeps float convolutions off TF32 tensor cores on Ampere and
   * later; DEFAULT_MATH there allows TF32. */
  ST_CUDNN_CHECK(cudnnSetConvolutionMathType(p->cd, tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
  if (list_algos(h, p, dir, exhaustive, r, &n) != 0) return -1;
  for (int pass = want_det ? 0 : 1; pass < 2 && pick < 0; pass++)
    for (int i = 0; i < n && pick < 0; i++) {
      if (r[i].status != CUDNN_STATUS_SUCCESS || r[i].memory > WORKSPACE_LIMIT) continue;
      if (!math_ok(r[i].math, tf32)) continue;
      if (pass == 0 && r[i].determinism != CUDNN_DETERMINISTIC) continue;
      pick = i;
    }
  const st_cudnn_conv_geom *g = &p->g;
  if (pick < 0)
    return st_error("cuDNN conv %s: no usable algorithm for x [%d, %d, %d, %d], w [%d, %d, %d, %d], stride %dx%d, "
                    "pad %dx%d (%d candidates%s)",
                    dir_name[dir], g->N, g->C, g->H, g->W, g->K, g->C, g->kh, g->kw, g->sh, g->sw, g->ph, g->pw, n,
                    tf32 ? "" : "; TF32 off");
  p->algo[dir] = r[pick].algo;
  p->math[dir] = tf32 ? r[pick].math : CUDNN_FMA_MATH;
  ST_CUDNN_CHECK(cudnnSetConvolutionMathType(p->cd, p->math[dir]));
  size_t ws = 0;
  if (workspace_size(h, p, dir, p->algo[dir], &ws) != 0) return -1;
  p->workspace[dir] = ws > r[pick].memory ? ws : r[pick].memory;
  p->chosen[dir] = 1;
  return 0;
}

/* Runs one direction: a = the direction's first input, b its second, out its output. */
static int run(int dev, const st_cudnn_conv_geom *g, int dir, float *out, const float *a, const float *b, float beta) {
  if (g->N <= 0) return 0;
  cudnnHandle_t h = NULL;
  plan *p = NULL;
  if (st_cuda_cudnn(dev, &h) != 0 || plan_get(dev, g, &p) != 0) return -1;
  if (!p->chosen[dir] && choose(h, p, dir) != 0) return -1;
  ST_CUDNN_CHECK(cudnnSetConvolutionMathType(p->cd, p->math[dir]));
  const float alpha = 1.0f;
  void *ws = NULL;
  const size_t wsb = p->workspace[dir];
  cudnnStatus_t s;
  if (wsb > 0 && !(ws = st_mem_alloc(st_cuda(dev), wsb, "cuDNN workspace"))) return -1;
  if (dir == DIR_FWD)
    s = cudnnConvolutionForward(h, &alpha, p->xd, a, p->wd, b, p->cd, (cudnnConvolutionFwdAlgo_t)p->algo[dir], ws, wsb,
                                &beta, p->yd, out);
  else if (dir == DIR_BWD_DATA)
    s = cudnnConvolutionBackwardData(h, &alpha, p->wd, b, p->yd, a, p->cd, (cudnnConvolutionBwdDataAlgo_t)p->algo[dir],
                                     ws, wsb, &beta, p->xd, out);
  else
    s = cudnnConvolutionBackwardFilter(h, &alpha, p->xd, a, p->yd, b, p->cd,
                                       (cudnnConvolutionBwdFilterAlgo_t)p->algo[dir], ws, wsb, &beta, p->wd, out);
  /* Stream-ordered: the block goes back to the cache while the conv may still
   * run, and the next kernel that gets it runs after the conv on the same stream. */
  if (ws) st_mem_free(st_cuda(dev), ws);
  if (s != CUDNN_STATUS_SUCCESS)
    return st_error("%s:%d: cudnnConvolution %s (algorithm %d) on x [%d, %d, %d, %d], w [%d, %d, %d, %d] failed: %s",
                    __FILE__, __LINE__, dir_name[dir], p->algo[dir], g->N, g->C, g->H, g->W, g->K, g->C, g->kh, g->kw,
                    cudnnGetErrorString(s));
  return 0;
}

int st_cudnn_conv_forward(int dev, const st_cudnn_conv_geom *g, float *y, const float *x, const float *w, float beta) {
  return run(dev, g, DIR_FWD, y, x, w, beta);
}

int st_cudnn_conv_backward_data(int dev, const st_cudnn_conv_geom *g, float *dx, const float *dy, const float *w,
                                float beta) {
  return run(dev, g, DIR_BWD_DATA, dx, dy, w, beta);
}

int st_cudnn_conv_backward_filter(int dev, const st_cudnn_conv_geom *g, float *dw, const float *x, const float *dy,
                                  float beta) {
  return run(dev, g, DIR_BWD_FILTER, dw, x, dy, beta);
}
