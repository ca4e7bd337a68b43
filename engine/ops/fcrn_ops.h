/* Ops of the FCRN depth network (Laina et al., ResNet-50 + up-projection) on
 * top of ops.h and train_ops.h: batch norm with inference statistics and the
 * interleaving that assembles an up-projection's 2x map from four convs.
 *
 * Same conventions as ops.h: outputs passed in and shape-checked, input
 * gradients assigned, parameter gradients accumulated (+=), NULL gradients
 * allowed, float32 contiguous NCHW, 0 or -1 with an st_error() line.
 */
#ifndef STRATA_FCRN_OPS_H
#define STRATA_FCRN_OPS_H

#include <stdint.h>

#include "../tensor.h"

/* ---- batch_norm with fixed (running) statistics, as TensorFlow's
 * tf.nn.batch_normalization at inference:
 *   y[n,c,h,w] = (x - mean[c]) * rstd[c] * gamma[c] + beta[c],  rstd = 1/sqrt(var[c] + eps)
 * mean, var [C] are required; gamma, beta [C] may be NULL (1 and 0). y may
 * alias x. Every var[c] + eps must be > 0 (checked; the error names c).
 * Backward: dx = dy * gamma * rstd (may alias dy); dbeta += sum over n,h,w of
 * dy; dgamma += sum of dy * (x - mean) * rstd. x is only read for dgamma and
 * may be NULL when dgamma is. */
int st_batch_norm_forward(st_tensor *y, const st_tensor *x, const st_tensor *mean, const st_tensor *var,
                          const st_tensor *gamma, const st_tensor *beta, float eps);
int st_batch_norm_backward(st_tensor *dx, st_tensor *dgamma, st_tensor *dbeta, const st_tensor *dy,
                           const st_tensor *x, const st_tensor *mean, const st_tensor *var, const st_tensor *gamma,
                           float eps);

/* Checks every var[c] + eps > 0 (NaN fails) and eps; the error starts with
 * `what` and names c. On a GPU it copies var to the host, so it waits for the
 * device: the _prechecked forms below skip it, for statistics checked once
 * (the BatchNorm module checks them when they are loaded; a variance changed
 * afterwards is not caught and gives Inf/NaN outputs). */
int st_batch_norm_check_var(const st_tensor *var, float eps, const char *what);
int st_batch_norm_forward_prechecked(st_tensor *y, const st_tensor *x, const st_tensor *mean, const st_tensor *var,
                                     const st_tensor *gamma, const st_tensor *beta, float eps);
int st_batch_norm_backward_prechecked(st_tensor *dx, st_tensor *dgamma, st_tensor *dbeta, const st_tensor *dy,
                                      const st_tensor *x, const st_tensor *mean, const st_tensor *var,
                                      const st_tensor *gamma, float eps);

/* ---- interleave: four [N, C, H, W] maps into one [N, C, 2H, 2W] map, the
 * pattern of FCRN's unpool_as_conv (rows first, then columns):
 *   y[2i, 2j] = a[i, j]      (a: the 3x3 conv)
 *   y[2i+1, 2j] = b[i, j]    (b: the 2x3 conv, 2 rows x 3 cols: odd rows)
 *   y[2i, 2j+1] = c[i, j]    (c: the 3x2 conv, 3 rows x 2 cols: odd columns)
 *   y[2i+1, 2j+1] = d[i, j]  (d: the 2x2 conv)
 * Backward splits dy back into the four gradients (each may be NULL). */
int st_interleave_shape(const st_tensor *a, int64_t out[4]);
int st_interleave_forward(st_tensor *y, const st_tensor *a, const st_tensor *b, const st_tensor *c,
                          const st_tensor *d);
int st_interleave_backward(st_tensor *da, st_tensor *db, st_tensor *dc, st_tensor *dd, const st_tensor *dy);

#endif
