/* conv_transpose2d (CUDA) on cuDNN.
 *
 * A transposed conv is the adjoint of the conv2d that maps the (full) output
 * back onto x's grid with w read as [K = Ci, C = Co, kh, kw]. So
 *   forward  y  = cuDNN backward-data of that conv (its "dy" is x),
 *   backward dx = cuDNN forward of that conv on dy,
 *            dw += cuDNN backward-filter with dy as the conv's input and x as its output gradient.
 * When the crop is symmetric (the same rows cut at both ends) it is cuDNN's
 * padding and y is used directly; otherwise (TensorFlow 'SAME', which drops
 * only the last row and column) the full output goes through a scratch
 * buffer, cropped into y in the forward and zero-extended from dy in the backward. */
#include "kernels/cuda/conv_transpose2d.h"

#include "kernels/cuda/bias.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cudnn_conv.h"
#include "kernels/cuda/handles.h"
#include "kernels/cuda/launch.h"

extern "C" {
#include "engine/device.h"
#include "engine/memory.h"
}

typedef struct {
  st_cudnn_conv_geom g; /* the conv whose adjoint this is: image [N, Co, g.H, g.W] -> x [N, Ci, H, W] */
  int direct;           /* g's image is y itself (symmetric crop as padding) */
  int Hf, Wf;           /* the full output */
} lowering;

static lowering lower(const st_conv_transpose2d_desc *d) {
  lowering l;
  l.Hf = (d->H - 1) * d->sh + d->kh;
  l.Wf = (d->W - 1) * d->sw + d->kw;
  l.direct = l.Hf - d->crop_top - d->OH == d->crop_top && l.Wf - d->crop_left - d->OW == d->crop_left &&
             d->crop_top < d->kh && d->crop_left < d->kw;
  l.g.N = d->N;
  l.g.C = d->Co;
  l.g.H = l.direct ? d->OH : l.Hf;
  l.g.W = l.direct ? d->OW : l.Wf;
  l.g.K = d->Ci;
  l.g.kh = d->kh;
  l.g.kw = d->kw;
  l.g.sh = d->sh;
  l.g.sw = d->sw;
  l.g.ph = l.direct ? d->crop_top : 0;
  l.g.pw = l.direct ? d->crop_left : 0;
  l.g.OH = d->H;
  l.g.OW = d->W;
  return l;
}

/* y[p, r, q] = full[p, r + ct, q + cl], zero past the full output. */
__global__ void crop_kernel(float *y, const float *full, int64_t planes, int OH, int OW, int Hf, int Wf, int ct,
                            int cl) {
  ST_CUDA_GRID_LOOP(k, planes * OH * OW) {
    const int64_t q = k % OW, r = (k / OW) % OH, p = k / ((int64_t)OW * OH);
    const int64_t R = r + ct, Q = q + cl;
    y[k] = (R < Hf && Q < Wf) ? full[(p * Hf + R) * Wf + Q] : 0.0f;
  }
}

/* full[p, R, Q] = dy[p, R - ct, Q - cl] inside y's window, else 0. */
__global__ void embed_kernel(float *full, const float *dy, int64_t planes, int OH, int OW, int Hf, int Wf, int ct,
                             int cl) {
  ST_CUDA_GRID_LOOP(k, planes * Hf * Wf) {
    const int64_t Q = k % Wf, R = (k / Wf) % Hf, p = k / ((int64_t)Wf * Hf);
    const int64_t r = R - ct, q = Q - cl;
    full[k] = (r >= 0 && r < OH && q >= 0 && q < OW) ? dy[(p * OH + r) * OW + q] : 0.0f;
  }
}

static size_t full_bytes(const st_conv_transpose2d_desc *d, const lowering *l) {
  return (size_t)d->N * d->Co * (size_t)l->Hf * l->Wf * sizeof(float);
}

extern "C" int st_cuda_conv_transpose2d_forward(int dev, const st_conv_transpose2d_desc *d, float *y,
                                                const float *x, const float *w, const float *b) {
  if (d->N <= 0) return 0;
  const int64_t planes = (int64_t)d->N * d->Co, P = (int64_t)d->OH * d->OW;
  if (st_cuda_use_device(dev) != 0) return -1;
  if (d->H <= 0 || d->W <= 0) { /* nothing to scatter: y is the bias alone */
    ST_CUDA_CHECK(cudaMemset(y, 0, (size_t)(planes * P) * sizeof(float)));
  } else {
    const lowering l = lower(d);
    if (l.direct) {
      if (st_cudnn_conv_backward_data(dev, &l.g, y, x, w, 0.0f) != 0) return -1;
    } else {
      int rc = -1;
      float *full = (float *)st_mem_alloc(st_cuda(dev), full_bytes(d, &l), "conv_transpose2d full output");
      if (!full) return -1;
      if (st_cudnn_conv_backward_data(dev, &l.g, full, x, w, 0.0f) != 0) goto done;
      crop_kernel<<<st_cuda_blocks(planes * P), ST_CUDA_THREADS>>>(y, full, planes, d->OH, d->OW, l.Hf, l.Wf,
                                                                  d->crop_top, d->crop_left);
      ST_CUDA_LAUNCH_CHECK_GOTO("crop_kernel", done);
      rc = 0;
    done:
      st_mem_free(st_cuda(dev), full);
      if (rc != 0) return -1;
    }
  }
  if (b) return st_cuda_bias_add(dev, y, b, d->N, d->Co, P);
  return 0;
}

extern "C" int st_cuda_conv_transpose2d_backward(int dev, const st_conv_transpose2d_desc *d, float *dx, float *dw,
                                                 float *db, const float *dy, const float *x, const float *w) {
  if (d->N <= 0) return 0;
  const int64_t planes = (int64_t)d->N * d->Co, P = (int64_t)d->OH * d->OW;
  if (db && st_cuda_bias_grad(dev, db, dy, d->N, d->Co, P) != 0) return -1;
  if ((!dx && !dw) || d->H <= 0 || d->W <= 0) return 0; /* an empty x has an empty gradient and adds nothing to dw */
  if (st_cuda_use_device(dev) != 0) return -1;
  const lowering l = lower(d);
  int rc = -1;
  float *full = NULL;
  const float *img = dy;
  if (!l.direct) {
    full = (float *)st_mem_alloc(st_cuda(dev), full_bytes(d, &l), "conv_transpose2d full output gradient");
    if (!full) return -1;
    embed_kernel<<<st_cuda_blocks(planes * l.Hf * l.Wf), ST_CUDA_THREADS>>>(full, dy, planes, d->OH, d->OW, l.Hf,
                                                                             l.Wf, d->crop_top, d->crop_left);
    ST_CUDA_LAUNCH_CHECK_GOTO("embed_kernel", done);
    img = full;
  }
  if (dx && st_cudnn_conv_forward(dev, &l.g, dx, img, w, 0.0f) != 0) goto done;
  if (dw && st_cudnn_conv_backward_filter(dev, &l.g, dw, img, x, 1.0f) != 0) goto done;
  rc = 0;
done:
  if (full) st_mem_free(st_cuda(dev), full);
  return rc;
}
