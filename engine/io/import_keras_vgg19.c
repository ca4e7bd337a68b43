/* Keras VGG-19 HDF5 weights -> strata weights (see import_keras_vgg19.h). */
#include "import_keras_vgg19.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../error.h"
#include "isolate.h"

#define NUM_CONVS 16
/* Bounds on what a (possibly hostile) file may declare before we allocate. */
#define MAX_NAMES 100000
#define MAX_WEIGHT_NUMEL ((int64_t)1 << 28)

static const int convs_per_block[5] = {2, 2, 4, 4, 4};

/* The k-th conv layer (0-based) as Keras and strata name it. */
static void conv_names(int k, char keras[32], char strata[32]) {
  int b = 0;
  while (k >= convs_per_block[b]) k -= convs_per_block[b++];
  snprintf(keras, 32, "block%d_conv%d", b + 1, k + 1);
  snprintf(strata, 32, "conv%d_%d", b + 1, k + 1);
}

/* The include-top file's classifier carries weights the loss network never uses. */
static int is_classifier(const char *name) {
  return strcmp(name, "fc1") == 0 || strcmp(name, "fc2") == 0 || strcmp(name, "predictions") == 0;
}

/* ---- HDF5 error plumbing: nothing may print; the innermost message is kept. */

static herr_t innermost_cb(unsigned n, const H5E_error2_t *e, void *data) {
  if (n == 0 && e->desc) snprintf((char *)data, 256, "%s", e->desc);
  return 0;
}

static const char *h5_detail(char buf[256]) {
  buf[0] = '\0';
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_cb, buf);
  if (!buf[0]) snprintf(buf, 256, "unknown HDF5 error");
  return buf;
}

/* ---- lists of strings read from attributes */

typedef struct {
  char **v;
  int n, cap;
} strlist;

static void strlist_free(strlist *l) {
  for (int i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}

static int strlist_push(strlist *l, const char *s, size_t len) {
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 32;
    char **v = realloc(l->v, (size_t)cap * sizeof *v);
    if (!v) return -1;
    l->v = v, l->cap = cap;
  }
  char *c = malloc(len + 1);
  if (!c) return -1;
  memcpy(c, s, len);
  c[len] = '\0';
  l->v[l->n++] = c;
  return 0;
}

/* Appends the strings of attribute `name` of obj to out. An attribute with no
 * elements (Keras writes an empty float array for weightless layers) adds
 * nothing, whatever its type. `where` names the object for messages. */
static int read_string_attr(const char *file, const char *where, hid_t obj, const char *name, strlist *out) {
  char d[256];
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT), type = -1, space = -1, mem = -1;
  char *fixed = NULL, **var = NULL;
  hssize_t n = 0;
  int rc = -1;
  if (a < 0 || (type = H5Aget_type(a)) < 0 || (space = H5Aget_space(a)) < 0 ||
      (n = H5Sget_simple_extent_npoints(space)) < 0) {
    st_error("%s: %s: cannot read attribute '%s': %s", file, where, name, h5_detail(d));
    goto done;
  }
  if (n == 0) {
    rc = 0;
    goto done;
  }
  if (H5Tget_class(type) != H5T_STRING) {
    st_error("%s: %s: attribute '%s' must be a list of strings", file, where, name);
    goto done;
  }
  if (n > MAX_NAMES) {
    st_error("%s: %s: attribute '%s' lists %lld names (at most %d)", file, where, name, (long long)n, MAX_NAMES);
    goto done;
  }
  htri_t isvar = H5Tis_variable_str(type);
  if (isvar > 0) {
    if (!(var = calloc((size_t)n, sizeof *var))) goto oom;
    if ((mem = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(mem, H5T_VARIABLE) < 0 || H5Aread(a, mem, var) < 0) {
      st_error("%s: %s: cannot read attribute '%s': %s", file, where, name, h5_detail(d));
      goto done;
    }
    for (hssize_t i = 0; i < n; i++)
      if (strlist_push(out, var[i] ? var[i] : "", var[i] ? strlen(var[i]) : 0) != 0) goto oom;
  } else {
    size_t size = H5Tget_size(type);
    if (isvar < 0 || size == 0) {
      st_error("%s: %s: cannot read attribute '%s': %s", file, where, name, h5_detail(d));
      goto done;
    }
    if (!(fixed = malloc((size_t)n * size))) goto oom;
    if (H5Aread(a, type, fixed) < 0) {
      st_error("%s: %s: cannot read attribute '%s': %s", file, where, name, h5_detail(d));
      goto done;
    }
    int spaces = H5Tget_strpad(type) == H5T_STR_SPACEPAD;
    for (hssize_t i = 0; i < n; i++) {
      const char *s = fixed + (size_t)i * size;
      size_t len = strnlen(s, size);
      while (spaces && len > 0 && s[len - 1] == ' ') len--;
      if (strlist_push(out, s, len) != 0) goto oom;
    }
  }
  rc = 0;
  goto done;
oom:
  st_error("%s: %s: out of memory reading attribute '%s'", file, where, name);
done:
  if (var) {
    for (hssize_t i = 0; i < n; i++)
      if (var[i]) H5free_memory(var[i]);
    free(var);
  }
  free(fixed);
  if (mem >= 0) H5Tclose(mem);
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  if (a >= 0) H5Aclose(a);
  return rc;
}

/* Attribute `name`, or its chunks name0, name1, ... (Keras splits lists that
 * would overflow an HDF5 object header). *found = 0 when neither exists. */
static int read_names(const char *file, const char *where, hid_t obj, const char *name, strlist *out, int *found) {
  char chunk[64];
  *found = 0;
  if (H5Aexists(obj, name) > 0) {
    *found = 1;
    return read_string_attr(file, where, obj, name, out);
  }
  for (int i = 0;; i++) {
    snprintf(chunk, sizeof chunk, "%s%d", name, i);
    if (H5Aexists(obj, chunk) <= 0) return 0;
    *found = 1;
    if (read_string_attr(file, where, obj, chunk, out) != 0) return -1;
  }
}

/* ---- one weight array */

typedef struct {
  int ndim;
  int64_t shape[ST_MAX_DIMS];
  float *data;
} array;

/* Reads dataset `wname` (a path relative to the layer group) as float32. */
static int read_array(const char *file, const char *layer, hid_t group, const char *wname, array *out) {
  char d[256];
  hid_t ds = H5Dopen2(group, wname, H5P_DEFAULT), type = -1, space = -1;
  int rc = -1;
  out->data = NULL;
  if (ds < 0) {
    st_error("%s: layer '%s': weight '%s' (listed in weight_names) is not a dataset in the layer's group", file,
             layer, wname);
    goto done;
  }
  if ((type = H5Dget_type(ds)) < 0 || (space = H5Dget_space(ds)) < 0) {
    st_error("%s: layer '%s': cannot read weight '%s': %s", file, layer, wname, h5_detail(d));
    goto done;
  }
  H5T_class_t cls = H5Tget_class(type);
  if (cls == H5T_INTEGER) {
    st_error("%s: layer '%s': weight '%s' holds %zu-byte integers; weights must be floating point", file, layer, wname,
             H5Tget_size(type));
    goto done;
  }
  if (cls != H5T_FLOAT || H5Sget_simple_extent_type(space) != H5S_SIMPLE) {
    st_error("%s: layer '%s': weight '%s' is not a floating-point array", file, layer, wname);
    goto done;
  }
  int ndim = H5Sget_simple_extent_ndims(space);
  hsize_t dims[ST_MAX_DIMS];
  if (ndim < 1 || ndim > ST_MAX_DIMS || H5Sget_simple_extent_dims(space, dims, NULL) < 0) {
    st_error("%s: layer '%s': weight '%s' has %d dimensions", file, layer, wname, ndim);
    goto done;
  }
  int64_t numel = 1;
  for (int i = 0; i < ndim; i++) {
    if (dims[i] == 0 || dims[i] > (hsize_t)MAX_WEIGHT_NUMEL || numel > MAX_WEIGHT_NUMEL / (int64_t)dims[i]) {
      st_error("%s: layer '%s': weight '%s' is empty or too large", file, layer, wname);
      goto done;
    }
    out->shape[i] = (int64_t)dims[i];
    numel *= out->shape[i];
  }
  out->ndim = ndim;
  if (!(out->data = malloc((size_t)numel * sizeof(float)))) {
    st_error("%s: layer '%s': out of memory for weight '%s'", file, layer, wname);
    goto done;
  }
  if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out->data) < 0) {
    st_error("%s: layer '%s': cannot read weight '%s': %s", file, layer, wname, h5_detail(d));
    free(out->data);
    out->data = NULL;
    goto done;
  }
  for (int64_t i = 0; i < numel; i++)
    if (!isfinite(out->data[i])) {
      st_error("%s: layer '%s': weight '%s' holds a non-finite value (%s at element %lld); weights must be finite "
               "numbers", file, layer, wname, isnan(out->data[i]) ? "NaN" : out->data[i] > 0 ? "+inf" : "-inf",
               (long long)i);
      free(out->data);
      out->data = NULL;
      goto done;
    }
  rc = 0;
done:
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  if (ds >= 0) H5Dclose(ds);
  return rc;
}

/* HWIO -> OIHW; with reverse_in, input channel c takes the kernel's channel
 * in-1-c (BGR-trained first layer fed RGB). */
static st_tensor *hwio_to_oihw(const array *k, int reverse_in) {
  int64_t kh = k->shape[0], kw = k->shape[1], I = k->shape[2], O = k->shape[3];
  int64_t shape[4] = {O, I, kh, kw};
  st_tensor *t = st_tensor_new(4, shape, st_cpu());
  if (!t) return NULL;
  float *dst = st_tensor_data(t);
  for (int64_t y = 0; y < kh; y++)
    for (int64_t x = 0; x < kw; x++)
      for (int64_t i = 0; i < I; i++) {
        int64_t di = reverse_in ? I - 1 - i : i;
        for (int64_t o = 0; o < O; o++) dst[((o * I + di) * kh + y) * kw + x] = k->data[((y * kw + x) * I + i) * O + o];
      }
  return t;
}

/* Validates and converts one conv layer; *prev is the channel count coming in
 * (3 at the input) and becomes this layer's output count. */
static int import_conv(const char *file, hid_t group, const strlist *wn, int k, int64_t *prev, st_weights *w) {
  char keras[32], strata[32], name[48], sb[160];
  conv_names(k, keras, strata);
  if (wn->n != 2)
    return st_error("%s: layer '%s': weight_names lists %d weights, expected 2 (kernel, bias)", file, keras, wn->n);
  array kern = {0}, bias = {0};
  st_tensor *tw = NULL, *tb = NULL;
  int rc = -1;
  if (read_array(file, keras, group, wn->v[0], &kern) != 0 || read_array(file, keras, group, wn->v[1], &bias) != 0)
    goto done;
  st_shape_str(kern.ndim, kern.shape, sb, sizeof sb);
  if (kern.ndim != 4) {
    st_error("%s: layer '%s': kernel '%s' has shape %s, expected 4 dimensions [3, 3, in, out]", file, keras, wn->v[0],
             sb);
    goto done;
  }
  if (kern.shape[0] != 3 || kern.shape[1] != 3) {
    st_error("%s: layer '%s': kernel '%s' has shape %s, expected a 3x3 kernel [3, 3, in, out]", file, keras, wn->v[0],
             sb);
    goto done;
  }
  if (kern.shape[2] != *prev) {
    if (k == 0)
      st_error("%s: layer '%s': kernel '%s' has shape %s: %lld input channels, expected 3 (BGR)", file, keras,
               wn->v[0], sb, (long long)kern.shape[2]);
    else {
      char pk[32], ps[32];
      conv_names(k - 1, pk, ps);
      st_error("%s: layer '%s': kernel '%s' has shape %s: %lld input channels, but '%s' produces %lld", file, keras,
               wn->v[0], sb, (long long)kern.shape[2], pk, (long long)*prev);
    }
    goto done;
  }
  if (bias.ndim != 1 || bias.shape[0] != kern.shape[3]) {
    st_error("%s: layer '%s': bias '%s' has shape %s, expected [%lld] (the kernel's output channels)", file, keras,
             wn->v[1], st_shape_str(bias.ndim, bias.shape, sb, sizeof sb), (long long)kern.shape[3]);
    goto done;
  }
  if (!(tw = hwio_to_oihw(&kern, k == 0)) || !(tb = st_tensor_new1(bias.shape[0], st_cpu()))) {
    st_error_prefix("%s: layer '%s': ", file, keras);
    goto done;
  }
  memcpy(st_tensor_data(tb), bias.data, (size_t)bias.shape[0] * sizeof(float));
  snprintf(name, sizeof name, "%s.weight", strata);
  if (st_weights_set(w, name, tw) != 0) goto done;
  snprintf(name, sizeof name, "%s.bias", strata);
  if (st_weights_set(w, name, tb) != 0) goto done;
  *prev = kern.shape[3];
  rc = 0;
done:
  st_tensor_release(tw);
  st_tensor_release(tb);
  free(kern.data);
  free(bias.data);
  return rc;
}

/* Walks layer_names, importing the conv layers in order. */
static int import_layers(const char *file, hid_t f, const strlist *layers, st_weights *w) {
  char d[256], where[300], keras[32], strata[32];
  int k = 0;
  int64_t prev = 3;
  for (int i = 0; i < layers->n; i++) {
    const char *ln = layers->v[i];
    snprintf(where, sizeof where, "layer '%s'", ln);
    hid_t g = ln[0] ? H5Gopen2(f, ln, H5P_DEFAULT) : -1;
    if (g < 0) return st_error("%s: layer '%s' is listed in layer_names but has no group: %s", file, ln, h5_detail(d));
    strlist wn = {0};
    int found = 0, rc = read_names(file, where, g, "weight_names", &wn, &found);
    if (rc == 0 && !found) rc = st_error("%s: layer '%s' has no 'weight_names' attribute", file, ln);
    if (rc == 0 && wn.n > 0 && !is_classifier(ln)) {
      if (k < NUM_CONVS) conv_names(k, keras, strata);
      if (k >= NUM_CONVS)
        rc = st_error("%s: layer '%s' has weights after block5_conv4, VGG-19's last conv layer", file, ln);
      else if (strcmp(ln, keras) != 0)
        rc = st_error("%s: layer '%s' has weights where VGG-19's layer '%s' was expected", file, ln, keras);
      else
        rc = import_conv(file, g, &wn, k++, &prev, w);
    }
    strlist_free(&wn);
    H5Gclose(g);
    if (rc != 0) return -1;
  }
  if (k < NUM_CONVS) {
    conv_names(k, keras, strata);
    return st_error("%s: only %d of VGG-19's %d conv layers found; layer '%s' is missing", file, k, NUM_CONVS, keras);
  }
  return 0;
}

st_weights *st_import_keras_vgg19_here(const char *path) {
  char d[256];
  if (!path || !*path) {
    st_error("import_keras_vgg19: no file given");
    return NULL;
  }
  struct stat sb;
  if (stat(path, &sb) != 0) {
    st_error("cannot open '%s': %s", path, strerror(errno));
    return NULL;
  }
  if (!S_ISREG(sb.st_mode)) {
    st_error("%s: not a regular file", path);
    return NULL;
  }
  /* HDF5 prints its error stack by default; silence it for this call. */
  H5E_auto2_t old_func = NULL;
  void *old_data = NULL;
  H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

  st_weights *w = NULL;
  strlist layers = {0};
  hid_t f = -1;
  int ok = 0, found = 0;
  if (H5Fis_hdf5(path) <= 0) {
    st_error("%s: not an HDF5 file", path);
    goto done;
  }
  if ((f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
    st_error("%s: cannot open: %s", path, h5_detail(d));
    goto done;
  }
  if (read_names(path, "root", f, "layer_names", &layers, &found) != 0) goto done;
  if (!found) {
    st_error("%s: no 'layer_names' attribute at the root: not a Keras weights file", path);
    goto done;
  }
  if (!(w = st_weights_new())) goto done;
  if (import_layers(path, f, &layers, w) != 0) goto done;
  if (st_weights_set_attr(w, "network", "vgg19") != 0 || st_weights_set_attr(w, "source", path) != 0 ||
      st_weights_set_attr(w, "channel_order", "rgb") != 0 ||
      st_weights_set_attr(w, "mean", "123.68,116.779,103.939") != 0 || st_weights_set_path(w, path) != 0)
    goto done;
  ok = 1;
done:
  if (!ok) {
    st_weights_free(w);
    w = NULL;
  }
  strlist_free(&layers);
  if (f >= 0) H5Fclose(f);
  H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
  return w;
}

st_weights *st_import_keras_vgg19(const char *path) {
  if (!path || !*path) {
    st_error("import_keras_vgg19: no file given");
    return NULL;
  }
  return st_load_isolated(st_import_keras_vgg19_here, path, "Keras weights file");
}
