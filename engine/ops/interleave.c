/* FCRN interleave: argument checks, then the device's kernel. */
#include "error.h"
#include "ops/dispatch.h"
#include "ops/fcrn_ops.h"

int st_interleave_shape(const st_tensor *a, int64_t out[4]) {
  if (st_check_ndim(a, 4, "interleave: a")) return -1;
  out[0] = a->shape[0];
  out[1] = a->shape[1];
  out[2] = 2 * a->shape[2];
  out[3] = 2 * a->shape[3];
  return 0;
}

/* t (a quarter map) has a's shape and device; NULL only when optional. */
static int check_quarter(const st_tensor *t, const st_tensor *a, int optional, const char *what) {
  if (!t) return optional ? 0 : st_error("%s is required", what);
  return st_check_placed(t, 4, a->shape, a, what);
}

int st_interleave_forward(st_tensor *y, const st_tensor *a, const st_tensor *b, const st_tensor *c,
                          const st_tensor *d) {
  int64_t out[4];
  if (!a) return st_error("st_interleave_forward: a is required");
  if (st_interleave_shape(a, out)) return -1;
  if (check_quarter(b, a, 0, "st_interleave_forward: b (the 2x3 conv)") ||
      check_quarter(c, a, 0, "st_interleave_forward: c (the 3x2 conv)") ||
      check_quarter(d, a, 0, "st_interleave_forward: d (the 2x2 conv)"))
    return -1;
  if (st_check_placed(y, 4, out, a, "st_interleave_forward: y")) return -1;
  int dev;
  const st_kernels *k = st_kernels_of(a, &dev, "st_interleave_forward");
  if (!k) return -1;
  return k->interleave_forward(dev, st_tensor_data(y), st_tensor_data(a), st_tensor_data(b), st_tensor_data(c),
                               st_tensor_data(d), a->shape[0] * a->shape[1], a->shape[2], a->shape[3]);
}

int st_interleave_backward(st_tensor *da, st_tensor *db, st_tensor *dc, st_tensor *dd, const st_tensor *dy) {
  if (st_check_ndim(dy, 4, "st_interleave_backward: dy")) return -1;
  if (dy->shape[2] % 2 || dy->shape[3] % 2)
    return st_error("st_interleave_backward: dy must have an even height and width, got %lldx%lld",
                    (long long)dy->shape[2], (long long)dy->shape[3]);
  int64_t q[4] = {dy->shape[0], dy->shape[1], dy->shape[2] / 2, dy->shape[3] / 2};
  st_tensor *grads[4] = {da, db, dc, dd};
  const char *names[4] = {"st_interleave_backward: da", "st_interleave_backward: db", "st_interleave_backward: dc",
                          "st_interleave_backward: dd"};
  int any = 0;
  for (int i = 0; i < 4; i++) {
    if (!grads[i]) continue;
    if (st_check_placed(grads[i], 4, q, dy, names[i])) return -1;
    any = 1;
  }
  if (!any) return 0;
  int dev;
  const st_kernels *k = st_kernels_of(dy, &dev, "st_interleave_backward");
  if (!k) return -1;
  return k->interleave_backward(dev, da ? st_tensor_data(da) : NULL, db ? st_tensor_data(db) : NULL,
                                dc ? st_tensor_data(dc) : NULL, dd ? st_tensor_data(dd) : NULL, st_tensor_data(dy),
                                q[0] * q[1], q[2], q[3]);
}
