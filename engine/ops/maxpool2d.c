/* maxpool2d: argument checks, then the device's kernel. */
#include "train_ops.h"

#include "../error.h"
#include "dispatch.h"
#include "kernels/maxpool2d_window.h"

int st_maxpool2d_shape(const st_tensor *x, const st_maxpool2d_params *p, int64_t out[4]) {
  if (!p) return st_error("maxpool2d: missing params");
  if (st_check_ndim(x, 4, "maxpool2d: x") != 0) return -1;
  if (p->kernel_h < 1 || p->kernel_w < 1)
    return st_error("maxpool2d: kernel must be at least 1x1, got %dx%d", p->kernel_h, p->kernel_w);
  if (p->stride_h < 1 || p->stride_w < 1)
    return st_error("maxpool2d: stride must be at least 1, got %dx%d", p->stride_h, p->stride_w);
  if (p->same) {
    if (p->pad_top || p->pad_bottom || p->pad_left || p->pad_right)
      return st_error("maxpool2d: 'same' padding computes the pads, got explicit ones (top %d, bottom %d, left %d, "
                      "right %d)", p->pad_top, p->pad_bottom, p->pad_left, p->pad_right);
    if (x->shape[2] < 1 || x->shape[3] < 1)
      return st_error("maxpool2d: input %lldx%lld is empty", (long long)x->shape[2], (long long)x->shape[3]);
    int before, after;
    out[0] = x->shape[0];
    out[1] = x->shape[1];
    out[2] = st_maxpool2d_same_pads(x->shape[2], p->kernel_h, p->stride_h, &before, &after);
    out[3] = st_maxpool2d_same_pads(x->shape[3], p->kernel_w, p->stride_w, &before, &after);
    return 0;
  }
  if (p->pad_top < 0 || p->pad_bottom < 0 || p->pad_left < 0 || p->pad_right < 0)
    return st_error("maxpool2d: pads must be >= 0, got (top %d, bottom %d, left %d, right %d)", p->pad_top,
                    p->pad_bottom, p->pad_left, p->pad_right);
  /* A pad as large as the kernel would make a window of padding only (-inf). */
  if (p->pad_top >= p->kernel_h || p->pad_bottom >= p->kernel_h || p->pad_left >= p->kernel_w ||
      p->pad_right >= p->kernel_w)
    return st_error("maxpool2d: each pad must be smaller than the kernel (%dx%d), got (top %d, bottom %d, left %d, "
                    "right %d)", p->kernel_h, p->kernel_w, p->pad_top, p->pad_bottom, p->pad_left, p->pad_right);
  int64_t hp = x->shape[2] + p->pad_top + p->pad_bottom, wp = x->shape[3] + p->pad_left + p->pad_right;
  if (x->shape[2] < 1 || x->shape[3] < 1 || hp < p->kernel_h || wp < p->kernel_w)
    return st_error("maxpool2d: input %lldx%lld padded to %lldx%lld is smaller than the %dx%d kernel",
                    (long long)x->shape[2], (long long)x->shape[3], (long long)hp, (long long)wp, p->kernel_h,
                    p->kernel_w);
  out[0] = x->shape[0];
  out[1] = x->shape[1];
  out[2] = (hp - p->kernel_h) / p->stride_h + 1;
  out[3] = (wp - p->kernel_w) / p->stride_w + 1;
  return 0;
}

int st_maxpool2d_forward(st_tensor *y, const st_tensor *x, const st_maxpool2d_params *p) {
  int64_t out[4];
  int dev;
  const st_kernels *k;
  if (st_maxpool2d_shape(x, p, out) != 0 || st_check_placed(y, 4, out, x, "st_maxpool2d_forward: y") != 0 ||
      !(k = st_kernels_of(x, &dev, "st_maxpool2d_forward")))
    return -1;
  return k->maxpool2d_forward(dev, st_tensor_data(y), st_tensor_data(x), out[0] * out[1], x->shape[2], x->shape[3],
                              out[2], out[3], p);
}

int st_maxpool2d_backward(st_tensor *dx, const st_tensor *dy, const st_tensor *x, const st_maxpool2d_params *p) {
  int64_t out[4];
  int dev;
  const st_kernels *k;
  if (st_maxpool2d_shape(x, p, out) != 0 || st_check_placed(dy, 4, out, x, "st_maxpool2d_backward: dy") != 0 ||
      !(k = st_kernels_of(x, &dev, "st_maxpool2d_backward")))
    return -1;
  if (!dx) return 0;
  if (st_check_placed(dx, 4, x->shape, x, "st_maxpool2d_backward: dx") != 0)
    return -1;
  return k->maxpool2d_backward(dev, st_tensor_data(dx), st_tensor_data(dy), st_tensor_data(x), out[0] * out[1],
                               x->shape[2], x->shape[3], out[2], out[3], p);
}
