/* conv2d and conv_transpose2d through oneDNN (libdnnl), when built with
 * -DSTRATA_DNNL and linked with -ldnnl.
 *
 * Tensors stay NCHW / OIHW at this boundary: each call reorders its inputs
 * into the layouts the primitive prefers (format_tag any, usually channel
 * blocks of 16) and its output back. Primitives and reorders are created once
 * per shape and cached; scratch comes from the CPU caching allocator, so the
 * steady state allocates nothing from the system. Forward passes over large
 * images run in bands of output rows (st_dnnl_set_bands), so those reordered
 * copies and the scratchpad stay a band's size.
 *
 * Zero padding only: kernels/cpu/conv2d.c pads reflect / replicate inputs
 * itself and hands the padded image here. Every function returns 0 when it
 * did the work, 1 when it declined (no oneDNN in this build, or no primitive
 * for the case: the caller falls back to im2col), -1 after st_error().
 */
#ifndef STRATA_KERNELS_CPU_DNNL_CONV_H
#define STRATA_KERNELS_CPU_DNNL_CONV_H

#include <stddef.h>

#include "conv2d.h"
#include "conv_transpose2d.h"

/* Which oneDNN convolution algorithm, and which activation layout to offer it. */
enum { ST_DNNL_DIRECT = 0, ST_DNNL_WINOGRAD = 1 };
enum { ST_DNNL_ANY = 0, ST_DNNL_NHWC = 1 };

/* 1 when this build has oneDNN. */
int st_dnnl_enabled(void);

/* y = conv(x, w) + b (b may be NULL). */
int st_dnnl_conv2d_forward(const st_conv2d_desc *d, int alg, int layout, float *y, const float *x, const float *w,
                           const float *b);
/* dx = dL/dx (assigned). */
int st_dnnl_conv2d_backward_data(const st_conv2d_desc *d, int alg, int layout, float *dx, const float *dy,
                                 const float *w);
/* dw += dL/dw. */
int st_dnnl_conv2d_backward_weights(const st_conv2d_desc *d, int alg, int layout, float *dw, const float *dy,
                                    const float *x);

/* The transposed conv as a oneDNN deconvolution: declines (1) when y reaches
 * past the end of the full output (oneDNN has no negative padding). */
int st_dnnl_conv_transpose2d_forward(const st_conv_transpose2d_desc *d, float *y, const float *x, const float *w,
                                     const float *b);
int st_dnnl_conv_transpose2d_backward_data(const st_conv_transpose2d_desc *d, float *dx, const float *dy,
                                           const float *w);
int st_dnnl_conv_transpose2d_backward_weights(const st_conv_transpose2d_desc *d, float *dw, const float *dy,
                                              const float *x);

/* Drops every cached primitive (tests; frees memory after odd shapes). */
void st_dnnl_clear_cache(void);

/* Forward passes whose src or dst is larger than `above` bytes run in bands of
 * output rows of about `bytes` (src and dst each), so oneDNN's temporaries
 * (blocked copies, scratchpad) scale with a band, not the image. Defaults
 * 64 MiB and 8 MiB; tests lower them to band small images. The previous
 * values go to old_above / old_bytes when not NULL (0 without oneDNN). */
void st_dnnl_set_bands(size_t above, size_t bytes, size_t *old_above, size_t *old_bytes);

#endif
