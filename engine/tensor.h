/* Tensors: float32, contiguous, row-major (NCHW for images), refcounted storage.
 *
 * A tensor is a shape plus a view (offset) into a storage. Views made by
 * st_tensor_view / st_tensor_narrow0 share the storage; everything is always
 * contiguous, so kernels take plain pointers.
 */
#ifndef STRATA_TENSOR_H
#define STRATA_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"

#define ST_MAX_DIMS 8

typedef struct st_storage {
  float *data;      /* host or device pointer, per device */
  size_t numel;
  int refcount;
  st_device device;
  /* Set for host memory that is not the caching allocator's (st_tensor_wrap):
   * called with `owner` instead of st_mem_free when the last view goes. */
  void (*release)(void *owner);
  void *owner;
} st_storage;

typedef struct st_tensor {
  int ndim;
  int64_t shape[ST_MAX_DIMS];
  int64_t numel;
  st_storage *storage;
  size_t offset;    /* in elements */
  int refcount;
} st_tensor;

/* New uninitialised tensor; NULL with an error (naming the size) on failure. */
st_tensor *st_tensor_new(int ndim, const int64_t *shape, st_device dev);
st_tensor *st_tensor_zeros(int ndim, const int64_t *shape, st_device dev);
st_tensor *st_tensor_new4(int64_t n, int64_t c, int64_t h, int64_t w, st_device dev);
st_tensor *st_tensor_new1(int64_t n, st_device dev);

/* A host tensor over `data`, memory the caller owns (numel floats of the
 * shape): release(owner) is called once no tensor uses it any more, or
 * before this returns NULL (out of memory, with an error). */
st_tensor *st_tensor_wrap(int ndim, const int64_t *shape, float *data, void (*release)(void *owner), void *owner);

void st_tensor_retain(st_tensor *t);
void st_tensor_release(st_tensor *t); /* NULL is fine */

static inline st_device st_tensor_device(const st_tensor *t) { return t->storage->device; }
static inline float *st_tensor_data(const st_tensor *t) { return t->storage->data + t->offset; }

/* A view with another shape and the same number of elements. */
st_tensor *st_tensor_view(st_tensor *t, int ndim, const int64_t *shape);
/* Rows [start, start+len) of dimension 0, sharing storage. */
st_tensor *st_tensor_narrow0(st_tensor *t, int64_t start, int64_t len);

/* Copies between any two devices; shapes' element counts must match. */
int st_tensor_copy(st_tensor *dst, const st_tensor *src);
st_tensor *st_tensor_clone(const st_tensor *t);
st_tensor *st_tensor_to(const st_tensor *t, st_device dev);
int st_tensor_fill(st_tensor *t, float v);

int st_tensor_same_shape(const st_tensor *a, const st_tensor *b);
/* "[2, 3, 4, 5]" into buf. */
const char *st_shape_str(int ndim, const int64_t *shape, char *buf, size_t n);

/* Shape checks for op argument validation; each returns 0 or -1 with an error
 * that names `what` and the expected and actual shapes. */
int st_check_ndim(const st_tensor *t, int ndim, const char *what);
int st_check_shape(const st_tensor *t, int ndim, const int64_t *shape, const char *what);
int st_check_same_device(const st_tensor *a, const st_tensor *b, const char *what);
/* out present with in's shape and on in's device (in must be present too). */
int st_check_like(const st_tensor *out, const char *out_what, const st_tensor *in, const char *in_what);
/* t present with `shape` and on like's device (errors name `what`). */
int st_check_placed(const st_tensor *t, int ndim, const int64_t *shape, const st_tensor *like, const char *what);

#endif
