#include "tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gpu.h"
#include "memory.h"

static st_tensor *wrap(int ndim, const int64_t *shape, st_storage *s, size_t offset) {
  st_tensor *t = calloc(1, sizeof *t);
  if (!t) {
    st_error("out of memory allocating a tensor header");
    return NULL;
  }
  t->ndim = ndim;
  t->numel = 1;
  for (int i = 0; i < ndim; i++) {
    t->shape[i] = shape[i];
    t->numel *= shape[i];
  }
  t->storage = s;
  s->refcount++;
  t->offset = offset;
  t->refcount = 1;
  return t;
}

st_tensor *st_tensor_new(int ndim, const int64_t *shape, st_device dev) {
  char sb[128];
  if (ndim < 0 || ndim > ST_MAX_DIMS) {
    st_error("a tensor has 0 to %d dimensions, not %d", ST_MAX_DIMS, ndim);
    return NULL;
  }
  int64_t numel = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0) {
      st_error("negative size in tensor shape %s", st_shape_str(ndim, shape, sb, sizeof sb));
      return NULL;
    }
    numel *= shape[i];
  }
  if (dev.kind == ST_CUDA && st_gpu_count() <= dev.index) {
    st_error("cannot create a tensor on %s: %s", st_device_name(dev), st_gpu_unavailable_reason());
    return NULL;
  }
  st_storage *s = calloc(1, sizeof *s);
  if (!s) {
    st_error("out of memory allocating a tensor header");
    return NULL;
  }
  s->device = dev;
  s->numel = (size_t)numel;
  char what[160];
  snprintf(what, sizeof what, "a tensor of shape %s", st_shape_str(ndim, shape, sb, sizeof sb));
  s->data = st_mem_alloc(dev, (size_t)(numel ? numel : 1) * sizeof(float), what);
  if (!s->data) {
    free(s);
    return NULL;
  }
  st_tensor *t = wrap(ndim, shape, s, 0);
  if (!t) {
    st_mem_free(dev, s->data);
    free(s);
    return NULL;
  }
  return t;
}

st_tensor *st_tensor_zeros(int ndim, const int64_t *shape, st_device dev) {
  st_tensor *t = st_tensor_new(ndim, shape, dev);
  if (t && st_tensor_fill(t, 0.0f) != 0) {
    st_tensor_release(t);
    return NULL;
  }
  return t;
}

st_tensor *st_tensor_new4(int64_t n, int64_t c, int64_t h, int64_t w, st_device dev) {
  int64_t s[4] = {n, c, h, w};
  return st_tensor_new(4, s, dev);
}

st_tensor *st_tensor_new1(int64_t n, st_device dev) { return st_tensor_new(1, &n, dev); }

void st_tensor_retain(st_tensor *t) {
  if (t) t->refcount++;
}

static void storage_release(st_storage *s) {
  if (--s->refcount == 0) {
    if (s->release) s->release(s->owner);
    else st_mem_free(s->device, s->data);
    free(s);
  }
}

st_tensor *st_tensor_wrap(int ndim, const int64_t *shape, float *data, void (*release)(void *owner), void *owner) {
  int64_t numel = 1;
  for (int i = 0; i < ndim; i++) numel *= shape[i];
  st_storage *s = calloc(1, sizeof *s);
  st_tensor *t = s ? wrap(ndim, shape, s, 0) : NULL;
  if (!t) {
    if (!s) st_error("out of memory allocating a tensor header");
    free(s);
    release(owner);
    return NULL;
  }
  s->device = st_cpu();
  s->numel = (size_t)numel;
  s->data = data;
  s->release = release;
  s->owner = owner;
  return t;
}

void st_tensor_release(st_tensor *t) {
  if (!t || --t->refcount > 0) return;
  storage_release(t->storage);
  free(t);
}

st_tensor *st_tensor_view(st_tensor *t, int ndim, const int64_t *shape) {
  char a[128], b[128];
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  if (ndim < 0 || ndim > ST_MAX_DIMS || n != t->numel) {
    st_error("cannot view a tensor of shape %s as %s: element counts differ",
             st_shape_str(t->ndim, t->shape, a, sizeof a), st_shape_str(ndim, shape, b, sizeof b));
    return NULL;
  }
  return wrap(ndim, shape, t->storage, t->offset);
}

st_tensor *st_tensor_narrow0(st_tensor *t, int64_t start, int64_t len) {
  if (t->ndim < 1 || start < 0 || len < 0 || start + len > t->shape[0]) {
    st_error("narrow(%lld, %lld) is outside dimension 0 of size %lld", (long long)start, (long long)len,
             (long long)(t->ndim ? t->shape[0] : 0));
    return NULL;
  }
  int64_t shape[ST_MAX_DIMS];
  memcpy(shape, t->shape, sizeof shape);
  shape[0] = len;
  int64_t inner = t->shape[0] ? t->numel / t->shape[0] : 0;
  return wrap(t->ndim, shape, t->storage, t->offset + (size_t)(start * inner));
}

int st_tensor_copy(st_tensor *dst, const st_tensor *src) {
  char a[128], b[128];
  if (dst->numel != src->numel)
    return st_error("cannot copy a tensor of shape %s into one of shape %s",
                    st_shape_str(src->ndim, src->shape, a, sizeof a), st_shape_str(dst->ndim, dst->shape, b, sizeof b));
  return st_gpu_memcpy(st_tensor_data(dst), st_tensor_device(dst), st_tensor_data(src), st_tensor_device(src),
                       (size_t)src->numel * sizeof(float));
}

st_tensor *st_tensor_to(const st_tensor *t, st_device dev) {
  st_tensor *r = st_tensor_new(t->ndim, t->shape, dev);
  if (r && st_tensor_copy(r, t) != 0) {
    st_tensor_release(r);
    return NULL;
  }
  return r;
}

st_tensor *st_tensor_clone(const st_tensor *t) { return st_tensor_to(t, st_tensor_device(t)); }

int st_tensor_fill(st_tensor *t, float v) {
  float *p = st_tensor_data(t);
  if (st_tensor_device(t).kind == ST_CPU) {
    for (int64_t i = 0; i < t->numel; i++) p[i] = v;
    return 0;
  }
  if (v == 0.0f) return st_gpu_memset(p, st_tensor_device(t).index, 0, (size_t)t->numel * sizeof(float));
  /* A constant other than zero: fill on the host and copy over. */
  float *h = malloc((size_t)t->numel * sizeof(float));
  if (!h) return st_error("out of memory filling a tensor");
  for (int64_t i = 0; i < t->numel; i++) h[i] = v;
  int rc = st_gpu_memcpy(p, st_tensor_device(t), h, st_cpu(), (size_t)t->numel * sizeof(float));
  free(h);
  return rc;
}

int st_tensor_same_shape(const st_tensor *a, const st_tensor *b) {
  if (a->ndim != b->ndim) return 0;
  for (int i = 0; i < a->ndim; i++)
    if (a->shape[i] != b->shape[i]) return 0;
  return 1;
}

const char *st_shape_str(int ndim, const int64_t *shape, char *buf, size_t n) {
  size_t k = 0;
  k += (size_t)snprintf(buf + k, n - k, "[");
  for (int i = 0; i < ndim && k < n; i++) k += (size_t)snprintf(buf + k, n - k, i ? ", %lld" : "%lld", (long long)shape[i]);
  if (k < n) snprintf(buf + k, n - k, "]");
  return buf;
}

int st_check_ndim(const st_tensor *t, int ndim, const char *what) {
  char a[128];
  if (!t) return st_error("%s: missing tensor", what);
  if (t->ndim != ndim)
    return st_error("%s: expected a %d-dimensional tensor, got shape %s", what, ndim, st_shape_str(t->ndim, t->shape, a, sizeof a));
  return 0;
}

int st_check_shape(const st_tensor *t, int ndim, const int64_t *shape, const char *what) {
  char a[128], b[128];
  if (!t) return st_error("%s: missing tensor", what);
  int ok = t->ndim == ndim;
  for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == shape[i];
  if (!ok)
    return st_error("%s: expected shape %s, got %s", what, st_shape_str(ndim, shape, a, sizeof a),
                    st_shape_str(t->ndim, t->shape, b, sizeof b));
  return 0;
}

int st_check_same_device(const st_tensor *a, const st_tensor *b, const char *what) {
  if (!st_device_eq(st_tensor_device(a), st_tensor_device(b))) {
    char da[32];
    snprintf(da, sizeof da, "%s", st_device_name(st_tensor_device(a)));
    return st_error("%s: tensors are on different devices (%s and %s)", what, da, st_device_name(st_tensor_device(b)));
  }
  return 0;
}

int st_check_like(const st_tensor *out, const char *out_what, const st_tensor *in, const char *in_what) {
  if (!in) return st_error("%s: missing tensor", in_what);
  if (st_check_shape(out, in->ndim, in->shape, out_what)) return -1;
  return st_check_same_device(out, in, out_what);
}

int st_check_placed(const st_tensor *t, int ndim, const int64_t *shape, const st_tensor *like, const char *what) {
  if (st_check_shape(t, ndim, shape, what)) return -1;
  return st_check_same_device(t, like, what);
}
