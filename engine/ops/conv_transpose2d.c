/* conv_transpose2d: argument checks, then the device's kernel. */
#include <limits.h>

#include "../error.h"
#include "dispatch.h"
#include "ops.h"

/* Validates x, w and p and fills the kernel descriptor. */
static int describe(const st_tensor *x, const st_tensor *w, const st_conv_transpose2d_params *p,
                    st_conv_transpose2d_desc *d, const char *fn) {
  char a[128], b[128];
  if (!p) return st_error("%s: missing params", fn);
  if (st_check_ndim(x, 4, "conv_transpose2d x") || st_check_ndim(w, 4, "conv_transpose2d w ([Cin, Cout, kh, kw])"))
    return -1;
  if (st_check_same_device(x, w, "conv_transpose2d x and w")) return -1;
  if (x->shape[1] != w->shape[0])
    return st_error("%s: x %s has %lld channels but w %s ([Cin, Cout, kh, kw]) expects %lld", fn,
                    st_shape_str(4, x->shape, a, sizeof a), (long long)x->shape[1],
                    st_shape_str(4, w->shape, b, sizeof b), (long long)w->shape[0]);
  for (int i = 0; i < 4; i++)
    if (w->shape[i] < 1 || w->shape[i] > INT_MAX || x->shape[i] > INT_MAX)
      return st_error("%s: unsupported sizes x %s, w %s (every w dimension must be at least 1)", fn,
                      st_shape_str(4, x->shape, a, sizeof a), st_shape_str(4, w->shape, b, sizeof b));
  if (p->stride_h < 1 || p->stride_w < 1)
    return st_error("%s: stride must be at least 1, got %d x %d", fn, p->stride_h, p->stride_w);
  if (p->crop_top < 0 || p->crop_left < 0)
    return st_error("%s: crop must not be negative, got top %d left %d", fn, p->crop_top, p->crop_left);
  if (p->out_h < 1 || p->out_w < 1)
    return st_error("%s: output size must be positive, got out_h %d out_w %d", fn, p->out_h, p->out_w);
  d->N = (int)x->shape[0];
  d->Ci = (int)x->shape[1];
  d->H = (int)x->shape[2];
  d->W = (int)x->shape[3];
  d->Co = (int)w->shape[1];
  d->kh = (int)w->shape[2];
  d->kw = (int)w->shape[3];
  d->sh = p->stride_h;
  d->sw = p->stride_w;
  d->crop_top = p->crop_top;
  d->crop_left = p->crop_left;
  d->OH = p->out_h;
  d->OW = p->out_w;
  /* BLAS takes int sizes and leading dimensions. */
  if ((long)d->H * d->W > INT_MAX || (long)d->OH * d->OW > INT_MAX || (long)d->Co * d->kh * d->kw > INT_MAX)
    return st_error("%s: x %s or output %dx%d is too large for one image plane", fn,
                    st_shape_str(4, x->shape, a, sizeof a), d->OH, d->OW);
  return 0;
}

static void out_shape(const st_conv_transpose2d_desc *d, int64_t out[4]) {
  out[0] = d->N;
  out[1] = d->Co;
  out[2] = d->OH;
  out[3] = d->OW;
}

int st_conv_transpose2d_shape(const st_tensor *x, const st_tensor *w, const st_conv_transpose2d_params *p,
                              int64_t out[4]) {
  st_conv_transpose2d_desc d;
  if (describe(x, w, p, &d, "conv_transpose2d") != 0) return -1;
  out_shape(&d, out);
  return 0;
}

int st_conv_transpose2d_forward(st_tensor *y, const st_tensor *x, const st_tensor *w, const st_tensor *b,
                                const st_conv_transpose2d_params *p) {
  st_conv_transpose2d_desc d;
  int64_t ys[4];
  if (describe(x, w, p, &d, "conv_transpose2d forward") != 0) return -1;
  out_shape(&d, ys);
  if (st_check_placed(y, 4, ys, x, "conv_transpose2d forward y")) return -1;
  if (b) {
    int64_t bs[1] = {d.Co};
    if (st_check_placed(b, 1, bs, x, "conv_transpose2d forward b")) return -1;
  }
  int dev;
  const st_kernels *k = st_kernels_of(x, &dev, "conv_transpose2d forward");
  if (!k) return -1;
  return k->conv_transpose2d_forward(dev, &d, st_tensor_data(y), st_tensor_data(x), st_tensor_data(w),
                                     b ? st_tensor_data(b) : NULL);
}

int st_conv_transpose2d_backward(st_tensor *dx, st_tensor *dw, st_tensor *db, const st_tensor *dy, const st_tensor *x,
                                 const st_tensor *w, const st_conv_transpose2d_params *p) {
  st_conv_transpose2d_desc d;
  int64_t ys[4];
  if (describe(x, w, p, &d, "conv_transpose2d backward") != 0) return -1;
  out_shape(&d, ys);
  if (st_check_placed(dy, 4, ys, x, "conv_transpose2d backward dy")) return -1;
  if (dx && st_check_placed(dx, 4, x->shape, x, "conv_transpose2d backward dx")) return -1;
  if (dw && st_check_placed(dw, 4, w->shape, x, "conv_transpose2d backward dw")) return -1;
  if (db) {
    int64_t bs[1] = {d.Co};
    if (st_check_placed(db, 1, bs, x, "conv_transpose2d backward db")) return -1;
  }
  int dev;
  const st_kernels *k = st_kernels_of(x, &dev, "conv_transpose2d backward");
  if (!k) return -1;
  return k->conv_transpose2d_backward(dev, &d, dx ? st_tensor_data(dx) : NULL, dw ? st_tensor_data(dw) : NULL,
                                      db ? st_tensor_data(db) : NULL, st_tensor_data(dy), st_tensor_data(x),
                                      st_tensor_data(w));
}
