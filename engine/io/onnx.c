/* ONNX model writer: builds protobuf-c messages (generated from onnx.proto)
 * and packs them. Every string and array hangs off the message tree, which
 * st_onnx_free walks. */
#include "onnx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../error.h"
#include "engine/io/onnx.pb-c.h" /* generated in $(BUILD)/gen */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ONNX raw_data is little-endian; this writer copies host floats as they are"
#endif

#define ONNX_IR_VERSION 7 /* the IR of opset 13; readers accept newer opsets with it */
#define ONNX_FLOAT 1
#define ONNX_INT64 7

struct st_onnx {
  Onnx__ModelProto model;
  Onnx__GraphProto graph;
  Onnx__OperatorSetIdProto opset;
  Onnx__OperatorSetIdProto *opsets[1];
};

static char *sdup(const char *s) {
  char *d = strdup(s ? s : "");
  if (!d) st_error("onnx: out of memory");
  return d;
}

/* Grows *arr (of n elements of `size`) by one zeroed slot; NULL on failure. */
static void *push(void *arr_ptr, size_t *n, size_t size) {
  void **arr = arr_ptr;
  void *grown = realloc(*arr, (*n + 1) * size);
  if (!grown) {
    st_error("onnx: out of memory");
    return NULL;
  }
  *arr = grown;
  memset((char *)grown + *n * size, 0, size);
  return (char *)grown + (*n)++ * size;
}

st_onnx *st_onnx_new(const char *graph_name, int opset) {
  if (opset < 7) {
    st_error("onnx: opset %d is older than this writer supports (7)", opset);
    return NULL;
  }
  st_onnx *m = calloc(1, sizeof *m);
  if (!m) {
    st_error("onnx: out of memory");
    return NULL;
  }
  onnx__model_proto__init(&m->model);
  onnx__graph_proto__init(&m->graph);
  onnx__operator_set_id_proto__init(&m->opset);
  m->model.has_ir_version = 1;
  m->model.ir_version = ONNX_IR_VERSION;
  m->model.producer_name = sdup("strata");
  m->model.graph = &m->graph;
  m->opset.domain = sdup("");
  m->opset.has_version = 1;
  m->opset.version = opset;
  m->opsets[0] = &m->opset;
  m->model.opset_import = m->opsets;
  m->model.n_opset_import = 1;
  m->graph.name = sdup(graph_name ? graph_name : "graph");
  if (!m->model.producer_name || !m->opset.domain || !m->graph.name) {
    st_onnx_free(m);
    return NULL;
  }
  return m;
}

static void free_value_info(Onnx__ValueInfoProto *v) {
  if (!v) return;
  if (v->type && v->type->tensor_type) {
    Onnx__TensorShapeProto *s = v->type->tensor_type->shape;
    if (s) {
      for (size_t i = 0; i < s->n_dim; i++) {
        if (s->dim[i]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) free(s->dim[i]->dim_param);
        free(s->dim[i]);
      }
      free(s->dim);
      free(s);
    }
    free(v->type->tensor_type);
  }
  free(v->type);
  free(v->name);
  free(v);
}

static void free_node(Onnx__NodeProto *n) {
  if (!n) return;
  for (size_t i = 0; i < n->n_input; i++) free(n->input[i]);
  for (size_t i = 0; i < n->n_output; i++) free(n->output[i]);
  free(n->input);
  free(n->output);
  for (size_t i = 0; i < n->n_attribute; i++) {
    Onnx__AttributeProto *a = n->attribute[i];
    free(a->name);
    free(a->s.data);
    free(a->ints);
    free(a->floats);
    free(a);
  }
  free(n->attribute);
  free(n->name);
  free(n->op_type);
  free(n->domain);
  free(n);
}

void st_onnx_free(st_onnx *m) {
  if (!m) return;
  Onnx__GraphProto *g = &m->graph;
  for (size_t i = 0; i < g->n_node; i++) free_node(g->node[i]);
  free(g->node);
  for (size_t i = 0; i < g->n_initializer; i++) {
    free(g->initializer[i]->name);
    free(g->initializer[i]->dims);
    free(g->initializer[i]->raw_data.data);
    free(g->initializer[i]);
  }
  free(g->initializer);
  for (size_t i = 0; i < g->n_input; i++) free_value_info(g->input[i]);
  for (size_t i = 0; i < g->n_output; i++) free_value_info(g->output[i]);
  free(g->input);
  free(g->output);
  free(g->name);
  for (size_t i = 0; i < m->model.n_metadata_props; i++) {
    free(m->model.metadata_props[i]->key);
    free(m->model.metadata_props[i]->value);
    free(m->model.metadata_props[i]);
  }
  free(m->model.metadata_props);
  free(m->model.producer_name);
  free(m->opset.domain);
  free(m);
}

int st_onnx_meta(st_onnx *m, const char *key, const char *value) {
  Onnx__StringStringEntryProto *e = calloc(1, sizeof *e);
  if (!e) return st_error("onnx: out of memory");
  onnx__string_string_entry_proto__init(e);
  Onnx__StringStringEntryProto **slot = push(&m->model.metadata_props, &m->model.n_metadata_props, sizeof *slot);
  if (!slot) {
    free(e);
    return -1;
  }
  *slot = e;
  e->key = sdup(key);
  e->value = sdup(value);
  return e->key && e->value ? 0 : -1;
}

int st_onnx_value(st_onnx *m, int is_output, const char *name, int ndim, const int64_t *dims,
                  const char *const *params) {
  if (!name || !*name) return st_error("onnx: a graph %s needs a name", is_output ? "output" : "input");
  Onnx__ValueInfoProto *v = calloc(1, sizeof *v);
  if (!v) return st_error("onnx: out of memory");
  onnx__value_info_proto__init(v);
  Onnx__GraphProto *g = &m->graph;
  Onnx__ValueInfoProto **slot = is_output ? push(&g->output, &g->n_output, sizeof *slot)
                                          : push(&g->input, &g->n_input, sizeof *slot);
  if (!slot) {
    free(v);
    return -1;
  }
  *slot = v;
  v->name = sdup(name);
  v->type = calloc(1, sizeof *v->type);
  if (!v->name || !v->type) return st_error("onnx: out of memory");
  onnx__type_proto__init(v->type);
  v->type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  Onnx__TypeProto__Tensor *tt = v->type->tensor_type = calloc(1, sizeof *tt);
  if (!tt) return st_error("onnx: out of memory");
  onnx__type_proto__tensor__init(tt);
  tt->has_elem_type = 1;
  tt->elem_type = ONNX_FLOAT;
  Onnx__TensorShapeProto *s = tt->shape = calloc(1, sizeof *s);
  if (!s) return st_error("onnx: out of memory");
  onnx__tensor_shape_proto__init(s);
  for (int i = 0; i < ndim; i++) {
    Onnx__TensorShapeProto__Dimension *d = calloc(1, sizeof *d);
    if (!d) return st_error("onnx: out of memory");
    onnx__tensor_shape_proto__dimension__init(d);
    Onnx__TensorShapeProto__Dimension **ds = push(&s->dim, &s->n_dim, sizeof *ds);
    if (!ds) {
      free(d);
      return -1;
    }
    *ds = d;
    if (dims[i] > 0) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = dims[i];
    } else {
      if (!params || !params[i] || !*params[i])
        return st_error("onnx: %s '%s': dimension %d is neither a size nor named", is_output ? "output" : "input",
                        name, i);
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      if (!(d->dim_param = sdup(params[i]))) return -1;
    }
  }
  return 0;
}

/* A new initializer of `dtype` with dims and `bytes` of raw data (copied). */
static int add_initializer(st_onnx *m, const char *name, int dtype, int ndim, const int64_t *dims, const void *data,
                           size_t bytes) {
  if (!name || !*name) return st_error("onnx: an initializer needs a name");
  Onnx__TensorProto *t = calloc(1, sizeof *t);
  if (!t) return st_error("onnx: out of memory");
  onnx__tensor_proto__init(t);
  Onnx__TensorProto **slot = push(&m->graph.initializer, &m->graph.n_initializer, sizeof *slot);
  if (!slot) {
    free(t);
    return -1;
  }
  *slot = t;
  t->name = sdup(name);
  t->has_data_type = 1;
  t->data_type = dtype;
  t->dims = ndim ? malloc(ndim * sizeof *t->dims) : NULL;
  t->raw_data.data = malloc(bytes ? bytes : 1);
  if (!t->name || (ndim && !t->dims) || !t->raw_data.data) return st_error("onnx: out of memory");
  t->n_dims = ndim;
  for (int i = 0; i < ndim; i++) t->dims[i] = dims[i];
  memcpy(t->raw_data.data, data, bytes);
  t->raw_data.len = bytes;
  t->has_raw_data = 1;
  return 0;
}

int st_onnx_initializer(st_onnx *m, const char *name, const st_tensor *t) {
  st_tensor *host = st_tensor_to(t, st_cpu());
  if (!host) return -1;
  int rc = add_initializer(m, name, ONNX_FLOAT, t->ndim, t->shape, st_tensor_data(host),
                           (size_t)t->numel * sizeof(float));
  st_tensor_release(host);
  return rc;
}

int st_onnx_initializer_int64(st_onnx *m, const char *name, int n, const int64_t *values) {
  int64_t dims[1] = { n };
  return add_initializer(m, name, ONNX_INT64, 1, dims, values, (size_t)n * sizeof *values);
}

static char **dup_names(int n, const char *const *names) {
  char **out = calloc(n ? n : 1, sizeof *out);
  if (!out) return NULL;
  for (int i = 0; i < n; i++) {
    if (!(out[i] = sdup(names[i]))) {
      while (i--) free(out[i]);
      free(out);
      return NULL;
    }
  }
  return out;
}

int st_onnx_node(st_onnx *m, const char *op_type, const char *name, int nin, const char *const *in, int nout,
                 const char *const *out) {
  if (!op_type || !*op_type) return st_error("onnx: node '%s' has no operator", name ? name : "");
  if (nout < 1) return st_error("onnx: node '%s' (%s) has no output", name ? name : "", op_type);
  Onnx__NodeProto *n = calloc(1, sizeof *n);
  if (!n) return st_error("onnx: out of memory");
  onnx__node_proto__init(n);
  Onnx__NodeProto **slot = push(&m->graph.node, &m->graph.n_node, sizeof *slot);
  if (!slot) {
    free(n);
    return -1;
  }
  *slot = n;
  n->op_type = sdup(op_type);
  n->name = sdup(name);
  n->domain = sdup("");
  n->input = dup_names(nin, in);
  n->output = dup_names(nout, out);
  if (!n->op_type || !n->name || !n->domain || !n->input || !n->output) return st_error("onnx: out of memory");
  n->n_input = nin;
  n->n_output = nout;
  return 0;
}

/* A new attribute on the last node, or NULL with an error. */
static Onnx__AttributeProto *new_attr(st_onnx *m, const char *name, Onnx__AttributeProto__AttributeType type) {
  if (m->graph.n_node == 0) {
    st_error("onnx: attribute '%s' before any node", name);
    return NULL;
  }
  Onnx__NodeProto *n = m->graph.node[m->graph.n_node - 1];
  Onnx__AttributeProto *a = calloc(1, sizeof *a);
  if (!a) {
    st_error("onnx: out of memory");
    return NULL;
  }
  onnx__attribute_proto__init(a);
  Onnx__AttributeProto **slot = push(&n->attribute, &n->n_attribute, sizeof *slot);
  if (!slot) {
    free(a);
    return NULL;
  }
  *slot = a;
  a->has_type = 1;
  a->type = type;
  if (!(a->name = sdup(name))) return NULL;
  return a;
}

int st_onnx_attr_int(st_onnx *m, const char *name, int64_t v) {
  Onnx__AttributeProto *a = new_attr(m, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  if (!a) return -1;
  a->has_i = 1;
  a->i = v;
  return 0;
}

int st_onnx_attr_ints(st_onnx *m, const char *name, int n, const int64_t *v) {
  Onnx__AttributeProto *a = new_attr(m, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  if (!a) return -1;
  if (!(a->ints = malloc((n ? n : 1) * sizeof *a->ints))) return st_error("onnx: out of memory");
  memcpy(a->ints, v, n * sizeof *v);
  a->n_ints = n;
  return 0;
}

int st_onnx_attr_float(st_onnx *m, const char *name, float v) {
  Onnx__AttributeProto *a = new_attr(m, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  if (!a) return -1;
  a->has_f = 1;
  a->f = v;
  return 0;
}

int st_onnx_attr_string(st_onnx *m, const char *name, const char *v) {
  Onnx__AttributeProto *a = new_attr(m, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  if (!a) return -1;
  if (!(a->s.data = (uint8_t *)sdup(v))) return -1;
  a->s.len = strlen(v);
  a->has_s = 1;
  return 0;
}

/* Names defined so far (graph inputs, initializers, node outputs), searched linearly: graphs here are small. */
typedef struct {
  const char **v;
  size_t n;
} names;

static int defined(const names *d, const char *s) {
  for (size_t i = 0; i < d->n; i++)
    if (strcmp(d->v[i], s) == 0) return 1;
  return 0;
}

static int define(names *d, const char *s, const char *what) {
  if (defined(d, s)) return st_error("onnx: value '%s' is defined twice (again by %s)", s, what);
  d->v[d->n++] = s;
  return 0;
}

static int check_graph(const Onnx__GraphProto *g) {
  size_t cap = g->n_input + g->n_initializer;
  for (size_t i = 0; i < g->n_node; i++) cap += g->node[i]->n_output;
  names d = { calloc(cap ? cap : 1, sizeof(char *)), 0 };
  if (!d.v) return st_error("onnx: out of memory");
  int rc = 0;
  for (size_t i = 0; i < g->n_input && !rc; i++) rc = define(&d, g->input[i]->name, "a graph input");
  for (size_t i = 0; i < g->n_initializer && !rc; i++) rc = define(&d, g->initializer[i]->name, "an initializer");
  for (size_t i = 0; i < g->n_node && !rc; i++) {
    const Onnx__NodeProto *n = g->node[i];
    for (size_t j = 0; j < n->n_input && !rc; j++)
      if (*n->input[j] && !defined(&d, n->input[j]))
        rc = st_error("onnx: node '%s' (%s): input '%s' is not a graph input, an initializer or an earlier node's "
                      "output", n->name, n->op_type, n->input[j]);
    for (size_t j = 0; j < n->n_output && !rc; j++) rc = define(&d, n->output[j], n->name);
  }
  for (size_t i = 0; i < g->n_output && !rc; i++)
    if (!defined(&d, g->output[i]->name)) rc = st_error("onnx: graph output '%s' is never produced", g->output[i]->name);
  if (!rc && g->n_output == 0) rc = st_error("onnx: the graph has no output");
  free(d.v);
  return rc;
}

int st_onnx_save(const st_onnx *m, const char *path) {
  if (check_graph(&m->graph)) return st_error_prefix("%s: ", path);
  size_t len = onnx__model_proto__get_packed_size(&m->model);
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) return st_error("%s: out of memory packing %zu bytes", path, len);
  onnx__model_proto__pack(&m->model, buf);
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    free(buf);
    return st_error("%s: cannot write: %s", path, strerror(errno));
  }
  size_t done = 0;
  while (done < len) {
    ssize_t w = write(fd, buf + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += (size_t)w;
  }
  free(buf);
  int err = done < len ? (errno ? errno : EIO) : 0;
  if (!err && fsync(fd) != 0) err = errno;
  if (close(fd) != 0 && !err) err = errno;
  if (!err && rename(tmp, path) != 0) err = errno;
  if (err) {
    unlink(tmp);
    return st_error("%s: cannot write: %s", path, strerror(err));
  }
  return 0;
}
