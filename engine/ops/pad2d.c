/* pad2d: argument checks, then the device's kernel. */
#include "ops/ops.h"

#include <stdio.h>

#include "error.h"
#include "ops/dispatch.h"

static const char *mode_name(st_pad_mode m) {
  switch (m) {
    case ST_PAD_ZERO: return "zero";
    case ST_PAD_REFLECT: return "reflect";
    case ST_PAD_REPLICATE: return "replicate";
  }
  return "?";
}

/* Checks x, the pads and the mode; what names the calling function. */
static int check_args(const st_tensor *x, int top, int bottom, int left, int right, st_pad_mode mode,
                      const char *fn, const char *xname) {
  char what[96];
  snprintf(what, sizeof what, "%s: %s", fn, xname);
  if (st_check_ndim(x, 4, what)) return -1;
  if (mode != ST_PAD_ZERO && mode != ST_PAD_REFLECT && mode != ST_PAD_REPLICATE)
    return st_error("%s: unknown pad mode %d (expected zero, reflect or replicate)", fn, (int)mode);
  if (top < 0 || bottom < 0 || left < 0 || right < 0)
    return st_error("%s: pads must be >= 0, got top=%d bottom=%d left=%d right=%d", fn, top, bottom, left, right);
  const int64_t H = x->shape[2], W = x->shape[3];
  if (mode == ST_PAD_REFLECT && (top >= H || bottom >= H || left >= W || right >= W))
    return st_error("%s: reflect padding needs each pad < its dimension, got top=%d bottom=%d for H=%lld and "
                    "left=%d right=%d for W=%lld", fn, top, bottom, (long long)H, left, right, (long long)W);
  if (mode != ST_PAD_ZERO && (top || bottom || left || right) && (H == 0 || W == 0))
    return st_error("%s: %s padding of an empty plane (H=%lld W=%lld)", fn, mode_name(mode), (long long)H, (long long)W);
  return 0;
}

static void padded_shape(const int64_t *s, int top, int bottom, int left, int right, int64_t out[4]) {
  out[0] = s[0];
  out[1] = s[1];
  out[2] = s[2] + top + bottom;
  out[3] = s[3] + left + right;
}

int st_pad2d_shape(const st_tensor *x, int top, int bottom, int left, int right, st_pad_mode mode, int64_t out[4]) {
  if (check_args(x, top, bottom, left, right, mode, "st_pad2d_shape", "x")) return -1;
  padded_shape(x->shape, top, bottom, left, right, out);
  return 0;
}

int st_pad2d_forward(st_tensor *y, const st_tensor *x, int top, int bottom, int left, int right, st_pad_mode mode) {
  int64_t out[4];
  if (check_args(x, top, bottom, left, right, mode, "st_pad2d_forward", "x")) return -1;
  padded_shape(x->shape, top, bottom, left, right, out);
  if (st_check_placed(y, 4, out, x, "st_pad2d_forward: y")) return -1;
  int dev;
  const st_kernels *k = st_kernels_of(x, &dev, "st_pad2d_forward");
  if (!k) return -1;
  return k->pad2d_forward(dev, st_tensor_data(y), st_tensor_data(x), x->shape[0] * x->shape[1], x->shape[2],
                          x->shape[3], top, bottom, left, right, mode);
}

int st_pad2d_backward(st_tensor *dx, const st_tensor *dy, int top, int bottom, int left, int right, st_pad_mode mode) {
  int64_t out[4];
  if (!dx) return 0; /* x's gradient is the only one; nothing wanted */
  if (check_args(dx, top, bottom, left, right, mode, "st_pad2d_backward", "dx")) return -1;
  padded_shape(dx->shape, top, bottom, left, right, out);
  if (st_check_placed(dy, 4, out, dx, "st_pad2d_backward: dy")) return -1;
  int dev;
  const st_kernels *k = st_kernels_of(dx, &dev, "st_pad2d_backward");
  if (!k) return -1;
  return k->pad2d_backward(dev, st_tensor_data(dx), st_tensor_data(dy), dx->shape[0] * dx->shape[1], dx->shape[2],
                           dx->shape[3], top, bottom, left, right, mode);
}
