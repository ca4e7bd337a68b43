/* Writing ONNX models: a graph of nodes over float32 tensors, built up call by
 * call and saved as an ONNX ModelProto (IR version 7) encoded by protobuf-c
 * from engine/io/onnx.proto.
 *
 * Values are named strings. A node's inputs must name a graph input, an
 * initializer or an earlier node's output; st_onnx_save checks this (and that
 * every graph output is produced) so a mistake is an error here, not a file an
 * ONNX runtime rejects later. An empty input name is ONNX's "omitted optional
 * input" and is allowed.
 */
#ifndef STRATA_IO_ONNX_H
#define STRATA_IO_ONNX_H

#include <stdint.h>

#include "../tensor.h"

typedef struct st_onnx st_onnx;

/* A model of one graph importing the default operator set at `opset` (>= 7). */
st_onnx *st_onnx_new(const char *graph_name, int opset);
void st_onnx_free(st_onnx *m); /* NULL is fine */

/* Model metadata (metadata_props): a key/value string pair, copied. */
int st_onnx_meta(st_onnx *m, const char *key, const char *value);

/* A float32 graph input (is_output 0) or output (1) of ndim dims: dims[i] > 0
 * is a fixed size; otherwise params[i] names a symbolic (dynamic) size. */
int st_onnx_value(st_onnx *m, int is_output, const char *name, int ndim, const int64_t *dims,
                  const char *const *params);

/* A float32 initializer with t's shape and values (copied; t may be on a GPU). */
int st_onnx_initializer(st_onnx *m, const char *name, const st_tensor *t);
/* A 1-D int64 initializer of n values (shapes and pads some ops take as inputs). */
int st_onnx_initializer_int64(st_onnx *m, const char *name, int n, const int64_t *values);

/* A node of the default domain. Attributes added next go to this node. */
int st_onnx_node(st_onnx *m, const char *op_type, const char *name, int nin, const char *const *in, int nout,
                 const char *const *out);
int st_onnx_attr_int(st_onnx *m, const char *name, int64_t v);
int st_onnx_attr_ints(st_onnx *m, const char *name, int n, const int64_t *v);
int st_onnx_attr_float(st_onnx *m, const char *name, float v);
int st_onnx_attr_string(st_onnx *m, const char *name, const char *v);

/* Checks the graph and writes it atomically (temporary file, fsync, rename). */
int st_onnx_save(const st_onnx *m, const char *path);

#endif
