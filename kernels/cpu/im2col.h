/* im2col / col2im: the lowering that turns a convolution into one GEMM.
 *
 * The "image" is [C, H, W]; the "grid" is the output positions of a conv2d
 * over it: grid row g, column q, kernel tap (i, j) reads image row
 * g*sh - pt + i and column q*sw - pl + j (out of range = zero padding). The
 * column matrix has C*kh*kw rows (c-major, then i, then j, matching an OIHW
 * weight's [C, kh, kw] inner layout) and one column per grid position.
 *
 * Both functions work on the grid rows [g0, g1) only, so callers can tile a
 * large image and keep the column buffer bounded; col is then
 * [C*kh*kw, (g1-g0)*GW] with leading dimension (g1-g0)*GW.
 *
 * The same pair serves conv_transpose2d, whose scatter is col2im with the
 * output as the image and the input as the grid, and conv2d's dual lowering
 * (where pt and pl may be negative). Both are serial: see kernels/cpu/conv2d.c.
 */
#ifndef STRATA_KERNELS_CPU_IM2COL_H
#define STRATA_KERNELS_CPU_IM2COL_H

typedef struct {
  int C, H, W;        /* image */
  int kh, kw;         /* kernel */
  int sh, sw;         /* stride */
  int pt, pl;         /* padding before (top, left), any sign; after is implied by the grid size */
  int GH, GW;         /* full grid size */
} st_cpu_im2col_geom;

/* col[C*kh*kw, (g1-g0)*GW] = the patches of image under grid rows [g0, g1). */
void st_cpu_im2col(const st_cpu_im2col_geom *g, const float *image, int g0, int g1, float *col);

/* image += the column matrix folded back (each patch added where it came from). */
void st_cpu_col2im(const st_cpu_im2col_geom *g, const float *col, int g0, int g1, float *image);

/* Grid rows per tile so that a column tile holds at most about budget floats (at least 1). */
int st_cpu_im2col_tile_rows(const st_cpu_im2col_geom *g, long budget);

/* The column-buffer budget in floats shared by the conv kernels (a tile still
 * holds at least one grid row). 1M floats (4 MiB) by default: tiles that stay
 * in cache between im2col and the GEMM measured ~1.4x faster end to end than
 * 8M-float tiles on the transformer at 474x712. A variable so tests can
 * shrink it to exercise tiling. */
extern long st_cpu_col_budget;

#endif
