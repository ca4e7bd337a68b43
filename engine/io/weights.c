/* Named weights in memory and their HDF5 file format (see weights.h). */
#include "weights.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../error.h"
#include "isolate.h"

/* Datasets larger than this (in elements) are refused on load: a tiny hostile
 * file can declare any size, and its fill value would be "read" happily. */
#define MAX_LOAD_NUMEL ((int64_t)1 << 34)
/* Nested groups deeper than this are refused (hard links can form cycles). */
#define MAX_GROUP_DEPTH 32

struct st_weights {
  int n, cap;
  char **names;
  st_tensor **tensors;
  int na, acap;
  char **keys, **values;
  char *path;
};

/* ---- container ---- */

st_weights *st_weights_new(void) {
  st_weights *w = calloc(1, sizeof *w);
  if (!w) st_error("out of memory allocating a weights container");
  return w;
}

void st_weights_free(st_weights *w) {
  if (!w) return;
  for (int i = 0; i < w->n; i++) {
    free(w->names[i]);
    st_tensor_release(w->tensors[i]);
  }
  for (int i = 0; i < w->na; i++) {
    free(w->keys[i]);
    free(w->values[i]);
  }
  free(w->names);
  free(w->tensors);
  free(w->keys);
  free(w->values);
  free(w->path);
  free(w);
}

static int find_name(const st_weights *w, const char *name) {
  for (int i = 0; i < w->n; i++)
    if (strcmp(w->names[i], name) == 0) return i;
  return -1;
}

static int find_key(const st_weights *w, const char *key) {
  for (int i = 0; i < w->na; i++)
    if (strcmp(w->keys[i], key) == 0) return i;
  return -1;
}

/* HDF5 link paths: '/' separates groups, so it may not lead, trail or double;
 * "." as a component would name the group itself. */
static int check_name(const char *name) {
  if (!name || !*name) return st_error("weights: a parameter name must be a non-empty string");
  size_t n = strlen(name);
  if (name[0] == '/' || name[n - 1] == '/' || strstr(name, "//"))
    return st_error("weights: parameter name '%s' has a leading, trailing or doubled '/'", name);
  for (const char *p = name; p;) {
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    if (len == 1 && p[0] == '.') return st_error("weights: parameter name '%s' has a '.' component", name);
    p = slash ? slash + 1 : NULL;
  }
  return 0;
}

int st_weights_set(st_weights *w, const char *name, st_tensor *t) {
  if (!w) return st_error("weights_set: no weights container");
  if (check_name(name) != 0) return -1;
  if (!t) return st_error("weights_set: no tensor given for '%s'", name);
  int i = find_name(w, name);
  if (i >= 0) {
    st_tensor_retain(t);
    st_tensor_release(w->tensors[i]);
    w->tensors[i] = t;
    return 0;
  }
  if (w->n == w->cap) {
    int cap = w->cap ? 2 * w->cap : 16;
    char **names = realloc(w->names, (size_t)cap * sizeof *names);
    if (names) w->names = names;
    st_tensor **tensors = realloc(w->tensors, (size_t)cap * sizeof *tensors);
    if (tensors) w->tensors = tensors;
    if (!names || !tensors) return st_error("out of memory adding parameter '%s'", name);
    w->cap = cap;
  }
  char *copy = strdup(name);
  if (!copy) return st_error("out of memory adding parameter '%s'", name);
  st_tensor_retain(t);
  w->names[w->n] = copy;
  w->tensors[w->n] = t;
  w->n++;
  return 0;
}

st_tensor *st_weights_get(const st_weights *w, const char *name) {
  if (!w || !name) return NULL;
  int i = find_name(w, name);
  return i >= 0 ? w->tensors[i] : NULL;
}

int st_weights_count(const st_weights *w) { return w ? w->n : 0; }

const char *st_weights_name(const st_weights *w, int i) {
  return w && i >= 0 && i < w->n ? w->names[i] : NULL;
}

st_tensor *st_weights_at(const st_weights *w, int i) {
  return w && i >= 0 && i < w->n ? w->tensors[i] : NULL;
}

int64_t st_weights_numel(const st_weights *w) {
  int64_t s = 0;
  for (int i = 0; w && i < w->n; i++) s += w->tensors[i]->numel;
  return s;
}

int st_weights_set_attr(st_weights *w, const char *key, const char *value) {
  if (!w) return st_error("weights_set_attr: no weights container");
  if (!key || !*key) return st_error("weights: an attribute key must be a non-empty string");
  if (!value) return st_error("weights: attribute '%s' has no value", key);
  char *v = strdup(value);
  if (!v) return st_error("out of memory setting attribute '%s'", key);
  int i = find_key(w, key);
  if (i >= 0) {
    free(w->values[i]);
    w->values[i] = v;
    return 0;
  }
  if (w->na == w->acap) {
    int cap = w->acap ? 2 * w->acap : 8;
    char **keys = realloc(w->keys, (size_t)cap * sizeof *keys);
    if (keys) w->keys = keys;
    char **values = realloc(w->values, (size_t)cap * sizeof *values);
    if (values) w->values = values;
    if (!keys || !values) {
      free(v);
      return st_error("out of memory setting attribute '%s'", key);
    }
    w->acap = cap;
  }
  char *k = strdup(key);
  if (!k) {
    free(v);
    return st_error("out of memory setting attribute '%s'", key);
  }
  w->keys[w->na] = k;
  w->values[w->na] = v;
  w->na++;
  return 0;
}

const char *st_weights_get_attr(const st_weights *w, const char *key) {
  if (!w || !key) return NULL;
  int i = find_key(w, key);
  return i >= 0 ? w->values[i] : NULL;
}

int st_weights_attr_count(const st_weights *w) { return w ? w->na : 0; }

const char *st_weights_attr_key(const st_weights *w, int i) {
  return w && i >= 0 && i < w->na ? w->keys[i] : NULL;
}

const char *st_weights_path(const st_weights *w) { return w && w->path ? w->path : "weights"; }

int st_weights_set_path(st_weights *w, const char *path) {
  if (!w) return st_error("weights_set_path: no weights container");
  char *p = NULL;
  if (path && !(p = strdup(path))) return st_error("out of memory copying path '%s'", path);
  free(w->path);
  w->path = p;
  return 0;
}

int st_weights_expect(const st_weights *w, const char *name, int ndim, const int64_t *shape) {
  char want[160], got[160];
  const char *file = st_weights_path(w);
  st_shape_str(ndim, shape, want, sizeof want);
  st_tensor *t = st_weights_get(w, name);
  if (!t) return st_error("%s: missing parameter '%s' (expected shape %s)", file, name ? name : "(null)", want);
  int ok = t->ndim == ndim;
  for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == shape[i];
  if (!ok)
    return st_error("%s: parameter '%s' has shape %s, expected %s", file, name,
                    st_shape_str(t->ndim, t->shape, got, sizeof got), want);
  return 0;
}

/* The first non-finite value of data[0, n) and how many there are. */
static int64_t count_nonfinite(const float *data, int64_t n, int64_t *first) {
  int64_t bad = 0;
  *first = -1;
  for (int64_t i = 0; i < n; i++)
    if (!isfinite(data[i]) && bad++ == 0) *first = i;
  return bad;
}

/* 0 when the CPU tensor t holds only finite values, else -1 with an error
 * naming file and parameter. */
static int check_finite(const char *file, const char *name, const st_tensor *t) {
  int64_t first, bad = count_nonfinite(st_tensor_data(t), t->numel, &first);
  if (!bad) return 0;
  char sb[160];
  float v = st_tensor_data(t)[first];
  return st_error("%s: parameter '%s' (shape %s) holds %lld non-finite value%s (the first, element %lld, is %s): "
                  "weights must be finite numbers", file, name, st_shape_str(t->ndim, t->shape, sb, sizeof sb),
                  (long long)bad, bad == 1 ? "" : "s", (long long)first, isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf");
}

int st_weights_check_finite(const st_weights *w) {
  if (!w) return st_error("weights_check_finite: no weights container");
  for (int i = 0; i < w->n; i++) {
    const st_tensor *t = w->tensors[i];
    st_tensor *host = NULL;
    if (st_tensor_device(t).kind != ST_CPU) {
      if (!(host = st_tensor_to(t, st_cpu())))
        return st_error_prefix("%s: parameter '%s': ", st_weights_path(w), w->names[i]);
      t = host;
    }
    int rc = check_finite(st_weights_path(w), w->names[i], t);
    st_tensor_release(host);
    if (rc != 0) return -1;
  }
  return 0;
}

/* ---- HDF5 plumbing ---- */

/* HDF5 prints its error stack by default; library code must not print, so the
 * printer is switched off for the duration of each call and restored after. */
typedef struct {
  H5E_auto2_t func;
  void *data;
} quiet_state;

static quiet_state h5_quiet(void) {
  quiet_state q = {NULL, NULL};
  H5Eget_auto2(H5E_DEFAULT, &q.func, &q.data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  return q;
}

static void h5_restore(quiet_state q) { H5Eset_auto2(H5E_DEFAULT, q.func, q.data); }

/* HDF5's descriptions can span lines ("file write failed: time = ...\n,
 * filename = ..."); errors here are one line, so line breaks become spaces. */
static herr_t innermost_cb(unsigned n, const H5E_error2_t *e, void *data) {
  if (n == 0 && e->desc) {
    char *s = data;
    snprintf(s, 256, "%s", e->desc);
    for (; *s; s++)
      if (*s == '\n' || *s == '\r' || *s == '\t') *s = ' ';
  }
  return 0;
}

/* The most specific message on HDF5's error stack ("truncated file: ..."),
 * or "unknown HDF5 error". Call right after the failing call: every HDF5 API
 * call clears the stack on entry. */
static const char *h5_detail(char buf[256]) {
  buf[0] = '\0';
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_cb, buf);
  if (!buf[0]) snprintf(buf, 256, "unknown HDF5 error");
  return buf;
}

static int is_ascii(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s >= 0x80) return 0;
  return 1;
}

/* A scalar fixed-length string attribute on the root group. */
static int write_attr(hid_t fid, const char *key, const char *value) {
  size_t len = strlen(value);
  hid_t type = H5Tcopy(H5T_C_S1), space = -1, attr = -1;
  int rc = -1;
  if (type < 0) goto done;
  if (H5Tset_size(type, len ? len : 1) < 0 || H5Tset_strpad(type, H5T_STR_NULLPAD) < 0 ||
      H5Tset_cset(type, is_ascii(value) ? H5T_CSET_ASCII : H5T_CSET_UTF8) < 0)
    goto done;
  if ((space = H5Screate(H5S_SCALAR)) < 0) goto done;
  if ((attr = H5Acreate2(fid, key, type, space, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto done;
  if (H5Awrite(attr, type, value) < 0) goto done; /* "" still has its NUL byte */
  rc = 0;
done:
  if (rc != 0) {
    char d[256];
    st_error("cannot write attribute '%s': %s", key, h5_detail(d));
  }
  if (attr >= 0) H5Aclose(attr);
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  return rc;
}

/* Creates the groups a nested name ("block/conv.weight") lives in. */
static int make_parent_groups(hid_t fid, hid_t gcpl, const char *name) {
  char d[256];
  char *path = strdup(name);
  if (!path) return st_error("out of memory writing '%s'", name);
  int rc = 0;
  for (char *slash = strchr(path, '/'); slash && rc == 0; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    htri_t exists = H5Lexists(fid, path, H5P_DEFAULT);
    if (exists < 0) {
      rc = st_error("cannot check group '%s': %s", path, h5_detail(d));
    } else if (!exists) {
      hid_t g = H5Gcreate2(fid, path, H5P_DEFAULT, gcpl, H5P_DEFAULT);
      if (g < 0)
        rc = st_error("cannot create group '%s' for '%s': %s", path, name, h5_detail(d));
      else
        H5Gclose(g);
    }
    *slash = '/';
  }
  free(path);
  return rc;
}

static int write_dataset(hid_t fid, hid_t dcpl, const char *name, const st_tensor *t) {
  hsize_t dims[ST_MAX_DIMS];
  for (int i = 0; i < t->ndim; i++) dims[i] = (hsize_t)t->shape[i];
  hid_t space = t->ndim ? H5Screate_simple(t->ndim, dims, NULL) : H5Screate(H5S_SCALAR), ds = -1;
  int rc = -1;
  if (space < 0) goto done;
  if ((ds = H5Dcreate2(fid, name, H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0) goto done;
  if (t->numel > 0 && H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, st_tensor_data(t)) < 0) goto done;
  rc = 0;
done:
  if (rc != 0) {
    char d[256];
    st_error("cannot write dataset '%s': %s", name, h5_detail(d));
  }
  if (ds >= 0) H5Dclose(ds);
  if (space >= 0) H5Sclose(space);
  return rc;
}

/* Builds the HDF5 file in memory (the core driver, no backing store) and
 * returns its bytes in *image (malloc'd, *size bytes). HDF5 itself never
 * writes to disk: HDF5 1.10 frees a file whose close fails on a write error
 * (a full disk) but keeps its ID, and then crashes at exit closing it. */
static int write_file(const st_weights *w, const char *name, void **image, size_t *size) {
  int rc = -1;
  char d[256];
  hid_t fcpl = -1, gcpl = -1, dcpl = -1, fapl = -1, fid = -1;
  *image = NULL;
  *size = 0;
  /* Track creation order so a load gives the parameters back in the order
   * they were added (HDF5 otherwise iterates by name); leave out object
   * timestamps so the same weights always give the same bytes (checksums). */
  unsigned order = H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED;
  if ((fcpl = H5Pcreate(H5P_FILE_CREATE)) < 0 || H5Pset_link_creation_order(fcpl, order) < 0 ||
      H5Pset_attr_creation_order(fcpl, order) < 0 || H5Pset_obj_track_times(fcpl, 0) < 0 ||
      (gcpl = H5Pcreate(H5P_GROUP_CREATE)) < 0 || H5Pset_link_creation_order(gcpl, order) < 0 ||
      H5Pset_obj_track_times(gcpl, 0) < 0 || (dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0 ||
      H5Pset_obj_track_times(dcpl, 0) < 0 || (fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 ||
      H5Pset_fapl_core(fapl, (size_t)(4 * st_weights_numel(w) + 65536), 0) < 0) {
    st_error("cannot set up HDF5 property lists: %s", h5_detail(d));
    goto done;
  }
  if ((fid = H5Fcreate(name, H5F_ACC_TRUNC, fcpl, fapl)) < 0) {
    st_error("cannot create HDF5 file: %s", h5_detail(d));
    goto done;
  }
  for (int i = 0; i < w->na; i++)
    if (strcmp(w->keys[i], "strata_format") != 0 && write_attr(fid, w->keys[i], w->values[i]) != 0) goto done;
  if (write_attr(fid, "strata_format", ST_WEIGHTS_FORMAT) != 0) goto done;
  for (int i = 0; i < w->n; i++) {
    const st_tensor *t = w->tensors[i];
    st_tensor *host = NULL;
    if (strchr(w->names[i], '/') && make_parent_groups(fid, gcpl, w->names[i]) != 0) goto done;
    if (st_tensor_device(t).kind != ST_CPU) {
      if (!(host = st_tensor_to(t, st_cpu()))) {
        st_error_prefix("copying '%s' to the host: ", w->names[i]);
        goto done;
      }
      t = host;
    }
    int r = write_dataset(fid, dcpl, w->names[i], t);
    st_tensor_release(host);
    if (r != 0) goto done;
  }
  if (H5Fflush(fid, H5F_SCOPE_GLOBAL) < 0) {
    st_error("cannot finish the HDF5 file: %s", h5_detail(d));
    goto done;
  }
  ssize_t n = H5Fget_file_image(fid, NULL, 0);
  if (n <= 0) {
    st_error("cannot get the HDF5 file image: %s", h5_detail(d));
    goto done;
  }
  if (!(*image = malloc((size_t)n))) {
    st_error("out of memory: %zd bytes for the HDF5 file image", n);
    goto done;
  }
  if (H5Fget_file_image(fid, *image, (size_t)n) != n) {
    st_error("cannot get the HDF5 file image: %s", h5_detail(d));
    goto done;
  }
  *size = (size_t)n;
  rc = 0;
done:
  if (fid >= 0 && H5Fclose(fid) < 0 && rc == 0) rc = st_error("cannot close HDF5 file: %s", h5_detail(d));
  if (rc != 0) {
    free(*image);
    *image = NULL;
    *size = 0;
  }
  if (fapl >= 0) H5Pclose(fapl);
  if (dcpl >= 0) H5Pclose(dcpl);
  if (gcpl >= 0) H5Pclose(gcpl);
  if (fcpl >= 0) H5Pclose(fcpl);
  return rc;
}

/* Test hook: STRATA_FAIL_WRITE_AFTER_BYTES=N makes writing weights files fail
 * with ENOSPC once this process has written N bytes of them in all, as when
 * the disk fills up during a run. */
static size_t bytes_written;

static size_t write_limit(void) {
  const char *s = getenv("STRATA_FAIL_WRITE_AFTER_BYTES");
  if (!s || !*s) return (size_t)-1;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  return *end ? (size_t)-1 : (size_t)v;
}

/* Writes size bytes to a new file at tmp and syncs it; -1 with errno set. */
static int write_bytes(const char *tmp, const void *data, size_t size) {
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  size_t done = 0, limit = write_limit();
  while (done < size) {
    size_t chunk = size - done < ((size_t)1 << 26) ? size - done : ((size_t)1 << 26);
    if (bytes_written + chunk > limit) chunk = limit > bytes_written ? limit - bytes_written : 0;
    ssize_t k = chunk ? write(fd, (const char *)data + done, chunk) : (errno = ENOSPC, -1);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      int e = k < 0 ? errno : EIO;
      close(fd);
      errno = e;
      return -1;
    }
    done += (size_t)k;
    bytes_written += (size_t)k;
  }
  if (fsync(fd) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return close(fd);
}

static int fsync_path(const char *path, int flags) {
  int fd = open(path, flags);
  if (fd < 0) return -1;
  int r = fsync(fd);
  close(fd);
  return r;
}

int st_weights_save(const st_weights *w, const char *path) {
  if (!w) return st_error("weights_save: no weights container");
  if (!path || !*path) return st_error("weights_save: no file name given");
  size_t n = strlen(path) + 32;
  char *tmp = malloc(n);
  if (!tmp) return st_error("out of memory saving '%s'", path);
  snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());

  void *image = NULL;
  size_t size = 0;
  quiet_state q = h5_quiet();
  int rc = write_file(w, tmp, &image, &size);
  h5_restore(q);
  if (rc != 0) {
    st_error_prefix("%s: ", path);
  } else if (write_bytes(tmp, image, size) != 0) {
    rc = st_error("%s: cannot write %zu bytes to '%s': %s", path, size, tmp, strerror(errno));
  } else if (rename(tmp, path) != 0) {
    rc = st_error("%s: cannot rename '%s' into place: %s", path, tmp, strerror(errno));
  }
  free(image);
  if (rc != 0) {
    unlink(tmp);
  } else {
    /* Make the rename itself durable (best effort: some filesystems refuse). */
    char *dcopy = strdup(path);
    if (dcopy) fsync_path(dirname(dcopy), O_RDONLY | O_DIRECTORY);
    free(dcopy);
  }
  free(tmp);
  return rc;
}

/* ---- loading ---- */

typedef struct {
  st_weights *w;
  const char *path;
  const char *prefix; /* the group being walked, NULL at the root */
  int depth;
  int failed;         /* an error is recorded: stop walking */
  uint64_t file_size; /* bytes */
} load_ctx;

static char *join_name(const char *prefix, const char *name) {
  size_t n = (prefix ? strlen(prefix) + 1 : 0) + strlen(name) + 1;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s%s%s", prefix ? prefix : "", prefix ? "/" : "", name);
  return s;
}

/* Reads one dataset as float32; non-numeric and empty (null) datasets are
 * skipped. Returns 0, or -1 with an error. */
static int read_dataset(load_ctx *c, hid_t ds, const char *full) {
  char d[256], sb[160];
  hid_t ftype = H5Dget_type(ds), space = -1;
  int rc = -1;
  st_tensor *t = NULL;
  if (ftype < 0) {
    st_error("%s: cannot read the type of dataset '%s': %s", c->path, full, h5_detail(d));
    goto done;
  }
  H5T_class_t cls = H5Tget_class(ftype);
  if (cls == H5T_INTEGER || cls == H5T_ENUM || cls == H5T_BITFIELD) {
    /* Numbers, but not weights: a label array or a file meant for another
     * purpose; converting them would make up a network. */
    st_error("%s: dataset '%s' holds %zu-byte %s values; weights must be floating point (float32 or float64)",
             c->path, full, H5Tget_size(ftype), cls == H5T_INTEGER ? "integer" : cls == H5T_ENUM ? "enum" : "bitfield");
    goto done;
  }
  if (cls != H5T_FLOAT) {
    rc = 0;
    goto done;
  }
  if ((space = H5Dget_space(ds)) < 0) {
    st_error("%s: cannot read the shape of dataset '%s': %s", c->path, full, h5_detail(d));
    goto done;
  }
  H5S_class_t sc = H5Sget_simple_extent_type(space);
  if (sc == H5S_NULL) {
    rc = 0;
    goto done;
  }
  int ndim = sc == H5S_SCALAR ? 0 : H5Sget_simple_extent_ndims(space);
  if (ndim < 0 || ndim > ST_MAX_DIMS) {
    st_error("%s: dataset '%s' has %d dimensions (at most %d supported)", c->path, full, ndim, ST_MAX_DIMS);
    goto done;
  }
  hsize_t dims[ST_MAX_DIMS];
  int64_t shape[ST_MAX_DIMS], numel = 1;
  if (ndim > 0 && H5Sget_simple_extent_dims(space, dims, NULL) < 0) {
    st_error("%s: cannot read the shape of dataset '%s': %s", c->path, full, h5_detail(d));
    goto done;
  }
  for (int i = 0; i < ndim; i++) {
    if (dims[i] > (hsize_t)MAX_LOAD_NUMEL || (dims[i] && numel > MAX_LOAD_NUMEL / (int64_t)dims[i])) {
      st_error("%s: dataset '%s' is too large to load", c->path, full);
      goto done;
    }
    shape[i] = (int64_t)dims[i];
    numel *= shape[i];
  }
  /* Nor may a dataset declare more data than the file holds (the rest would
   * be its fill value): a few hostile bytes must not allocate gigabytes.
   * Compressed data may expand, by at most ~1032x for deflate. */
  if (numel > 0) {
    hsize_t stored = H5Dget_storage_size(ds);
    hid_t dcpl = H5Dget_create_plist(ds);
    int filtered = dcpl >= 0 && H5Pget_nfilters(dcpl) > 0;
    if (dcpl >= 0) H5Pclose(dcpl);
    size_t esize = H5Tget_size(ftype);
    double declared = (double)numel * (double)esize;
    double holds = filtered ? 1100.0 * (double)stored + (double)(1 << 20) : (double)stored;
    if (stored > c->file_size || declared > holds) {
      st_error("%s: dataset '%s' (shape %s of %zu-byte values) declares %.0f bytes but the file holds %llu "
               "(truncated or corrupt?)", c->path, full, st_shape_str(ndim, shape, sb, sizeof sb), esize, declared,
               (unsigned long long)stored);
      goto done;
    }
  }
  if (!(t = st_tensor_new(ndim, shape, st_cpu()))) {
    st_error_prefix("%s: dataset '%s': ", c->path, full);
    goto done;
  }
  if (numel > 0 && H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, st_tensor_data(t)) < 0) {
    st_error("%s: cannot read dataset '%s' (shape %s): %s", c->path, full, st_shape_str(ndim, shape, sb, sizeof sb),
             h5_detail(d));
    goto done;
  }
  if (check_finite(c->path, full, t) != 0) goto done;
  rc = st_weights_set(c->w, full, t);
done:
  st_tensor_release(t);
  if (space >= 0) H5Sclose(space);
  if (ftype >= 0) H5Tclose(ftype);
  return rc;
}

static int walk_group(load_ctx *c, hid_t gid);

static herr_t link_cb(hid_t gid, const char *name, const H5L_info_t *info, void *data) {
  load_ctx *c = data;
  char d[256];
  if (info->type != H5L_TYPE_HARD) return 0; /* soft and external links point elsewhere */
  char *full = join_name(c->prefix, name);
  if (!full) {
    st_error("%s: out of memory reading '%s'", c->path, name);
    c->failed = 1;
    return -1;
  }
  int rc = 0;
  hid_t obj = H5Oopen(gid, name, H5P_DEFAULT);
  if (obj < 0) {
    rc = st_error("%s: cannot open object '%s': %s", c->path, full, h5_detail(d));
  } else {
    H5I_type_t type = H5Iget_type(obj);
    if (type == H5I_DATASET) {
      rc = read_dataset(c, obj, full);
    } else if (type == H5I_GROUP) {
      if (c->depth >= MAX_GROUP_DEPTH) {
        rc = st_error("%s: groups nested deeper than %d levels at '%s'", c->path, MAX_GROUP_DEPTH, full);
      } else {
        const char *saved = c->prefix;
        c->prefix = full;
        c->depth++;
        rc = walk_group(c, obj);
        c->depth--;
        c->prefix = saved;
      }
    } /* committed datatypes and the like carry no parameters */
    H5Oclose(obj);
  }
  free(full);
  if (rc != 0) {
    c->failed = 1;
    return -1;
  }
  return 0;
}

/* A group's links in creation order when the file tracks it (files written
 * here do), else by name. Asking for creation order fails at once, before
 * any link is visited, when the group does not track it. (Not decided from
 * the group's creation property list: H5Gget_create_plist is one of the
 * calls that crash HDF5 1.10 on corrupt files, see isolate.h.) */
static int walk_group(load_ctx *c, hid_t gid) {
  char d[256];
  hsize_t next = 0;
  herr_t r = H5Literate(gid, H5_INDEX_CRT_ORDER, H5_ITER_INC, &next, link_cb, c);
  if (r < 0 && !c->failed && next == 0) r = H5Literate(gid, H5_INDEX_NAME, H5_ITER_INC, NULL, link_cb, c);
  if (c->failed) return -1;
  if (r < 0) return st_error("%s: cannot list group '%s': %s", c->path, c->prefix ? c->prefix : "/", h5_detail(d));
  return 0;
}

/* Attribute values as text: strings as they are, scalar numbers in decimal;
 * arrays and other types are skipped. */
static int read_attr(load_ctx *c, hid_t attr, const char *key) {
  char d[256], num[64];
  hid_t type = H5Aget_type(attr), space = H5Aget_space(attr), mem = -1;
  int rc = -1;
  char *fixed = NULL, *var = NULL;
  const char *value = NULL;
  if (type < 0 || space < 0) goto fail;
  hssize_t npoints = H5Sget_simple_extent_npoints(space);
  if (npoints != 1) {
    rc = 0;
    goto done;
  }
  H5T_class_t cls = H5Tget_class(type);
  if (cls == H5T_STRING) {
    htri_t isvar = H5Tis_variable_str(type);
    if (isvar < 0) goto fail;
    if (isvar) {
      if ((mem = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(mem, H5T_VARIABLE) < 0 ||
          H5Tset_cset(mem, H5Tget_cset(type)) < 0 || H5Aread(attr, mem, &var) < 0)
        goto fail;
      value = var ? var : "";
    } else {
      size_t n = H5Tget_size(type);
      if (!(fixed = calloc(n + 1, 1))) {
        st_error("%s: out of memory reading attribute '%s'", c->path, key);
        goto done;
      }
      if (H5Aread(attr, type, fixed) < 0) goto fail;
      if (H5Tget_strpad(type) == H5T_STR_SPACEPAD)
        for (size_t k = strlen(fixed); k > 0 && fixed[k - 1] == ' '; k--) fixed[k - 1] = '\0';
      value = fixed;
    }
  } else if (cls == H5T_INTEGER) {
    if (H5Tget_sign(type) == H5T_SGN_NONE) {
      unsigned long long u;
      if (H5Aread(attr, H5T_NATIVE_ULLONG, &u) < 0) goto fail;
      snprintf(num, sizeof num, "%llu", u);
    } else {
      long long v;
      if (H5Aread(attr, H5T_NATIVE_LLONG, &v) < 0) goto fail;
      snprintf(num, sizeof num, "%lld", v);
    }
    value = num;
  } else if (cls == H5T_FLOAT) {
    double v;
    if (H5Aread(attr, H5T_NATIVE_DOUBLE, &v) < 0) goto fail;
    snprintf(num, sizeof num, H5Tget_size(type) <= 4 ? "%.9g" : "%.17g", v);
    value = num;
  } else {
    rc = 0;
    goto done;
  }
  rc = st_weights_set_attr(c->w, key, value);
  goto done;
fail:
  st_error("%s: cannot read attribute '%s': %s", c->path, key, h5_detail(d));
done:
  if (var) H5free_memory(var);
  free(fixed);
  if (mem >= 0) H5Tclose(mem);
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  return rc;
}

static herr_t attr_cb(hid_t loc, const char *key, const H5A_info_t *info, void *data) {
  load_ctx *c = data;
  char d[256];
  (void)info;
  hid_t attr = H5Aopen(loc, key, H5P_DEFAULT);
  int rc = attr < 0 ? st_error("%s: cannot open attribute '%s': %s", c->path, key, h5_detail(d))
                    : read_attr(c, attr, key);
  if (attr >= 0) H5Aclose(attr);
  if (rc != 0) {
    c->failed = 1;
    return -1;
  }
  return 0;
}

/* In creation order when tracked, else by name, as walk_group. */
static int read_root_attrs(load_ctx *c, hid_t root) {
  char d[256];
  hsize_t next = 0;
  herr_t r = H5Aiterate2(root, H5_INDEX_CRT_ORDER, H5_ITER_INC, &next, attr_cb, c);
  if (r < 0 && !c->failed && next == 0) r = H5Aiterate2(root, H5_INDEX_NAME, H5_ITER_INC, NULL, attr_cb, c);
  if (c->failed) return -1;
  if (r < 0) return st_error("%s: cannot list the root attributes: %s", c->path, h5_detail(d));
  return 0;
}

static st_weights *load_file(const char *path) {
  char d[256];
  struct stat sb;
  if (stat(path, &sb) != 0) {
    st_error("cannot open '%s': %s", path, strerror(errno));
    return NULL;
  }
  if (S_ISDIR(sb.st_mode)) {
    st_error("'%s' is a directory, not an HDF5 file", path);
    return NULL;
  }
  htri_t is = H5Fis_hdf5(path);
  if (is == 0) {
    st_error("'%s' is not an HDF5 file", path);
    return NULL;
  }
  if (is < 0) {
    st_error("cannot open '%s': %s", path, h5_detail(d));
    return NULL;
  }
  hid_t fid = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (fid < 0) {
    st_error("cannot open HDF5 file '%s' (truncated or corrupt?): %s", path, h5_detail(d));
    return NULL;
  }
  st_weights *w = st_weights_new();
  hid_t root = -1;
  load_ctx c = {w, path, NULL, 0, 0, (uint64_t)sb.st_size};
  int rc = -1;
  if (!w || st_weights_set_path(w, path) != 0) goto done;
  if ((root = H5Gopen2(fid, "/", H5P_DEFAULT)) < 0) {
    st_error("%s: cannot open the root group: %s", path, h5_detail(d));
    goto done;
  }
  if (read_root_attrs(&c, root) != 0 || walk_group(&c, root) != 0) goto done;
  rc = 0;
done:
  if (root >= 0) H5Gclose(root);
  if (H5Fclose(fid) < 0 && rc == 0) rc = st_error("%s: cannot close HDF5 file: %s", path, h5_detail(d));
  if (rc != 0) {
    st_weights_free(w);
    return NULL;
  }
  return w;
}

st_weights *st_weights_load_here(const char *path) {
  if (!path || !*path) {
    st_error("weights_load: no file name given");
    return NULL;
  }
  quiet_state q = h5_quiet();
  st_weights *w = load_file(path);
  h5_restore(q);
  return w;
}

st_weights *st_weights_load(const char *path) {
  st_isolated *h = st_weights_load_start(path);
  return h ? st_load_isolated_finish(h) : NULL;
}

st_isolated *st_weights_load_start(const char *path) {
  if (!path || !*path) {
    st_error("weights_load: no file name given");
    return NULL;
  }
  return st_load_isolated_start(st_weights_load_here, path, "HDF5 weights file");
}
