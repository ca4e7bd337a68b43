#include "dnnl_conv.h"

#ifndef STRATA_DNNL

/* Built without oneDNN: every call declines and the callers use im2col. */
int st_dnnl_enabled(void) { return 0; }

int st_dnnl_conv2d_forward(const st_conv2d_desc *d, int alg, int layout, float *y, const float *x, const float *w,
                           const float *b) {
  (void)d, (void)alg, (void)layout, (void)y, (void)x, (void)w, (void)b;
  return 1;
}
int st_dnnl_conv2d_backward_data(const st_conv2d_desc *d, int alg, int layout, float *dx, const float *dy,
                                 const float *w) {
  (void)d, (void)alg, (void)layout, (void)dx, (void)dy, (void)w;
  return 1;
}
int st_dnnl_conv2d_backward_weights(const st_conv2d_desc *d, int alg, int layout, float *dw, const float *dy,
                                    const float *x) {
  (void)d, (void)alg, (void)layout, (void)dw, (void)dy, (void)x;
  return 1;
}
int st_dnnl_conv_transpose2d_forward(const st_conv_transpose2d_desc *d, float *y, const float *x, const float *w,
                                     const float *b) {
  (void)d, (void)y, (void)x, (void)w, (void)b;
  return 1;
}
int st_dnnl_conv_transpose2d_backward_data(const st_conv_transpose2d_desc *d, float *dx, const float *dy,
                                           const float *w) {
  (void)d, (void)dx, (void)dy, (void)w;
  return 1;
}
int st_dnnl_conv_transpose2d_backward_weights(const st_conv_transpose2d_desc *d, float *dw, const float *dy,
                                              const float *x) {
  (void)d, (void)dw, (void)dy, (void)x;
  return 1;
}
void st_dnnl_clear_cache(void) {}
void st_dnnl_set_bands(size_t above, size_t bytes, size_t *old_above, size_t *old_bytes) {
  (void)above, (void)bytes;
  if (old_above) *old_above = 0;
  if (old_bytes) *old_bytes = 0;
}

#else

#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/memory.h"

int st_dnnl_enabled(void) { return 1; }

/* ---- one engine and stream for the process ---- */

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static int engine_ok;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static void engine_init(void) {
  if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) return;
  if (dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success) return;
  engine_ok = 1;
}

/* ---- cache of primitives, one entry per operation and shape ---- */

enum { CONV_FWD, CONV_BWD_D, CONV_BWD_W, DECONV_FWD, DECONV_BWD_D, DECONV_BWD_W };
static const char *op_name[] = {"conv2d forward",           "conv2d backward data",
                                "conv2d backward weights",  "conv_transpose2d forward",
                                "conv_transpose2d backward data", "conv_transpose2d backward weights"};

/* Both ops as oneDNN sees them: src [N, C, H, W], weights [K, C, kh, kw]
 * (for the deconvolution: K outputs, C inputs, stored [C, K, kh, kw]),
 * dst [N, K, OH, OW], padding before (pt, pl) and after (pb, pr). */
typedef struct {
  int op, alg, layout, bias;
  int N, C, H, W, K, kh, kw, sh, sw, pt, pb, pl, pr, OH, OW;
  int UH, UOH; /* a band (forward only): the full heights of the src and dst it is a part of; else 0 */
} key;

/* One primitive argument: the caller's plain layout, the primitive's, and the
 * reorder between them (NULL when they are the same). */
typedef struct {
  int arg;
  dnnl_memory_desc_t user, prim;
  dnnl_primitive_t reorder;
  dnnl_memory_t um, pm;
} slot;

typedef struct entry {
  key k;
  int declined;        /* no primitive for this case */
  dnnl_primitive_t prim;
  slot in[2], out;     /* inputs in call order; the output */
  int accumulate;      /* out's reorder adds into the caller's buffer */
  dnnl_memory_t scratch, bias;
  size_t scratch_bytes;
  struct entry *next;
} entry;

#define N_BUCKETS 256
#define MAX_ENTRIES 1024 /* beyond this (many image sizes) start over */
static entry *buckets[N_BUCKETS];
static int n_entries;

static uint32_t key_hash(const key *k) {
  const int *v = (const int *)k;
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < sizeof *k / sizeof(int); i++) h = (h ^ (uint32_t)v[i]) * 16777619u;
  return h;
}

static void slot_free(slot *s) {
  if (s->reorder) dnnl_primitive_destroy(s->reorder);
  if (s->um) dnnl_memory_destroy(s->um);
  if (s->pm) dnnl_memory_destroy(s->pm);
}

static void entry_free(entry *e) {
  if (e->prim) dnnl_primitive_destroy(e->prim);
  slot_free(&e->in[0]);
  slot_free(&e->in[1]);
  slot_free(&e->out);
  if (e->scratch) dnnl_memory_destroy(e->scratch);
  if (e->bias) dnnl_memory_destroy(e->bias);
  free(e);
}

static void clear_locked(void) {
  for (int i = 0; i < N_BUCKETS; i++) {
    while (buckets[i]) {
      entry *e = buckets[i];
      buckets[i] = e->next;
      entry_free(e);
    }
  }
  n_entries = 0;
}

void st_dnnl_clear_cache(void) {
  pthread_mutex_lock(&cache_lock);
  clear_locked();
  pthread_mutex_unlock(&cache_lock);
}

static int is_deconv(int op) { return op >= DECONV_FWD; }
static int is_fwd(int op) { return op == CONV_FWD || op == DECONV_FWD; }

/* The primitive descriptor for k (op fwd / bwd data / bwd weights). */
static dnnl_status_t make_pd(const key *k, int op, const_dnnl_primitive_attr_t attr,
                             const_dnnl_primitive_desc_t hint, dnnl_primitive_desc_t *pd) {
  dnnl_memory_desc_t src, wei, dst, bias;
  dnnl_dims_t sd = {k->N, k->C, k->H, k->W}, wd = {k->K, k->C, k->kh, k->kw}, dd = {k->N, k->K, k->OH, k->OW},
              bd = {k->K};
  dnnl_dims_t strides = {k->sh, k->sw}, pad_l = {k->pt, k->pl}, pad_r = {k->pb, k->pr};
  dnnl_format_tag_t act = k->layout == ST_DNNL_NHWC ? dnnl_nhwc : dnnl_format_tag_any;
  dnnl_status_t s;
  if ((s = dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, act)) != dnnl_success ||
      (s = dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, dnnl_format_tag_any)) != dnnl_success ||
      (s = dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, act)) != dnnl_success ||
      (s = dnnl_memory_desc_init_by_tag(&bias, 1, bd, dnnl_f32, dnnl_x)) != dnnl_success)
    return s;
  const dnnl_memory_desc_t *b = k->bias && is_fwd(op) ? &bias : NULL;
  dnnl_convolution_desc_t cd;
  dnnl_alg_kind_t alg = is_deconv(op)                ? dnnl_deconvolution_direct
                        : k->alg == ST_DNNL_WINOGRAD ? dnnl_convolution_winograd
                                                     : dnnl_convolution_direct;
  switch (op) {
  case CONV_FWD:
    s = dnnl_convolution_forward_desc_init(&cd, dnnl_forward_training, alg, &src, &wei, b, &dst, strides, pad_l,
                                           pad_r);
    break;
  case CONV_BWD_D:
    s = dnnl_convolution_backward_data_desc_init(&cd, alg, &src, &wei, &dst, strides, pad_l, pad_r);
    break;
  case CONV_BWD_W:
    s = dnnl_convolution_backward_weights_desc_init(&cd, alg, &src, &wei, NULL, &dst, strides, pad_l, pad_r);
    break;
  case DECONV_FWD:
    s = dnnl_deconvolution_forward_desc_init(&cd, dnnl_forward_training, alg, &src, &wei, b, &dst, strides, pad_l,
                                             pad_r);
    break;
  case DECONV_BWD_D:
    s = dnnl_deconvolution_backward_data_desc_init(&cd, alg, &src, &wei, &dst, strides, pad_l, pad_r);
    break;
  default:
    s = dnnl_deconvolution_backward_weights_desc_init(&cd, alg, &src, &wei, NULL, &dst, strides, pad_l, pad_r);
    break;
  }
  if (s != dnnl_success) return s;
  return dnnl_primitive_desc_create(pd, &cd, attr, engine, hint);
}

/* The rest of a slot's set-up once its user layout is known: the primitive's
 * layout from pd, and the reorder between them (input: user to primitive;
 * output: primitive to user, adding into it when accumulate). */
static dnnl_status_t slot_finish(slot *s, const_dnnl_primitive_desc_t pd, dnnl_query_t q, int output,
                                 int accumulate) {
  dnnl_status_t st;
  s->prim = *dnnl_primitive_desc_query_md(pd, q, 0);
  if ((st = dnnl_memory_create(&s->um, &s->user, engine, DNNL_MEMORY_NONE)) != dnnl_success) return st;
  if ((st = dnnl_memory_create(&s->pm, &s->prim, engine, DNNL_MEMORY_NONE)) != dnnl_success) return st;
  if (dnnl_memory_desc_equal(&s->user, &s->prim) && !accumulate) return dnnl_success;
  dnnl_primitive_attr_t attr = NULL;
  dnnl_post_ops_t ops = NULL;
  dnnl_primitive_desc_t rpd = NULL;
  if (accumulate) {
    if ((st = dnnl_primitive_attr_create(&attr)) != dnnl_success) return st;
    if ((st = dnnl_post_ops_create(&ops)) != dnnl_success || (st = dnnl_post_ops_append_sum(ops, 1.0f)) ||
        (st = dnnl_primitive_attr_set_post_ops(attr, ops)) != dnnl_success)
      goto done;
  }
  if (output)
    st = dnnl_reorder_primitive_desc_create(&rpd, &s->prim, engine, &s->user, engine, attr);
  else
    st = dnnl_reorder_primitive_desc_create(&rpd, &s->user, engine, &s->prim, engine, attr);
  if (st == dnnl_success) st = dnnl_primitive_create(&s->reorder, rpd);
done:
  if (rpd) dnnl_primitive_desc_destroy(rpd);
  if (ops) dnnl_post_ops_destroy(ops);
  if (attr) dnnl_primitive_attr_destroy(attr);
  return st;
}

/* Sets up slot s for argument arg: user layout `tag` over dims, then the rest. */
static dnnl_status_t slot_init(slot *s, int arg, const_dnnl_primitive_desc_t pd, dnnl_query_t q, int ndims,
                               const dnnl_dims_t dims, dnnl_format_tag_t tag, int output, int accumulate) {
  dnnl_status_t st;
  s->arg = arg;
  if ((st = dnnl_memory_desc_init_by_tag(&s->user, ndims, dims, dnnl_f32, tag)) != dnnl_success) return st;
  return slot_finish(s, pd, q, output, accumulate);
}

/* The same for a band of rows of a larger NCHW tensor whose planes have
 * full_h rows: the user side is a strided view into it. */
static dnnl_status_t slot_init_band(slot *s, int arg, const_dnnl_primitive_desc_t pd, dnnl_query_t q,
                                    const dnnl_dims_t dims, int full_h) {
  const dnnl_dim_t plane = (dnnl_dim_t)full_h * dims[3];
  dnnl_dims_t strides = {dims[1] * plane, plane, dims[3], 1};
  dnnl_status_t st;
  s->arg = arg;
  if ((st = dnnl_memory_desc_init_by_strides(&s->user, 4, dims, dnnl_f32, strides)) != dnnl_success) return st;
  return slot_finish(s, pd, q, arg == DNNL_ARG_DST, 0);
}

/* Creates the entry for k; NULL after st_error() on failure. An entry whose
 * primitive oneDNN cannot make is returned with declined set. */
static entry *build(const key *k) {
  entry *e = calloc(1, sizeof *e);
  if (!e) {
    st_error("%s (oneDNN): out of memory for the primitive cache", op_name[k->op]);
    return NULL;
  }
  e->k = *k;
  dnnl_primitive_attr_t attr = NULL;
  dnnl_primitive_desc_t hint = NULL, pd = NULL;
  dnnl_status_t st = dnnl_primitive_attr_create(&attr);
  if (st == dnnl_success) st = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
  if (st != dnnl_success) goto fail;
  if (!is_fwd(k->op)) {
    key fk = *k;
    fk.bias = 0;
    if (make_pd(&fk, is_deconv(k->op) ? DECONV_FWD : CONV_FWD, NULL, NULL, &hint) != dnnl_success) {
      e->declined = 1;
      goto out;
    }
  }
  if (make_pd(k, k->op, attr, hint, &pd) != dnnl_success) {
    e->declined = 1;
    goto out;
  }
  if ((st = dnnl_primitive_create(&e->prim, pd)) != dnnl_success) goto fail;

  dnnl_dims_t sd = {k->N, k->C, k->H, k->W}, wd = {k->K, k->C, k->kh, k->kw}, dd = {k->N, k->K, k->OH, k->OW},
              bd = {k->K};
  dnnl_format_tag_t wtag = is_deconv(k->op) ? dnnl_iohw : dnnl_oihw;
  switch (k->op) {
  case CONV_FWD:
  case DECONV_FWD:
    if (k->UH) {
      if ((st = slot_init_band(&e->in[0], DNNL_ARG_SRC, pd, dnnl_query_src_md, sd, k->UH)) ||
          (st = slot_init(&e->in[1], DNNL_ARG_WEIGHTS, pd, dnnl_query_weights_md, 4, wd, wtag, 0, 0)) ||
          (st = slot_init_band(&e->out, DNNL_ARG_DST, pd, dnnl_query_dst_md, dd, k->UOH)))
        goto fail;
    } else if ((st = slot_init(&e->in[0], DNNL_ARG_SRC, pd, dnnl_query_src_md, 4, sd, dnnl_nchw, 0, 0)) ||
               (st = slot_init(&e->in[1], DNNL_ARG_WEIGHTS, pd, dnnl_query_weights_md, 4, wd, wtag, 0, 0)) ||
               (st = slot_init(&e->out, DNNL_ARG_DST, pd, dnnl_query_dst_md, 4, dd, dnnl_nchw, 1, 0)))
      goto fail;
    if (k->bias) {
      dnnl_memory_desc_t bmd;
      if ((st = dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_x)) ||
          (st = dnnl_memory_create(&e->bias, &bmd, engine, DNNL_MEMORY_NONE)))
        goto fail;
    }
    break;
  case CONV_BWD_D:
  case DECONV_BWD_D:
    if ((st = slot_init(&e->in[0], DNNL_ARG_DIFF_DST, pd, dnnl_query_diff_dst_md, 4, dd, dnnl_nchw, 0, 0)) ||
        (st = slot_init(&e->in[1], DNNL_ARG_WEIGHTS, pd, dnnl_query_weights_md, 4, wd, wtag, 0, 0)) ||
        (st = slot_init(&e->out, DNNL_ARG_DIFF_SRC, pd, dnnl_query_diff_src_md, 4, sd, dnnl_nchw, 1, 0)))
      goto fail;
    break;
  default:
    e->accumulate = 1;
    if ((st = slot_init(&e->in[0], DNNL_ARG_SRC, pd, dnnl_query_src_md, 4, sd, dnnl_nchw, 0, 0)) ||
        (st = slot_init(&e->in[1], DNNL_ARG_DIFF_DST, pd, dnnl_query_diff_dst_md, 4, dd, dnnl_nchw, 0, 0)) ||
        (st = slot_init(&e->out, DNNL_ARG_DIFF_WEIGHTS, pd, dnnl_query_diff_weights_md, 4, wd, wtag, 1, 1)))
      goto fail;
    break;
  }
  const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
  e->scratch_bytes = smd ? dnnl_memory_desc_get_size(smd) : 0;
  if (e->scratch_bytes && (st = dnnl_memory_create(&e->scratch, smd, engine, DNNL_MEMORY_NONE)) != dnnl_success)
    goto fail;
out:
  if (pd) dnnl_primitive_desc_destroy(pd);
  if (hint) dnnl_primitive_desc_destroy(hint);
  if (attr) dnnl_primitive_attr_destroy(attr);
  return e;
fail:
  st_error("%s (oneDNN): setting up the primitive for x [%d, %d, %d, %d], w %dx%d, stride %dx%d failed "
           "(dnnl status %d)",
           op_name[k->op], k->N, k->C, k->H, k->W, k->kh, k->kw, k->sh, k->sw, (int)st);
  if (pd) dnnl_primitive_desc_destroy(pd);
  if (hint) dnnl_primitive_desc_destroy(hint);
  if (attr) dnnl_primitive_attr_destroy(attr);
  entry_free(e);
  return NULL;
}

/* The cached entry for k (built on first use); NULL after st_error(). Call with cache_lock held. */
static entry *lookup(const key *k) {
  uint32_t h = key_hash(k) % N_BUCKETS;
  for (entry *e = buckets[h]; e; e = e->next)
    if (!memcmp(&e->k, k, sizeof *k)) return e;
  if (n_entries >= MAX_ENTRIES) clear_locked();
  entry *e = build(k);
  if (!e) return NULL;
  e->next = buckets[h];
  buckets[h] = e;
  n_entries++;
  return e;
}

static int exec(dnnl_primitive_t p, int n, dnnl_exec_arg_t *args, const entry *e) {
  dnnl_status_t st = dnnl_primitive_execute(p, stream, n, args);
  if (st != dnnl_success)
    return st_error("%s (oneDNN): execution failed for x [%d, %d, %d, %d] (dnnl status %d)", op_name[e->k.op],
                    e->k.N, e->k.C, e->k.H, e->k.W, (int)st);
  return 0;
}

/* A reordered copy of s's tensor from the caching allocator; out-of-memory
 * errors name its shape like any tensor's. */
static void *temp_for(const slot *s) {
  char what[96];
  const dnnl_dims_t *d = &s->user.dims;
  if (s->user.ndims == 4)
    snprintf(what, sizeof what, "a tensor of shape [%lld, %lld, %lld, %lld]", (long long)(*d)[0], (long long)(*d)[1],
             (long long)(*d)[2], (long long)(*d)[3]);
  else
    snprintf(what, sizeof what, "a oneDNN temporary");
  size_t n = dnnl_memory_desc_get_size(&s->prim);
  return st_mem_alloc(st_cpu(), n ? n : 1, what);
}

/* Runs e on the caller's buffers: in0, in1 (in the entry's slot order), the
 * bias (forward only) and out. Temporaries for reordered tensors and the
 * scratchpad come from the caching allocator. */
static int run(entry *e, const float *in0, const float *in1, const float *bias, float *out) {
  const float *ins[2] = {in0, in1};
  void *tmp[4] = {NULL, NULL, NULL, NULL};
  dnnl_exec_arg_t args[5];
  int na = 0, rc = -1;
  for (int i = 0; i < 2; i++) {
    slot *s = &e->in[i];
    if (s->reorder) {
      if (!(tmp[i] = temp_for(s))) goto done;
      dnnl_memory_set_data_handle(s->um, (void *)ins[i]);
      dnnl_memory_set_data_handle(s->pm, tmp[i]);
      dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, s->um}, {DNNL_ARG_TO, s->pm}};
      if (exec(s->reorder, 2, ra, e)) goto done;
    } else {
      dnnl_memory_set_data_handle(s->pm, (void *)ins[i]);
    }
    args[na++] = (dnnl_exec_arg_t){s->arg, s->pm};
  }
  slot *o = &e->out;
  if (o->reorder) {
    if (!(tmp[2] = temp_for(o))) goto done;
    dnnl_memory_set_data_handle(o->pm, tmp[2]);
  } else {
    dnnl_memory_set_data_handle(o->pm, out);
  }
  args[na++] = (dnnl_exec_arg_t){o->arg, o->pm};
  if (e->bias) {
    dnnl_memory_set_data_handle(e->bias, (void *)bias);
    args[na++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, e->bias};
  }
  if (e->scratch) {
    if (!(tmp[3] = st_mem_alloc(st_cpu(), e->scratch_bytes, "oneDNN scratchpad"))) goto done;
    dnnl_memory_set_data_handle(e->scratch, tmp[3]);
    args[na++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, e->scratch};
  }
  if (exec(e->prim, na, args, e)) goto done;
  if (o->reorder) {
    dnnl_memory_set_data_handle(o->um, out);
    dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, o->pm}, {DNNL_ARG_TO, o->um}};
    if (exec(o->reorder, 2, ra, e)) goto done;
  }
  dnnl_stream_wait(stream);
  rc = 0;
done:
  for (int i = 0; i < 4; i++)
    if (tmp[i]) st_mem_free(st_cpu(), tmp[i]);
  return rc;
}

/* Looks up k (trying direct when Winograd has no primitive) and runs it.
 * Call with cache_lock held. */
static int dispatch_locked(key *k, const float *in0, const float *in1, const float *bias, float *out) {
  entry *e = lookup(k);
  if (e && e->declined && k->alg == ST_DNNL_WINOGRAD) {
    k->alg = ST_DNNL_DIRECT;
    e = lookup(k);
  }
  return !e ? -1 : e->declined ? 1 : run(e, in0, in1, bias, out);
}

/* ---- forward in row bands ----
 * A forward pass on a large image runs as a sequence of convs over bands of
 * output rows, each reading the input rows it needs through strided views.
 * The primitive's blocked copies of src and dst and its scratchpad (for
 * Winograd ~5x the output) then scale with a band instead of the image:
 * stylizing 2048x1360 otherwise needs ~1 GB of such temporaries on top of the
 * activations. Each output is the same sum as in the whole conv; oneDNN's
 * blocking for the band's shape may order its terms differently (a few ulps;
 * tests/unit/test_dnnl_bands.c). Backward passes run whole. */

static size_t band_above = (size_t)64 << 20; /* band when src or dst is larger (bytes) */
static size_t band_bytes = (size_t)8 << 20;  /* aim: src and dst bands at most this */

void st_dnnl_set_bands(size_t above, size_t bytes, size_t *old_above, size_t *old_bytes) {
  pthread_mutex_lock(&cache_lock);
  if (old_above) *old_above = band_above;
  if (old_bytes) *old_bytes = band_bytes;
  band_above = above;
  band_bytes = bytes ? bytes : 1;
  pthread_mutex_unlock(&cache_lock);
}

static long floor_div(long a, long b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* Output rows per band for k; 0 for no banding. */
static int band_rows(const key *k) {
  const size_t src_row = (size_t)k->N * k->C * k->W * sizeof(float);
  const size_t dst_row = (size_t)k->N * k->K * k->OW * sizeof(float);
  if (src_row * k->H <= band_above && dst_row * k->OH <= band_above) return 0;
  /* src rows per dst row: sh for a conv, 1/sh for a deconvolution (at least 1). */
  const size_t per = k->op == CONV_FWD ? (size_t)k->sh : 1;
  size_t r = band_bytes / dst_row;
  if (band_bytes / (src_row * per) < r) r = band_bytes / (src_row * per);
  r = r < 4 ? 4 : r / 4 * 4; /* Winograd's output tiles are 4 rows: bands start on a tile */
  return r < (size_t)k->OH ? (int)r : 0;
}

/* The key of the band of output rows [o0, o1) of k, and the first src row it
 * reads; 0 when the band reads no src row (then k runs whole). */
static int band_key(const key *k, int o0, int o1, key *b, int *i0) {
  long lo, hi; /* src rows [lo, hi) the band reads, before clipping to the image */
  *b = *k;
  if (k->op == CONV_FWD) {
    lo = (long)o0 * k->sh - k->pt;
    hi = (long)(o1 - 1) * k->sh - k->pt + k->kh;
  } else { /* dst row o = i*sh - pt + t for src row i and tap t < kh */
    lo = floor_div((long)o0 + k->pt - k->kh + 1 + k->sh - 1, k->sh);
    hi = floor_div((long)o1 - 1 + k->pt, k->sh) + 1;
  }
  const long c0 = lo < 0 ? 0 : lo, c1 = hi > k->H ? k->H : hi;
  if (c1 <= c0) return 0;
  b->H = (int)(c1 - c0);
  b->OH = o1 - o0;
  if (k->op == CONV_FWD) {
    b->pt = (int)(c0 - lo);
    b->pb = (int)(hi - c1);
  } else {
    b->pt = (int)(k->pt + o0 - c0 * k->sh);
    b->pb = (b->H - 1) * k->sh + k->kh - b->pt - b->OH;
    if (b->pt < 0 || b->pb < 0) return 0;
  }
  b->UH = k->H;
  b->UOH = k->OH;
  *i0 = (int)c0;
  return 1;
}

/* Runs k whole, or band by band when it is a large forward pass. */
static int dispatch(key *k, const float *in0, const float *in1, const float *bias, float *out) {
  pthread_once(&engine_once, engine_init);
  if (!engine_ok) return 1;
  pthread_mutex_lock(&cache_lock);
  int rc = 0, rows = is_fwd(k->op) ? band_rows(k) : 0;
  key b;
  int i0;
  for (int o0 = 0; rows && o0 < k->OH; o0 += rows)
    if (!band_key(k, o0, o0 + rows < k->OH ? o0 + rows : k->OH, &b, &i0)) rows = 0;
  for (int o0 = 0; rows && o0 < k->OH && rc == 0; o0 += rows) {
    band_key(k, o0, o0 + rows < k->OH ? o0 + rows : k->OH, &b, &i0);
    rc = dispatch_locked(&b, in0 + (long)i0 * k->W, in1, bias, out + (long)o0 * k->OW);
  }
  if (!rows) rc = dispatch_locked(k, in0, in1, bias, out);
  pthread_mutex_unlock(&cache_lock);
  return rc;
}

static key conv_key(const st_conv2d_desc *d, int op, int alg, int layout) {
  key k;
  memset(&k, 0, sizeof k);
  k.op = op;
  k.alg = alg;
  k.layout = layout;
  k.N = d->N, k.C = d->C, k.H = d->H, k.W = d->W, k.K = d->K, k.kh = d->kh, k.kw = d->kw;
  k.sh = d->sh, k.sw = d->sw, k.pt = d->pt, k.pb = d->pb, k.pl = d->pl, k.pr = d->pr, k.OH = d->OH, k.OW = d->OW;
  return k;
}

int st_dnnl_conv2d_forward(const st_conv2d_desc *d, int alg, int layout, float *y, const float *x, const float *w,
                           const float *b) {
  key k = conv_key(d, CONV_FWD, alg, layout);
  k.bias = b != NULL;
  return dispatch(&k, x, w, b, y);
}

int st_dnnl_conv2d_backward_data(const st_conv2d_desc *d, int alg, int layout, float *dx, const float *dy,
                                 const float *w) {
  key k = conv_key(d, CONV_BWD_D, alg, layout);
  return dispatch(&k, dy, w, NULL, dx);
}

int st_dnnl_conv2d_backward_weights(const st_conv2d_desc *d, int alg, int layout, float *dw, const float *dy,
                                    const float *x) {
  key k = conv_key(d, CONV_BWD_W, alg, layout);
  return dispatch(&k, x, dy, NULL, dw);
}

/* The deconvolution's padding after is what makes its output exactly OH x OW;
 * returns 0 when y would reach past the full output (negative padding). */
static int deconv_key(const st_conv_transpose2d_desc *d, int op, key *k) {
  memset(k, 0, sizeof *k);
  k->op = op;
  k->N = d->N, k->C = d->Ci, k->H = d->H, k->W = d->W, k->K = d->Co, k->kh = d->kh, k->kw = d->kw;
  k->sh = d->sh, k->sw = d->sw, k->pt = d->crop_top, k->pl = d->crop_left, k->OH = d->OH, k->OW = d->OW;
  k->pb = (d->H - 1) * d->sh + d->kh - d->crop_top - d->OH;
  k->pr = (d->W - 1) * d->sw + d->kw - d->crop_left - d->OW;
  return k->pb >= 0 && k->pr >= 0;
}

int st_dnnl_conv_transpose2d_forward(const st_conv_transpose2d_desc *d, float *y, const float *x, const float *w,
                                     const float *b) {
  key k;
  if (!deconv_key(d, DECONV_FWD, &k)) return 1;
  k.bias = b != NULL;
  return dispatch(&k, x, w, b, y);
}

int st_dnnl_conv_transpose2d_backward_data(const st_conv_transpose2d_desc *d, float *dx, const float *dy,
                                           const float *w) {
  key k;
  if (!deconv_key(d, DECONV_BWD_D, &k)) return 1;
  return dispatch(&k, dy, w, NULL, dx);
}

int st_dnnl_conv_transpose2d_backward_weights(const st_conv_transpose2d_desc *d, float *dw, const float *dy,
                                              const float *x) {
  key k;
  if (!deconv_key(d, DECONV_BWD_W, &k)) return 1;
  return dispatch(&k, x, dy, NULL, dw);
}

#endif
