/* A max pool's window geometry, passed by the op (engine/ops/maxpool2d.c,
 * semantics in engine/ops/train_ops.h) to the CPU and CUDA kernels alike
 * (device-neutral, next to the window rule in kernels/maxpool2d_window.h). */
#ifndef STRATA_KERNELS_MAXPOOL2D_PARAMS_H
#define STRATA_KERNELS_MAXPOOL2D_PARAMS_H

typedef struct {
  int kernel_h, kernel_w;
  int stride_h, stride_w;
  int pad_top, pad_bottom, pad_left, pad_right;
  int same; /* 1: TensorFlow 'SAME', the pads follow from the input size (st_maxpool2d_same_pads) */
} st_maxpool2d_params;

#endif
