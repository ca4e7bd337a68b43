/* Named weights: an ordered set of float32 tensors plus string attributes,
 * stored as HDF5.
 *
 * File format (version "1"): one float32 dataset per parameter, named
 * "<layer>.<param>" (e.g. "conv1.weight", OIHW), the tensor's shape as its
 * dims (a 0-d tensor as a scalar dataspace); string attributes on the root
 * group, always including strata_format = "1". A name containing '/' is stored
 * in nested groups and read back with its parts joined by '/'.
 *
 * Loading accepts float datasets (float64 is converted to float32) whose
 * values are all finite, and variable- or fixed-length string attributes
 * (scalar numeric attributes are read as their decimal text). Integer, enum
 * and bitfield datasets and any NaN or infinity (also one made by converting
 * a float64 too large for float32) are errors naming the file and dataset;
 * string and other non-numeric datasets are skipped. Datasets come back
 * in the order they were written when the file tracks creation order (files
 * written here do; names sharing a group come back together), else
 * alphabetically. Files carry no timestamps: the same weights always give
 * the same bytes, so checksums of converted files are reproducible.
 */
#ifndef STRATA_IO_WEIGHTS_H
#define STRATA_IO_WEIGHTS_H

#include <stdint.h>

#include "../tensor.h"

/* The format version written to (and expected in) the strata_format attribute. */
#define ST_WEIGHTS_FORMAT "1"

typedef struct st_weights st_weights;

st_weights *st_weights_new(void);
void st_weights_free(st_weights *w); /* NULL is fine; releases every tensor */

/* Adds t under name (retaining t), or replaces the tensor of that name in
 * place. Names are non-empty, without a leading, trailing or doubled '/'. */
int st_weights_set(st_weights *w, const char *name, st_tensor *t);
/* The tensor of that name (borrowed), or NULL without recording an error. */
st_tensor *st_weights_get(const st_weights *w, const char *name);

/* Insertion order; i in [0, count). */
int st_weights_count(const st_weights *w);
const char *st_weights_name(const st_weights *w, int i);
st_tensor *st_weights_at(const st_weights *w, int i);
/* Sum of every tensor's element count. */
int64_t st_weights_numel(const st_weights *w);

/* String attributes (copied); setting an existing key replaces its value. */
int st_weights_set_attr(st_weights *w, const char *key, const char *value);
const char *st_weights_get_attr(const st_weights *w, const char *key); /* NULL when absent */
int st_weights_attr_count(const st_weights *w);
const char *st_weights_attr_key(const st_weights *w, int i);

/* The file (or folder) these weights came from, used in error messages;
 * "weights" when none. Loaders set it; set_path copies (NULL clears). */
const char *st_weights_path(const st_weights *w);
int st_weights_set_path(st_weights *w, const char *path);

/* 0 when name exists with exactly this shape; else -1 with
 *   "<file>: missing parameter '<name>' (expected shape [..])" or
 *   "<file>: parameter '<name>' has shape [..], expected [..]". */
int st_weights_expect(const st_weights *w, const char *name, int ndim, const int64_t *shape);

/* 0 when every tensor holds only finite values; else -1 with
 *   "<file>: parameter '<name>' (shape [..]) holds N non-finite values (the
 *   first, element i, is NaN): weights must be finite numbers".
 * Loaders and importers call it once on what they read. */
int st_weights_check_finite(const st_weights *w);

/* Writes atomically: "<path>.tmp.<pid>", fsync, rename over path; the
 * temporary file is removed on failure. Tensors on a GPU are copied back. */
int st_weights_save(const st_weights *w, const char *path);
/* NULL with an error naming the file (and dataset) on failure. The file is
 * parsed in a child process (isolate.h): a file that crashes libhdf5 gives
 * an error, not a crash. */
st_weights *st_weights_load(const char *path);

/* st_weights_load in two halves (engine/io/isolate.h): the child is forked
 * by _start; st_load_isolated_finish(h) returns what st_weights_load would. */
typedef struct st_isolated st_isolated;
st_isolated *st_weights_load_start(const char *path);
/* The same in the calling process, where a file that crashes libhdf5 crashes
 * the caller: for the fuzz targets (whose coverage must see the parsing),
 * after st_weights_load succeeded on the same file. */
st_weights *st_weights_load_here(const char *path);

/* SHA-256 of a file's bytes as 64 lowercase hex digits (engine/io/checksum.c). */
int st_file_sha256(const char *path, char out_hex[65]);

#endif
