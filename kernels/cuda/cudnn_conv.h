/* The cuDNN convolution both strata convs are built on: cross-correlation
 * with symmetric zero padding, x [N, C, H, W], w [K, C, kh, kw] (OIHW),
 * y [N, K, OH, OW], float32 NCHW.
 *
 * Each distinct geometry (per device) gets a plan: its cuDNN descriptors and,
 * per direction, an algorithm chosen once, the first time that direction
 * runs. The choice benchmarks every algorithm (cudnnFindConvolution*) unless
 * STRATA_CUDNN_FIND=0 asks for cuDNN's heuristic (cudnnGetConvolution*_v7),
 * and takes the fastest deterministic algorithm (reproducible gradients)
 * unless STRATA_CUDNN_DETERMINISTIC=0 allows any. TF32 follows
 * st_cuda_tf32_allowed(). Workspaces come from strata's caching allocator.
 * C++ only. All return 0, or -1 with an error. */
#ifndef STRATA_KERNELS_CUDA_CUDNN_CONV_H
#define STRATA_KERNELS_CUDA_CUDNN_CONV_H

typedef struct {
  int N, C, H, W;  /* x */
  int K, kh, kw;   /* w [K, C, kh, kw] */
  int sh, sw;      /* stride */
  int ph, pw;      /* symmetric zero padding */
  int OH, OW;      /* y, (H + 2 ph - kh) / sh + 1 etc. */
} st_cudnn_conv_geom;

/* y = beta * y + conv(x, w) */
int st_cudnn_conv_forward(int dev, const st_cudnn_conv_geom *g, float *y, const float *x, const float *w, float beta);
/* dx = beta * dx + conv^T(dy, w) */
int st_cudnn_conv_backward_data(int dev, const st_cudnn_conv_geom *g, float *dx, const float *dy, const float *w,
                                float beta);
/* dw = beta * dw + dL/dw from x and dy */
int st_cudnn_conv_backward_filter(int dev, const st_cudnn_conv_geom *g, float *dw, const float *x, const float *dy,
                                  float beta);

/* Forgets every plan's chosen algorithms (they are chosen again on next use),
 * after the math policy changed (st_cuda_set_tf32). */
void st_cudnn_conv_forget_choices(void);

#endif
