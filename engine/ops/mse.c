/* Mean-squared losses: mse (content loss) and gram_distance (one style layer,
 * the target Gram broadcast over the batch); both reduce to the same kernel. */
#include "train_ops.h"

#include <stdio.h>

#include "../error.h"
#include "dispatch.h"

/* Checks a and b; sets *k and *dev to a's device's kernels. */
static int check_mse(const char *op, const st_tensor *a, const st_tensor *b, const st_kernels **k, int *dev) {
  char sa[128];
  if (!a) return st_error("%s: missing tensor a", op);
  if (!b) return st_error("%s: missing tensor b", op);
  if (a->numel < 1) return st_error("%s: a is empty (shape %s)", op, st_shape_str(a->ndim, a->shape, sa, sizeof sa));
  char what[96];
  snprintf(what, sizeof what, "%s: b", op);
  if (st_check_shape(b, a->ndim, a->shape, what) != 0) return -1;
  snprintf(what, sizeof what, "%s: a and b", op);
  if (st_check_same_device(a, b, what) != 0) return -1;
  return (*k = st_kernels_of(a, dev, op)) ? 0 : -1;
}

int st_mse_forward(float *loss, const st_tensor *a, const st_tensor *b) {
  const st_kernels *k;
  int dev;
  double s;
  if (!loss) return st_error("st_mse_forward: missing loss pointer");
  if (check_mse("st_mse_forward", a, b, &k, &dev) != 0) return -1;
  if (k->sqdiff_sum(dev, &s, st_tensor_data(a), st_tensor_data(b), 1, a->numel, 0) != 0) return -1;
  *loss = (float)(s / (double)a->numel);
  return 0;
}

int st_mse_backward(st_tensor *da, st_tensor *db, float dloss, const st_tensor *a, const st_tensor *b) {
  const st_kernels *k;
  int dev;
  if (check_mse("st_mse_backward", a, b, &k, &dev) != 0) return -1;
  if (da && st_check_placed(da, a->ndim, a->shape, a, "st_mse_backward: da") != 0)
    return -1;
  if (db && st_check_placed(db, a->ndim, a->shape, a, "st_mse_backward: db") != 0)
    return -1;
  float scale = (float)(2.0 * (double)dloss / (double)a->numel);
  return k->sqdiff_backward(dev, da ? st_tensor_data(da) : NULL, db ? st_tensor_data(db) : NULL, st_tensor_data(a),
                            st_tensor_data(b), 1, a->numel, 0, scale);
}

/* Checks g [N, C, C] and gs [1, C, C] or [N, C, C]; sets *broadcast, and *k
 * and *dev to g's device's kernels. */
static int check_gram_distance(const char *op, const st_tensor *g, const st_tensor *gs, int *broadcast,
                               const st_kernels **k, int *dev) {
  char sa[128], sb[128], what[96];
  snprintf(what, sizeof what, "%s: g", op);
  if (st_check_ndim(g, 3, what) != 0) return -1;
  if (g->shape[0] < 1 || g->shape[1] < 1 || g->shape[1] != g->shape[2])
    return st_error("%s: g must be [N, C, C] with N, C >= 1, got %s", op, st_shape_str(g->ndim, g->shape, sa, sizeof sa));
  snprintf(what, sizeof what, "%s: gs", op);
  if (st_check_ndim(gs, 3, what) != 0) return -1;
  if ((gs->shape[0] != 1 && gs->shape[0] != g->shape[0]) || gs->shape[1] != g->shape[1] ||
      gs->shape[2] != g->shape[2])
    return st_error("%s: gs must be [1, %lld, %lld] or [%lld, %lld, %lld] to match g %s, got %s", op,
                    (long long)g->shape[1], (long long)g->shape[1], (long long)g->shape[0], (long long)g->shape[1],
                    (long long)g->shape[1], st_shape_str(g->ndim, g->shape, sa, sizeof sa),
                    st_shape_str(gs->ndim, gs->shape, sb, sizeof sb));
  snprintf(what, sizeof what, "%s: g and gs", op);
  if (st_check_same_device(g, gs, what) != 0) return -1;
  *broadcast = gs->shape[0] != g->shape[0];
  return (*k = st_kernels_of(g, dev, op)) ? 0 : -1;
}

int st_gram_distance_forward(float *loss, const st_tensor *g, const st_tensor *gs) {
  int bc, dev;
  const st_kernels *k;
  double s;
  if (!loss) return st_error("st_gram_distance_forward: missing loss pointer");
  if (check_gram_distance("st_gram_distance_forward", g, gs, &bc, &k, &dev) != 0) return -1;
  if (k->sqdiff_sum(dev, &s, st_tensor_data(g), st_tensor_data(gs), g->shape[0], g->shape[1] * g->shape[2], bc) != 0)
    return -1;
  /* (1/N) sum_n ||g_n - gs||^2 / C^2 is the mean over all N*C*C elements. */
  *loss = (float)(s / (double)g->numel);
  return 0;
}

int st_gram_distance_backward(st_tensor *dg, st_tensor *dgs, float dloss, const st_tensor *g, const st_tensor *gs) {
  int bc, dev;
  const st_kernels *k;
  if (check_gram_distance("st_gram_distance_backward", g, gs, &bc, &k, &dev) != 0) return -1;
  if (dg && st_check_placed(dg, 3, g->shape, g, "st_gram_distance_backward: dg") != 0)
    return -1;
  if (dgs && st_check_placed(dgs, 3, gs->shape, g, "st_gram_distance_backward: dgs") != 0)
    return -1;
  float scale = (float)(2.0 * (double)dloss / (double)g->numel);
  return k->sqdiff_backward(dev, dg ? st_tensor_data(dg) : NULL, dgs ? st_tensor_data(dgs) : NULL, st_tensor_data(g),
                            st_tensor_data(gs), g->shape[0], g->shape[1] * g->shape[2], bc, scale);
}
