/* The CUDA kernel table (kernels/kernels.h): the kernels in kernels/cuda
 * already have the table's shape, so it lists them as they are. Compiled only
 * into the CUDA plugin, whose engine/gpu_cuda.c hands it out. */
#include "kernels/kernels.h"

#include "kernels/cuda/activations.h"
#include "kernels/cuda/adam.h"
#include "kernels/cuda/arith.h"
#include "kernels/cuda/batch_norm.h"
#include "kernels/cuda/colour.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/conv_transpose2d.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/gram.h"
#include "kernels/cuda/instance_norm.h"
#include "kernels/cuda/interleave.h"
#include "kernels/cuda/maxpool2d.h"
#include "kernels/cuda/mse.h"
#include "kernels/cuda/pad2d.h"
#include "kernels/cuda/paste.h"
#include "kernels/cuda/reductions.h"
#include "kernels/cuda/resize.h"
#include "kernels/cuda/tv.h"

const st_kernels st_cuda_kernels = {
    .relu_forward = st_cuda_relu_forward,
    .relu_backward = st_cuda_relu_backward,
    .tanh_forward = st_cuda_tanh_forward,
    .tanh_backward = st_cuda_tanh_backward,
    .add_forward = st_cuda_add_forward,
    .affine_forward = st_cuda_affine_forward,
    .conv2d_forward = st_cuda_conv2d_forward,
    .conv2d_backward = st_cuda_conv2d_backward,
    .conv_transpose2d_forward = st_cuda_conv_transpose2d_forward,
    .conv_transpose2d_backward = st_cuda_conv_transpose2d_backward,
    .instance_norm_forward = st_cuda_instance_norm_forward,
    .instance_norm_backward = st_cuda_instance_norm_backward,
    .batch_norm_forward = st_cuda_batch_norm_forward,
    .batch_norm_backward = st_cuda_batch_norm_backward,
    .pad2d_forward = st_cuda_pad2d_forward,
    .pad2d_backward = st_cuda_pad2d_backward,
    .resize_bilinear_forward = st_cuda_resize_bilinear_forward,
    .interleave_forward = st_cuda_interleave_forward,
    .interleave_backward = st_cuda_interleave_backward,
    .maxpool2d_forward = st_cuda_maxpool2d_forward,
    .maxpool2d_backward = st_cuda_maxpool2d_backward,
    .gram_forward = st_cuda_gram_forward,
    .gram_backward = st_cuda_gram_backward,
    .sqdiff_sum = st_cuda_sqdiff_sum,
    .sqdiff_backward = st_cuda_sqdiff_backward,
    .tv_sums = st_cuda_tv_sums,
    .tv_backward = st_cuda_tv_backward,
    .adam_step = st_cuda_adam_step,
    .preserve_colors = st_cuda_preserve_colors,
    .arith = st_cuda_arith,
    .arith_scalar = st_cuda_arith_scalar,
    .abs = st_cuda_abs,
    .axpy = st_cuda_axpy,
    .sum = st_cuda_sum,
    .min_max = st_cuda_min_max,
    .all_finite = st_cuda_all_finite,
    .paste = st_cuda_paste,
};
