/* Device dispatch for the ops: a tensor's device to that device's kernel
 * table (kernels/kernels.h, which explains the design). */
#ifndef STRATA_OPS_DISPATCH_H
#define STRATA_OPS_DISPATCH_H

#include "../tensor.h"
#include "kernels/kernels.h"

/* The table for device d, or NULL when this build has no kernels for it. */
const st_kernels *st_kernels_for(st_device d);

/* The table for t's device, with its ordinal in *dev; NULL after
 * st_no_kernel's error naming fn when this build has no kernels for it. */
const st_kernels *st_kernels_of(const st_tensor *t, int *dev, const char *fn);

/* The error of an op called on a device this build has no kernels for. */
int st_no_kernel(const char *fn, st_device dev);
/* 0 when this build has kernels for t's device, else st_no_kernel's error
 * (for ops that check it before their other arguments). */
int st_check_kernel(const st_tensor *t, const char *fn);

#endif
