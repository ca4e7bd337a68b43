/* conv2d: argument checks, then the device's kernel. */
#include <limits.h>

#include "../error.h"
#include "dispatch.h"
#include "ops.h"

void st_same_pads(int in, int k, int stride, int *before, int *after) {
  if (stride < 1 || in < 0 || k < 1) { /* meaningless: no padding, the conv checks will complain */
    *before = *after = 0;
    return;
  }
  int out = (in + stride - 1) / stride;
  int total = (out - 1) * stride + k - in;
  if (total < 0) total = 0;
  *before = total / 2;
  *after = total - *before;
}

/* Validates x, w and p and fills the kernel descriptor (output size included). */
static int describe(const st_tensor *x, const st_tensor *w, const st_conv2d_params *p, st_conv2d_desc *d,
                    const char *fn) {
  char a[128], b[128];
  if (!p) return st_error("%s: missing params", fn);
  if (st_check_ndim(x, 4, "conv2d x") || st_check_ndim(w, 4, "conv2d w (OIHW)")) return -1;
  if (st_check_same_device(x, w, "conv2d x and w")) return -1;
  if (x->shape[1] != w->shape[1])
    return st_error("%s: x %s has %lld channels but w %s (OIHW) expects %lld", fn,
                    st_shape_str(4, x->shape, a, sizeof a), (long long)x->shape[1],
                    st_shape_str(4, w->shape, b, sizeof b), (long long)w->shape[1]);
  for (int i = 0; i < 4; i++)
    if (w->shape[i] < 1 || w->shape[i] > INT_MAX || x->shape[i] > INT_MAX)
      return st_error("%s: unsupported sizes x %s, w %s (every w dimension must be at least 1)", fn,
                      st_shape_str(4, x->shape, a, sizeof a), st_shape_str(4, w->shape, b, sizeof b));
  if (p->stride_h < 1 || p->stride_w < 1)
    return st_error("%s: stride must be at least 1, got %d x %d", fn, p->stride_h, p->stride_w);
  if (p->pad_top < 0 || p->pad_bottom < 0 || p->pad_left < 0 || p->pad_right < 0)
    return st_error("%s: padding must not be negative, got top %d bottom %d left %d right %d", fn, p->pad_top,
                    p->pad_bottom, p->pad_left, p->pad_right);
  if (p->pad_mode != ST_PAD_ZERO && p->pad_mode != ST_PAD_REFLECT && p->pad_mode != ST_PAD_REPLICATE)
    return st_error("%s: unknown pad_mode %d (0 zero, 1 reflect, 2 replicate)", fn, (int)p->pad_mode);
  d->N = (int)x->shape[0];
  d->C = (int)x->shape[1];
  d->H = (int)x->shape[2];
  d->W = (int)x->shape[3];
  d->K = (int)w->shape[0];
  d->kh = (int)w->shape[2];
  d->kw = (int)w->shape[3];
  d->sh = p->stride_h;
  d->sw = p->stride_w;
  d->pt = p->pad_top;
  d->pb = p->pad_bottom;
  d->pl = p->pad_left;
  d->pr = p->pad_right;
  d->pad_mode = (int)p->pad_mode;
  long hp = (long)d->H + d->pt + d->pb, wp = (long)d->W + d->pl + d->pr;
  if (hp < d->kh || wp < d->kw)
    return st_error("%s: kernel %dx%d is larger than the padded input %ldx%ld (x %s): the output size would be "
                    "negative",
                    fn, d->kh, d->kw, hp, wp, st_shape_str(4, x->shape, a, sizeof a));
  if (d->pad_mode == ST_PAD_REFLECT &&
      (d->pt >= d->H || d->pb >= d->H || d->pl >= d->W || d->pr >= d->W))
    return st_error("%s: reflect padding (top %d bottom %d left %d right %d) must be smaller than the input %dx%d", fn,
                    d->pt, d->pb, d->pl, d->pr, d->H, d->W);
  if (d->pad_mode == ST_PAD_REPLICATE && (d->pt || d->pb || d->pl || d->pr) && (d->H < 1 || d->W < 1))
    return st_error("%s: replicate padding of an empty input %dx%d", fn, d->H, d->W);
  d->OH = (int)((hp - d->kh) / d->sh + 1);
  d->OW = (int)((wp - d->kw) / d->sw + 1);
  /* BLAS takes int sizes and leading dimensions. */
  if (hp * wp > INT_MAX || (long)d->OH * d->OW > INT_MAX || (long)d->C * d->kh * d->kw > INT_MAX ||
      (long)d->K * d->kh * d->kw > INT_MAX)
    return st_error("%s: x %s is too large for one image plane", fn, st_shape_str(4, x->shape, a, sizeof a));
  return 0;
}

static void out_shape(const st_conv2d_desc *d, int64_t out[4]) {
  out[0] = d->N;
  out[1] = d->K;
  out[2] = d->OH;
  out[3] = d->OW;
}

int st_conv2d_shape(const st_tensor *x, const st_tensor *w, const st_conv2d_params *p, int64_t out[4]) {
  st_conv2d_desc d;
  if (describe(x, w, p, &d, "conv2d") != 0) return -1;
  out_shape(&d, out);
  return 0;
}

int st_conv2d_forward(st_tensor *y, const st_tensor *x, const st_tensor *w, const st_tensor *b,
                      const st_conv2d_params *p) {
  st_conv2d_desc d;
  int64_t ys[4];
  if (describe(x, w, p, &d, "conv2d forward") != 0) return -1;
  out_shape(&d, ys);
  if (st_check_placed(y, 4, ys, x, "conv2d forward y")) return -1;
  if (b) {
    int64_t bs[1] = {d.K};
    if (st_check_placed(b, 1, bs, x, "conv2d forward b")) return -1;
  }
  int dev;
  const st_kernels *k = st_kernels_of(x, &dev, "conv2d forward");
  if (!k) return -1;
  return k->conv2d_forward(dev, &d, st_tensor_data(y), st_tensor_data(x), st_tensor_data(w),
                           b ? st_tensor_data(b) : NULL);
}

int st_conv2d_backward(st_tensor *dx, st_tensor *dw, st_tensor *db, const st_tensor *dy, const st_tensor *x,
                       const st_tensor *w, const st_conv2d_params *p) {
  st_conv2d_desc d;
  int64_t ys[4];
  if (describe(x, w, p, &d, "conv2d backward") != 0) return -1;
  out_shape(&d, ys);
  if (st_check_placed(dy, 4, ys, x, "conv2d backward dy")) return -1;
  if (dx && st_check_placed(dx, 4, x->shape, x, "conv2d backward dx")) return -1;
  if (dw && st_check_placed(dw, 4, w->shape, x, "conv2d backward dw")) return -1;
  if (db) {
    int64_t bs[1] = {d.K};
    if (st_check_placed(db, 1, bs, x, "conv2d backward db")) return -1;
  }
  int dev;
  const st_kernels *k = st_kernels_of(x, &dev, "conv2d backward");
  if (!k) return -1;
  return k->conv2d_backward(dev, &d, dx ? st_tensor_data(dx) : NULL, dw ? st_tensor_data(dw) : NULL,
                            db ? st_tensor_data(db) : NULL, st_tensor_data(dy), st_tensor_data(x), st_tensor_data(w));
}
