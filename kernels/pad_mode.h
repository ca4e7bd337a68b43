/* How a 2-D pad fills the border: shared by the ops (engine/ops/ops.h), the
 * conv descriptor and the CPU and CUDA kernels (device-neutral). */
#ifndef STRATA_KERNELS_PAD_MODE_H
#define STRATA_KERNELS_PAD_MODE_H

typedef enum { ST_PAD_ZERO = 0, ST_PAD_REFLECT = 1, ST_PAD_REPLICATE = 2 } st_pad_mode;

#endif
