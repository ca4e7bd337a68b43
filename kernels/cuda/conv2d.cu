/* conv2d (CUDA) on cuDNN.
 *
 * cuDNN pads symmetrically and only with zeros. The symmetric zero part of
 * the padding goes to cuDNN; whatever remains (the extra row and column of
 * TensorFlow 'SAME' stride-2 padding, reflect and replicate padding) is
 * materialised with the pad2d kernel into a scratch input, and the backward
 * folds the scratch gradient back with pad2d's backward. */
#include "kernels/cuda/conv2d.h"

#include "kernels/cuda/bias.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cudnn_conv.h"
#include "kernels/cuda/pad2d.h"

extern "C" {
#include "engine/device.h"
#include "engine/memory.h"
}

/* The cuDNN geometry (on the explicitly padded input) and the explicit pads. */
typedef struct {
  st_cudnn_conv_geom g;
  int et, eb, el, er;
  int explicit_pad;
} lowering;

static lowering lower(const st_conv2d_desc *d) {
  lowering l;
  int mh = 0, mw = 0;
  /* An empty input plane cannot go to cuDNN; padding it explicitly gives a real one. */
  if (d->pad_mode == ST_PAD_ZERO && d->H > 0 && d->W > 0) {
    mh = d->pt < d->pb ? d->pt : d->pb;
    mw = d->pl < d->pr ? d->pl : d->pr;
    /* Padding as wide as the kernel is outside what every cuDNN algorithm takes. */
    if (mh > d->kh - 1) mh = d->kh - 1;
    if (mw > d->kw - 1) mw = d->kw - 1;
  }
  l.et = d->pt - mh;
  l.eb = d->pb - mh;
  l.el = d->pl - mw;
  l.er = d->pr - mw;
  l.explicit_pad = l.et || l.eb || l.el || l.er;
  l.g.N = d->N;
  l.g.C = d->C;
  l.g.H = d->H + l.et + l.eb;
  l.g.W = d->W + l.el + l.er;
  l.g.K = d->K;
  l.g.kh = d->kh;
  l.g.kw = d->kw;
  l.g.sh = d->sh;
  l.g.sw = d->sw;
  l.g.ph = mh;
  l.g.pw = mw;
  l.g.OH = d->OH;
  l.g.OW = d->OW;
  return l;
}

static size_t padded_bytes(const lowering *l) {
  return (size_t)l->g.N * l->g.C * (size_t)l->g.H * l->g.W * sizeof(float);
}

/* A scratch copy of x with the explicit pads applied, or NULL with an error. */
static float *padded_input(int dev, const st_conv2d_desc *d, const lowering *l, const float *x) {
  float *xp = (float *)st_mem_alloc(st_cuda(dev), padded_bytes(l), "conv2d padded input");
  if (!xp) return NULL;
  if (st_cuda_pad2d_forward(dev, xp, x, (int64_t)d->N * d->C, d->H, d->W, l->et, l->eb, l->el, l->er,
                            (st_pad_mode)d->pad_mode) != 0) {
    st_mem_free(st_cuda(dev), xp);
    return NULL;
  }
  return xp;
}

extern "C" int st_cuda_conv2d_forward(int dev, const st_conv2d_desc *d, float *y, const float *x, const float *w,
                                      const float *b) {
  if (d->N <= 0) return 0;
  const lowering l = lower(d);
  float *xp = NULL;
  if (l.explicit_pad && !(xp = padded_input(dev, d, &l, x))) return -1;
  int rc = st_cudnn_conv_forward(dev, &l.g, y, xp ? xp : x, w, 0.0f);
  if (xp) st_mem_free(st_cuda(dev), xp);
  if (rc != 0) return -1;
  if (b) return st_cuda_bias_add(dev, y, b, d->N, d->K, (int64_t)d->OH * d->OW);
  return 0;
}

extern "C" int st_cuda_conv2d_backward(int dev, const st_conv2d_desc *d, float *dx, float *dw, float *db,
                                       const float *dy, const float *x, const float *w) {
  if (d->N <= 0) return 0;
  const lowering l = lower(d);
  if (db && st_cuda_bias_grad(dev, db, dy, d->N, d->K, (int64_t)d->OH * d->OW) != 0) return -1;
  if (dw) {
    float *xp = NULL;
    if (l.explicit_pad && !(xp = padded_input(dev, d, &l, x))) return -1;
    int rc = st_cudnn_conv_backward_filter(dev, &l.g, dw, xp ? xp : x, dy, 1.0f);
    if (xp) st_mem_free(st_cuda(dev), xp);
    if (rc != 0) return -1;
  }
  if (dx) {
    if (!l.explicit_pad) return st_cudnn_conv_backward_data(dev, &l.g, dx, dy, w, 0.0f);
    float *dxp = (float *)st_mem_alloc(st_cuda(dev), padded_bytes(&l), "conv2d padded input gradient");
    if (!dxp) return -1;
    int rc = st_cudnn_conv_backward_data(dev, &l.g, dxp, dy, w, 0.0f);
    if (rc == 0)
      rc = st_cuda_pad2d_backward(dev, dx, dxp, (int64_t)d->N * d->C, d->H, d->W, l.et, l.eb, l.el, l.er,
                                  (st_pad_mode)d->pad_mode);
    st_mem_free(st_cuda(dev), dxp);
    if (rc != 0) return -1;
  }
  return 0;
}
