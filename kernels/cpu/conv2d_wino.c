/* Winograd F(4x4, 3x3) on the CPU (see conv2d_wino.h).
 *
 * Tiles: output tile (th, tw) covers rows 4th..4th+3, columns 4tw..4tw+3 and
 * reads the 6x6 input patch from row 4th - pt, column 4tw - pl (zero
 * outside). The tile rows of the batch are processed in chunks whose
 * transformed inputs V [36][C][T] and products M [36][K][T] (T tiles in the
 * chunk) stay within a fixed budget, so scratch does not grow with the image.
 * Per chunk: input transform (OpenMP over channel x tile row, 8 tiles per
 * AVX2 vector), 36 GEMMs M[e] = U[e] V[e] (OpenMP over e, each GEMM on one
 * thread), output transform (OpenMP over output channel x tile row).
 *
 * The transforms are Lavin & Gray's for the points 0, +-1, +-2 and infinity:
 *   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 *   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 * The AVX2 code is in functions with a target attribute, so the file builds
 * with the project's flags (no -mavx2) and with clang for the fuzz builds. */
#include "kernels/cpu/conv2d_wino.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/memory.h"
#include "kernels/cpu/cpu_isa.h"

#ifdef STRATA_DNNL
#include <oneapi/dnnl/dnnl.h>
#else
#include <cblas.h>

#include "kernels/cpu/blas_threads.h"
#endif

long st_wino_chunk_floats = 4L << 20; /* 16 MiB */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma")))


int st_wino_available(void) { return st_cpu_isa() >= ST_ISA_AVX2; }

int st_wino_shape_ok(const st_conv2d_desc *d) {
  return d->kh == 3 && d->kw == 3 && d->sh == 1 && d->sw == 1 && d->pad_mode == 0 && d->pt >= 0 && d->pt <= 2 &&
         d->pb >= 0 && d->pb <= 2 && d->pl >= 0 && d->pl <= 2 && d->pr >= 0 && d->pr <= 2 && d->OH > 0 && d->OW > 0;
}

/* The Winograd conv as run: C input channels [N, C, H, W], K outputs. */
typedef struct {
  int N, C, H, W, K, pt, pl, OH, OW;
  int tH, tW, groups; /* tiles per column and row; groups of 8 tiles per row */
} geom;

/* Lanes below n set (n in 1..8). */
AVX2_INLINE __m256i first_lanes(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* ---- filter transform: U[e][k][c] = (G g G^T)[e / 6][e % 6] ---- */

/* u = G g for 8 filters at once. */
AVX2_INLINE void g6(const __m256 g0, const __m256 g1, const __m256 g2, __m256 u[6]) {
  const __m256 s02 = _mm256_add_ps(g0, g2), q = _mm256_fmadd_ps(_mm256_set1_ps(1.0f / 24.0f), g0,
                                                               _mm256_mul_ps(_mm256_set1_ps(1.0f / 6.0f), g2));
  const __m256 m6 = _mm256_set1_ps(-1.0f / 6.0f), g12 = _mm256_mul_ps(_mm256_set1_ps(1.0f / 12.0f), g1);
  u[0] = _mm256_mul_ps(_mm256_set1_ps(0.25f), g0);
  u[1] = _mm256_mul_ps(m6, _mm256_add_ps(s02, g1));
  u[2] = _mm256_mul_ps(m6, _mm256_sub_ps(s02, g1));
  u[3] = _mm256_add_ps(q, g12);
  u[4] = _mm256_sub_ps(q, g12);
  u[5] = g2;
}

/* Output channel k's filters from every input channel into row [36][C].
 * flip = 0: the conv's own weights (g = w[k, c]); 1: the data gradient's
 * (K = the conv's C, C = its K; g[k, c] = w[c, k] rotated by 180 degrees).
 * 8 input channels per vector, gathered (stride 9, or 9K when flipped). */
AVX2 static void filter_row(const geom *g, const float *w, int flip, int k, float *row) {
  const long cstride = flip ? 9L * g->K : 9L;
  const float *base = flip ? w + (long)k * 9 : w + (long)k * g->C * 9;
  const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)cstride));
  for (int c0 = 0; c0 < g->C; c0 += 8) {
    const int n = g->C - c0 < 8 ? g->C - c0 : 8;
    const __m256i lanes = first_lanes(n);
    const float *src = base + c0 * cstride;
    __m256 f[3][3], t[6][3], u[6];
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++) {
        const int tap = flip ? (2 - a) * 3 + (2 - b) : a * 3 + b;
        f[a][b] = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), src + tap, idx, _mm256_castsi256_ps(lanes), 4);
      }
    for (int b = 0; b < 3; b++) {
      g6(f[0][b], f[1][b], f[2][b], u);
      for (int i = 0; i < 6; i++) t[i][b] = u[i];
    }
    for (int i = 0; i < 6; i++) {
      g6(t[i][0], t[i][1], t[i][2], u);
      for (int j = 0; j < 6; j++) _mm256_maskstore_ps(row + (long)(i * 6 + j) * g->C + c0, lanes, u[j]);
    }
  }
}

static void filter_transform(const geom *g, const float *w, int flip, float *U, float *rows) {
  const long KC = (long)g->K * g->C;
#pragma omp parallel
  {
    float *row = rows + (long)omp_get_thread_num() * 36 * g->C;
#pragma omp for schedule(static)
    for (int k = 0; k < g->K; k++) {
      filter_row(g, w, flip, k, row);
      for (int e = 0; e < 36; e++)
        memcpy(U + e * KC + (long)k * g->C, row + (long)e * g->C, sizeof(float) * (size_t)g->C);
    }
  }
}

/* ---- input transform ---- */

/* v = B^T d for 8 tiles at once. */
AVX2_INLINE void bt6(const __m256 d[6], __m256 v[6]) {
  const __m256 four = _mm256_set1_ps(4.0f), five = _mm256_set1_ps(5.0f), two = _mm256_set1_ps(2.0f);
  v[0] = _mm256_fmadd_ps(four, d[0], _mm256_fnmadd_ps(five, d[2], d[4]));
  v[1] = _mm256_fnmadd_ps(four, _mm256_add_ps(d[1], d[2]), _mm256_add_ps(d[3], d[4]));
  v[2] = _mm256_fmadd_ps(four, _mm256_sub_ps(d[1], d[2]), _mm256_sub_ps(d[4], d[3]));
  v[3] = _mm256_fmadd_ps(two, _mm256_sub_ps(d[3], d[1]), _mm256_sub_ps(d[4], d[2]));
  v[4] = _mm256_fmadd_ps(two, _mm256_sub_ps(d[1], d[3]), _mm256_sub_ps(d[4], d[2]));
  v[5] = _mm256_fmadd_ps(four, d[1], _mm256_fnmadd_ps(five, d[3], d[5]));
}

/* d[j] lane i = row[4i + j] for j < 4 (8 tiles' columns from 32 floats): a
 * 4x4 transpose within each 128-bit half after pairing tiles i and i + 4. */
AVX2_INLINE void deinterleave4(const float *row, __m256 d[4]) {
  const __m256 l0 = _mm256_loadu_ps(row), l1 = _mm256_loadu_ps(row + 8);
  const __m256 l2 = _mm256_loadu_ps(row + 16), l3 = _mm256_loadu_ps(row + 24);
  const __m256 a = _mm256_permute2f128_ps(l0, l2, 0x20), b = _mm256_permute2f128_ps(l0, l2, 0x31);
  const __m256 c = _mm256_permute2f128_ps(l1, l3, 0x20), e = _mm256_permute2f128_ps(l1, l3, 0x31);
  const __m256 t0 = _mm256_unpacklo_ps(a, b), t1 = _mm256_unpackhi_ps(a, b);
  const __m256 t2 = _mm256_unpacklo_ps(c, e), t3 = _mm256_unpackhi_ps(c, e);
  d[0] = _mm256_shuffle_ps(t0, t2, 0x44);
  d[1] = _mm256_shuffle_ps(t0, t2, 0xEE);
  d[2] = _mm256_shuffle_ps(t1, t3, 0x44);
  d[3] = _mm256_shuffle_ps(t1, t3, 0xEE);
}

/* The same for j < 6: columns 4 and 5 are the next tile's 0 and 1 (lane 7
 * from row[32], row[33]). */
AVX2_INLINE void deinterleave6(const float *row, __m256 d[6]) {
  deinterleave4(row, d);
  const __m256i next = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 7);
  d[4] = _mm256_blend_ps(_mm256_permutevar8x32_ps(d[0], next), _mm256_broadcast_ss(row + 32), 0x80);
  d[5] = _mm256_blend_ps(_mm256_permutevar8x32_ps(d[1], next), _mm256_broadcast_ss(row + 33), 0x80);
}

/* One channel's tile row: rows [6][Wb] hold the padded input rows (column q
 * of the buffer is input column q - pl); V[e] gets T-strided 8-tile vectors. */
AVX2 static void input_row(const geom *g, const float *rows, int Wb, float *V, long estride, long t0) {
  for (int grp = 0; grp < g->groups; grp++) {
    const int tw0 = grp * 8, n = g->tW - tw0 < 8 ? g->tW - tw0 : 8;
    __m256 t[6][6], d[6], v[6];
    for (int r = 0; r < 6; r++) {
      deinterleave6(rows + (long)r * Wb + 4 * tw0, d);
      bt6(d, t[r]); /* along the row: t[r][j] = (d B)[r][j] */
    }
    float *out = V + t0 + tw0;
    for (int j = 0; j < 6; j++) {
      for (int r = 0; r < 6; r++) d[r] = t[r][j];
      bt6(d, v); /* down the column: v[i] = (B^T d B)[i][j] */
      for (int i = 0; i < 6; i++) {
        float *p = out + (long)(i * 6 + j) * estride;
        if (n == 8) _mm256_storeu_ps(p, v[i]);
        else _mm256_maskstore_ps(p, first_lanes(n), v[i]);
      }
    }
  }
}

/* ---- output transform ---- */

/* y = A^T m for 8 tiles at once. */
AVX2_INLINE void at4(const __m256 m[6], __m256 y[4]) {
  const __m256 a = _mm256_add_ps(m[1], m[2]), b = _mm256_sub_ps(m[1], m[2]);
  const __m256 c = _mm256_add_ps(m[3], m[4]), e = _mm256_sub_ps(m[3], m[4]);
  y[0] = _mm256_add_ps(_mm256_add_ps(m[0], a), c);
  y[1] = _mm256_fmadd_ps(_mm256_set1_ps(2.0f), e, b);
  y[2] = _mm256_fmadd_ps(_mm256_set1_ps(4.0f), c, a);
  y[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8.0f), e, b), m[5]);
}

/* Four vectors (column s of 8 tiles) to 32 floats in row order: out[4i + s] = y[s][i]. */
AVX2_INLINE void interleave4(const __m256 y[4], __m256 o[4]) {
  const __m256 t0 = _mm256_unpacklo_ps(y[0], y[1]), t1 = _mm256_unpackhi_ps(y[0], y[1]);
  const __m256 t2 = _mm256_unpacklo_ps(y[2], y[3]), t3 = _mm256_unpackhi_ps(y[2], y[3]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  o[0] = _mm256_permute2f128_ps(u0, u1, 0x20);
  o[1] = _mm256_permute2f128_ps(u2, u3, 0x20);
  o[2] = _mm256_permute2f128_ps(u0, u1, 0x31);
  o[3] = _mm256_permute2f128_ps(u2, u3, 0x31);
}

/* One output channel's tile row th: M[e] (T-strided) to y rows 4th..4th+3. */
AVX2 static void output_row(const geom *g, const float *M, long estride, long t0, float bias, int th, float *yk) {
  for (int grp = 0; grp < g->groups; grp++) {
    const int tw0 = grp * 8, n = g->tW - tw0 < 8 ? g->tW - tw0 : 8;
    const __m256i lanes = first_lanes(n);
    __m256 s[6][4], m[6], y[4], o[4];
    for (int i = 0; i < 6; i++) {
      for (int j = 0; j < 6; j++) {
        const float *p = M + (long)(i * 6 + j) * estride + t0 + tw0;
        m[j] = n == 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, lanes);
      }
      at4(m, s[i]); /* along the row: s[i][c] = (m A)[i][c] */
    }
    const int col = 4 * tw0, ncol = g->OW - col < 32 ? g->OW - col : 32;
    for (int c = 0; c < 4; c++) {
      for (int i = 0; i < 6; i++) m[i] = s[i][c];
      at4(m, y); /* down the column: y[r] = (A^T m A)[r][c] */
      for (int r = 0; r < 4; r++) s[r][c] = _mm256_add_ps(y[r], _mm256_set1_ps(bias));
    }
    for (int r = 0; r < 4 && 4 * th + r < g->OH; r++) {
      interleave4(s[r], o);
      float *dst = yk + (long)(4 * th + r) * g->OW + col;
      if (ncol == 32) {
        for (int q = 0; q < 4; q++) _mm256_storeu_ps(dst + 8 * q, o[q]);
      } else {
        float tmp[32];
        for (int q = 0; q < 4; q++) _mm256_storeu_ps(tmp + 8 * q, o[q]);
        memcpy(dst, tmp, sizeof(float) * (size_t)ncol);
      }
    }
  }
}

/* ---- weight gradient: dU[e] = sum over tiles of Z[e] V[e]^T, Z = A dy A^T ---- */

/* z = A y: a 4-row (or column) output gradient to the 6 Winograd points. */
AVX2_INLINE void a6(const __m256 y[4], __m256 z[6]) {
  const __m256 s02 = _mm256_add_ps(y[0], y[2]), s13 = _mm256_add_ps(y[1], y[3]);
  const __m256 q02 = _mm256_fmadd_ps(_mm256_set1_ps(4.0f), y[2], y[0]);
  const __m256 q13 = _mm256_fmadd_ps(_mm256_set1_ps(8.0f), y[3], _mm256_mul_ps(_mm256_set1_ps(2.0f), y[1]));
  z[0] = y[0];
  z[1] = _mm256_add_ps(s02, s13);
  z[2] = _mm256_sub_ps(s02, s13);
  z[3] = _mm256_add_ps(q02, q13);
  z[4] = _mm256_sub_ps(q02, q13);
  z[5] = y[3];
}

/* One output channel's tile row: rows [4][Wb] hold the output gradient rows
 * (zero past OH and OW: outputs a partial tile does not have); Z[e] gets
 * T-strided 8-tile vectors. */
AVX2 static void grad_row(const geom *g, const float *rows, int Wb, float *Z, long estride, long t0) {
  for (int grp = 0; grp < g->groups; grp++) {
    const int tw0 = grp * 8, n = g->tW - tw0 < 8 ? g->tW - tw0 : 8;
    __m256 t[4][6], y[4], z[6];
    for (int r = 0; r < 4; r++) {
      deinterleave4(rows + (long)r * Wb + 4 * tw0, y);
      a6(y, t[r]); /* along the row: t[r][j] = (y A^T)[r][j] */
    }
    float *out = Z + t0 + tw0;
    for (int j = 0; j < 6; j++) {
      for (int r = 0; r < 4; r++) y[r] = t[r][j];
      a6(y, z); /* down the column: z[i] = (A y A^T)[i][j] */
      for (int i = 0; i < 6; i++) {
        float *p = out + (long)(i * 6 + j) * estride;
        if (n == 8) _mm256_storeu_ps(p, z[i]);
        else _mm256_maskstore_ps(p, first_lanes(n), z[i]);
      }
    }
  }
}

/* dg = G^T u: the 6 Winograd points back to 3 taps. */
static void gt3(const float u[6], float g[3]) {
  const float s12 = u[1] + u[2], s34 = u[3] + u[4];
  g[0] = u[0] * 0.25f - s12 * (1.0f / 6.0f) + s34 * (1.0f / 24.0f);
  g[1] = (u[2] - u[1]) * (1.0f / 6.0f) + (u[3] - u[4]) * (1.0f / 12.0f);
  g[2] = (s34 - s12) * (1.0f / 6.0f) + u[5];
}

/* dw[k, c] += G^T dU[., k, c] G for every pair. */
static void filter_gradient(const geom *g, const float *dU, float *dw) {
  const long KC = (long)g->K * g->C;
#pragma omp parallel for schedule(static)
  for (long kc = 0; kc < KC; kc++) {
    float u[6], t[6][3], col[6], r[3];
    for (int i = 0; i < 6; i++) {
      for (int j = 0; j < 6; j++) u[j] = dU[(i * 6 + j) * KC + kc];
      gt3(u, t[i]); /* along the row */
    }
    for (int b = 0; b < 3; b++) {
      for (int i = 0; i < 6; i++) col[i] = t[i][b];
      gt3(col, r); /* down the column */
      for (int a = 0; a < 3; a++) dw[kc * 9 + a * 3 + b] += r[a];
    }
  }
}

/* ---- the convolution ---- */

static void gemm(char tb, int M, int N, long K, const float *A, long lda, const float *B, long ldb, float beta,
                 float *C) {
#ifdef STRATA_DNNL
  dnnl_sgemm('N', tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, N);
#else
  st_blas_ready();
  cblas_sgemm(CblasRowMajor, CblasNoTrans, tb == 'T' ? CblasTrans : CblasNoTrans, M, N, (int)K, 1.0f, A, (int)lda,
              B, (int)ldb, beta, C, N);
#endif
}

static float *scratch(size_t n, const char *what) { return st_mem_alloc(st_cpu(), (n ? n : 1) * sizeof(float), what); }

static void release(float *p) {
  if (p) st_mem_free(st_cpu(), p);
}

/* Tile row `row` of the batch (image n, tile row th) for `nr` source rows from
 * 4th - top of plane [H, W] into buf [nr][Wb], zero outside, column q of the
 * buffer holding column q - left. */
static void load_rows(const float *plane, int H, int W, int top, int left, int th, int nr, int Wb, float *buf) {
  for (int r = 0; r < nr; r++) {
    float *dst = buf + (long)r * Wb;
    const int ih = 4 * th - top + r;
    if (ih < 0 || ih >= H) {
      memset(dst, 0, sizeof(float) * (size_t)Wb);
      continue;
    }
    const int n_in = W < Wb - left ? W : Wb - left;
    memset(dst, 0, sizeof(float) * (size_t)left);
    memcpy(dst + left, plane + (long)ih * W, sizeof(float) * (size_t)n_in);
    memset(dst + left + n_in, 0, sizeof(float) * (size_t)(Wb - left - n_in));
  }
}

/* V [36][C][T] for tile rows r0 .. r0 + rows of x. */
static void transform_input(const geom *g, const float *x, long r0, int rows, float *V, float *bufs, int Wb) {
  const long T = (long)rows * g->tW, HW = (long)g->H * g->W;
#pragma omp parallel
  {
    float *buf = bufs + (long)omp_get_thread_num() * 6 * Wb;
#pragma omp for schedule(static)
    for (long it = 0; it < (long)g->C * rows; it++) {
      const int c = (int)(it / rows), rr = (int)(it % rows);
      const long row = r0 + rr;
      const int n = (int)(row / g->tH), th = (int)(row % g->tH);
      load_rows(x + ((long)n * g->C + c) * HW, g->H, g->W, g->pt, g->pl, th, 6, Wb, buf);
      input_row(g, buf, Wb, V + (long)c * T, (long)g->C * T, (long)rr * g->tW);
    }
  }
}

/* Scratch of one run: V and M (products, or the output gradient's transform). */
typedef struct {
  long R, Rb; /* tile rows in the batch, per chunk */
  int Wb;     /* buffer row width: every column a group of tiles reads */
  float *V, *M, *bufs;
} work;

static int work_init(work *w, const geom *g) {
  w->R = (long)g->N * g->tH;
  w->Rb = st_wino_chunk_floats / (36L * (g->C + g->K) * g->tW);
  if (w->Rb < 1) w->Rb = 1;
  if (w->Rb > w->R) w->Rb = w->R;
  w->Wb = 32 * g->groups + 8; /* a group reads 34 floats from 32 grp: two full vectors past its 32 */
  w->V = scratch((size_t)(36L * g->C * g->tW * w->Rb), "winograd conv transformed input");
  w->M = w->V ? scratch((size_t)(36L * g->K * g->tW * w->Rb), "winograd conv products") : NULL;
  w->bufs = w->M ? scratch((size_t)omp_get_max_threads() * 6 * (size_t)w->Wb, "winograd conv rows") : NULL;
  if (w->bufs) return 0;
  release(w->M);
  release(w->V);
  return -1;
}

static void work_free(work *w) {
  release(w->bufs);
  release(w->M);
  release(w->V);
}

/* y = the conv of x with the transformed filters U (+ b). */
static int run(const geom *g, const float *U, const float *x, const float *b, float *y) {
  work w;
  if (work_init(&w, g) != 0) return -1;
  const long P = (long)g->OH * g->OW;
  for (long r0 = 0; r0 < w.R; r0 += w.Rb) {
    const int rows = (int)(w.R - r0 < w.Rb ? w.R - r0 : w.Rb);
    const long T = (long)rows * g->tW;
    transform_input(g, x, r0, rows, w.V, w.bufs, w.Wb);
#pragma omp parallel for schedule(static)
    for (int e = 0; e < 36; e++)
      gemm('N', g->K, (int)T, g->C, U + (long)e * g->K * g->C, g->C, w.V + (long)e * g->C * T, T, 0.0f,
           w.M + (long)e * g->K * T);
#pragma omp parallel for schedule(static)
    for (long it = 0; it < (long)g->K * rows; it++) {
      const int k = (int)(it / rows), rr = (int)(it % rows);
      const long row = r0 + rr;
      const int n = (int)(row / g->tH), th = (int)(row % g->tH);
      output_row(g, w.M + (long)k * T, (long)g->K * T, (long)rr * g->tW, b ? b[k] : 0.0f, th,
                 y + ((long)n * g->K + k) * P);
    }
  }
  work_free(&w);
  return 0;
}

/* dw += the weight gradient of the conv of x, from dy. */
static int run_weights(const geom *g, const float *x, const float *dy, float *dw) {
  work w;
  if (work_init(&w, g) != 0) return -1;
  float *dU = scratch((size_t)(36L * g->K * g->C), "winograd conv filter gradient");
  if (!dU) {
    work_free(&w);
    return -1;
  }
  const long P = (long)g->OH * g->OW;
  for (long r0 = 0; r0 < w.R; r0 += w.Rb) {
    const int rows = (int)(w.R - r0 < w.Rb ? w.R - r0 : w.Rb);
    const long T = (long)rows * g->tW;
    transform_input(g, x, r0, rows, w.V, w.bufs, w.Wb);
#pragma omp parallel
    {
      float *buf = w.bufs + (long)omp_get_thread_num() * 6 * w.Wb;
#pragma omp for schedule(static)
      for (long it = 0; it < (long)g->K * rows; it++) {
        const int k = (int)(it / rows), rr = (int)(it % rows);
        const long row = r0 + rr;
        const int n = (int)(row / g->tH), th = (int)(row % g->tH);
        load_rows(dy + ((long)n * g->K + k) * P, g->OH, g->OW, 0, 0, th, 4, w.Wb, buf);
        grad_row(g, buf, w.Wb, w.M + (long)k * T, (long)g->K * T, (long)rr * g->tW);
      }
    }
#pragma omp parallel for schedule(static)
    for (int e = 0; e < 36; e++)
      gemm('T', g->K, g->C, T, w.M + (long)e * g->K * T, T, w.V + (long)e * g->C * T, T, r0 ? 1.0f : 0.0f,
           dU + (long)e * g->K * g->C);
  }
  filter_gradient(g, dU, dw);
  release(dU);
  work_free(&w);
  return 0;
}

static void geom_init(geom *g, int N, int C, int H, int W, int K, int pt, int pl, int OH, int OW) {
  *g = (geom){N, C, H, W, K, pt, pl, OH, OW, (OH + 3) / 4, (OW + 3) / 4, 0};
  g->groups = (g->tW + 7) / 8;
}

static int conv(const geom *g, const float *w, int flip, const float *x, const float *b, float *y) {
  float *U = scratch((size_t)(36L * g->K * g->C), "winograd conv transformed filters");
  float *rows = U ? scratch((size_t)omp_get_max_threads() * 36 * (size_t)g->C, "winograd conv filter rows") : NULL;
  if (!rows) {
    release(U);
    return -1;
  }
  filter_transform(g, w, flip, U, rows);
  release(rows);
  int rc = run(g, U, x, b, y);
  release(U);
  return rc;
}

int st_wino_conv2d_forward(const st_conv2d_desc *d, float *y, const float *x, const float *w, const float *b) {
  if (!st_wino_available() || !st_wino_shape_ok(d)) return 1;
  geom g;
  geom_init(&g, d->N, d->C, d->H, d->W, d->K, d->pt, d->pl, d->OH, d->OW);
  return conv(&g, w, 0, x, b, y);
}

/* dx[c, i, j] = sum over k, a, b of dy[k, i + pt - a, j + pl - b] w[k, c, a, b]:
 * a conv of dy padded by 2 - pt (top) and 2 - pl (left) with w rotated. */
int st_wino_conv2d_backward_data(const st_conv2d_desc *d, float *dx, const float *dy, const float *w) {
  if (!st_wino_available() || !st_wino_shape_ok(d)) return 1;
  geom g;
  geom_init(&g, d->N, d->K, d->OH, d->OW, d->C, 2 - d->pt, 2 - d->pl, d->H, d->W);
  return conv(&g, w, 1, dy, NULL, dx);
}

int st_wino_conv2d_backward_weights(const st_conv2d_desc *d, float *dw, const float *dy, const float *x) {
  if (!st_wino_available() || !st_wino_shape_ok(d)) return 1;
  geom g;
  geom_init(&g, d->N, d->C, d->H, d->W, d->K, d->pt, d->pl, d->OH, d->OW);
  return run_weights(&g, x, dy, dw);
}

#else /* not x86-64 with GCC-style intrinsics: never available */

int st_wino_available(void) { return 0; }
int st_wino_shape_ok(const st_conv2d_desc *d) {
  (void)d;
  return 0;
}
int st_wino_conv2d_forward(const st_conv2d_desc *d, float *y, const float *x, const float *w, const float *b) {
  (void)d, (void)y, (void)x, (void)w, (void)b;
  return 1;
}
int st_wino_conv2d_backward_data(const st_conv2d_desc *d, float *dx, const float *dy, const float *w) {
  (void)d, (void)dx, (void)dy, (void)w;
  return 1;
}
int st_wino_conv2d_backward_weights(const st_conv2d_desc *d, float *dw, const float *dy, const float *x) {
  (void)d, (void)dw, (void)dy, (void)x;
  return 1;
}

#endif
