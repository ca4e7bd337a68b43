/* Tensor statistics: argument checks, then the device's kernel. */
#include "ops/tensor_ops.h"

#include "error.h"
#include "ops/dispatch.h"

/* x present, and its device's kernels. */
static const st_kernels *kernels(const st_tensor *x, int *dev, const char *fn) {
  if (!x) {
    st_error("%s: missing tensor x", fn);
    return NULL;
  }
  return st_kernels_of(x, dev, fn);
}

int st_sum(double *out, const st_tensor *x) {
  int dev;
  const st_kernels *k = kernels(x, &dev, "st_sum");
  if (!k) return -1;
  if (!out) return st_error("st_sum: missing result pointer");
  return k->sum(dev, out, st_tensor_data(x), x->numel);
}

int st_mean(double *out, const st_tensor *x) {
  if (!out) return st_error("st_mean: missing result pointer");
  double s;
  if (st_sum(&s, x)) return -1;
  *out = x->numel ? s / (double)x->numel : 0.0;
  return 0;
}

int st_min_max(float *mn, float *mx, const st_tensor *x) {
  int dev;
  const st_kernels *k = kernels(x, &dev, "st_min_max");
  if (!k) return -1;
  if (x->numel < 1) return st_error("st_min_max: the tensor is empty (no minimum or maximum)");
  float lo, hi;
  if (k->min_max(dev, &lo, &hi, st_tensor_data(x), x->numel)) return -1;
  if (mn) *mn = lo;
  if (mx) *mx = hi;
  return 0;
}

int st_all_finite(int *all, const st_tensor *x) {
  int dev;
  const st_kernels *k = kernels(x, &dev, "st_all_finite");
  if (!k) return -1;
  if (!all) return st_error("st_all_finite: missing result pointer");
  return k->all_finite(dev, all, st_tensor_data(x), x->numel);
}
