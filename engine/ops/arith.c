/* Tensor arithmetic: argument checks, then the device's kernel. */
#include "ops/tensor_ops.h"

#include "error.h"
#include "ops/dispatch.h"

static int known_op(st_arith_op op, const char *fn) {
  if (op == ST_ARITH_ADD || op == ST_ARITH_SUB || op == ST_ARITH_MUL || op == ST_ARITH_DIV) return 0;
  return st_error("%s: unknown operation %d (0 add, 1 sub, 2 mul, 3 div)", fn, (int)op);
}

int st_arith_forward(st_tensor *y, const st_tensor *a, const st_tensor *b, st_arith_op op) {
  if (known_op(op, "st_arith_forward")) return -1;
  if (st_check_like(b, "st_arith_forward: b", a, "st_arith_forward: a")) return -1;
  if (st_check_like(y, "st_arith_forward: y", a, "st_arith_forward: a")) return -1;
  int dev;
  const st_kernels *k = st_kernels_of(a, &dev, "st_arith_forward");
  if (!k) return -1;
  return k->arith(dev, st_tensor_data(y), st_tensor_data(a), st_tensor_data(b), a->numel, op);
}

int st_arith_scalar_forward(st_tensor *y, const st_tensor *x, float s, int scalar_first, st_arith_op op) {
  if (known_op(op, "st_arith_scalar_forward")) return -1;
  if (st_check_like(y, "st_arith_scalar_forward: y", x, "st_arith_scalar_forward: x")) return -1;
  int dev;
  const st_kernels *k = st_kernels_of(x, &dev, "st_arith_scalar_forward");
  if (!k) return -1;
  return k->arith_scalar(dev, st_tensor_data(y), st_tensor_data(x), s, scalar_first != 0, x->numel, op);
}

int st_abs_forward(st_tensor *y, const st_tensor *x) {
  if (st_check_like(y, "st_abs_forward: y", x, "st_abs_forward: x")) return -1;
  int dev;
  const st_kernels *k = st_kernels_of(x, &dev, "st_abs_forward");
  if (!k) return -1;
  return k->abs(dev, st_tensor_data(y), st_tensor_data(x), x->numel);
}

int st_axpy(st_tensor *y, float alpha, const st_tensor *x) {
  if (!y) return st_error("st_axpy: missing tensor y");
  if (!x) return st_error("st_axpy: missing tensor x");
  if (y->numel != x->numel)
    return st_error("st_axpy: element counts differ (y has %lld, x has %lld)", (long long)y->numel,
                    (long long)x->numel);
  if (st_check_same_device(y, x, "st_axpy: y and x")) return -1;
  int dev;
  const st_kernels *k = st_kernels_of(y, &dev, "st_axpy");
  if (!k) return -1;
  return k->axpy(dev, st_tensor_data(y), alpha, st_tensor_data(x), x->numel);
}
