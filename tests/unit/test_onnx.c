/* ONNX writer (engine/io/onnx.c): a small graph saved, read back with
 * protobuf-c's decoder and every field checked; graph mistakes refused
 * before anything is written (undefined input, value defined twice, output
 * never produced); the file is replaced atomically. Running files in an ONNX
 * runtime is tests/export/onnx_runtime.t.sh. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/io/onnx.pb-c.h"
#include "error.h"
#include "io/onnx.h"
#include "tap.h"

static uint8_t *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  static uint8_t buf[1 << 16];
  *n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  return buf;
}

/* A graph y = Relu(Conv(x, w)) with a symbolic height; `broken` picks a mistake. */
static st_onnx *graph(int broken) {
  st_onnx *m = st_onnx_new("g", 13);
  int64_t dims[4] = { 1, 2, 0, 5 };
  const char *params[4] = { NULL, NULL, "h", NULL };
  st_onnx_value(m, 0, "x", 4, dims, params);
  int64_t ws[4] = { 3, 2, 1, 1 };
  st_tensor *w = st_tensor_new(4, ws, st_cpu());
  for (int i = 0; i < 6; i++) st_tensor_data(w)[i] = 0.5f * (float)i;
  st_onnx_initializer(m, "w", w);
  st_tensor_release(w);
  int64_t pads[2] = { 7, -1 };
  st_onnx_initializer_int64(m, "pads", 2, pads);
  const char *cin[2] = { "x", broken == 1 ? "nothing" : "w" }, *cout[1] = { "c" };
  st_onnx_node(m, "Conv", "conv", 2, cin, 1, cout);
  int64_t ks[2] = { 1, 1 };
  st_onnx_attr_ints(m, "kernel_shape", 2, ks);
  st_onnx_attr_string(m, "auto_pad", "SAME_UPPER");
  st_onnx_attr_float(m, "alpha", 0.25f);
  st_onnx_attr_int(m, "group", 1);
  const char *rin[1] = { "c" }, *rout[1] = { broken == 2 ? "x" : "y" };
  st_onnx_node(m, "Relu", "relu", 1, rin, 1, rout);
  int64_t od[4] = { 1, 3, 0, 5 };
  const char *op[4] = { NULL, NULL, "h", NULL };
  st_onnx_value(m, 1, broken == 3 ? "z" : "y", 4, od, op);
  st_onnx_meta(m, "source", "test");
  return m;
}

int main(void) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/strata_test_onnx_%ld.onnx", (long)getpid());
  st_onnx *m = graph(0);
  tap_ok(st_onnx_save(m, path) == 0, "a valid graph saves (%s)", st_last_error());
  st_onnx_free(m);
  size_t n = 0;
  uint8_t *buf = slurp(path, &n);
  Onnx__ModelProto *p = buf ? onnx__model_proto__unpack(NULL, n, buf) : NULL;
  tap_ok(p != NULL, "protobuf-c decodes the file (%zu bytes)", n);
  if (p) {
    tap_ok(p->ir_version == 7 && p->n_opset_import == 1 && p->opset_import[0]->version == 13 &&
               !strcmp(p->opset_import[0]->domain, ""),
           "IR version 7, default domain at opset 13");
    Onnx__GraphProto *g = p->graph;
    tap_ok(g && g->n_node == 2 && !strcmp(g->node[0]->op_type, "Conv") && !strcmp(g->node[1]->op_type, "Relu") &&
               g->node[0]->n_input == 2 && !strcmp(g->node[0]->input[1], "w") && !strcmp(g->node[1]->output[0], "y"),
           "nodes, their inputs and outputs in order");
    Onnx__AttributeProto **a = g->node[0]->attribute;
    tap_ok(g->node[0]->n_attribute == 4 && a[0]->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS &&
               a[0]->n_ints == 2 && a[1]->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING &&
               a[1]->s.len == 10 && !memcmp(a[1]->s.data, "SAME_UPPER", 10) && a[2]->f == 0.25f && a[3]->i == 1,
           "attributes: ints, string, float, int");
    Onnx__TensorProto *w = g->initializer[0], *pd = g->initializer[1];
    float w5;
    memcpy(&w5, w->raw_data.data + 5 * sizeof(float), sizeof w5);
    tap_ok(g->n_initializer == 2 && w->data_type == 1 && w->n_dims == 4 && w->dims[0] == 3 &&
               w->raw_data.len == 24 && w5 == 2.5f,
           "float initializer: dims and little-endian raw data");
    int64_t p1;
    memcpy(&p1, pd->raw_data.data + 8, 8);
    tap_ok(pd->data_type == 7 && pd->n_dims == 1 && pd->dims[0] == 2 && p1 == -1, "int64 initializer");
    Onnx__TensorShapeProto *s = g->input[0]->type->tensor_type->shape;
    tap_ok(s->n_dim == 4 && s->dim[0]->dim_value == 1 && !strcmp(s->dim[2]->dim_param, "h") &&
               g->input[0]->type->tensor_type->elem_type == 1 && g->n_output == 1 && !strcmp(g->output[0]->name, "y"),
           "input and output: float32, fixed and symbolic dims");
    tap_ok(p->n_metadata_props == 1 && !strcmp(p->metadata_props[0]->value, "test"), "metadata");
    onnx__model_proto__free_unpacked(p, NULL);
  } else {
    for (int i = 0; i < 6; i++) tap_ok(0, "(not decoded)");
  }

  const char *want[] = { NULL, "input 'nothing' is not a graph input", "value 'x' is defined twice",
                         "graph output 'z' is never produced" };
  for (int b = 1; b <= 3; b++) {
    m = graph(b);
    int rc = st_onnx_save(m, path);
    tap_ok(rc != 0 && strstr(st_last_error(), want[b]) && strstr(st_last_error(), path), "mistake %d refused: %s", b,
           st_last_error());
    st_onnx_free(m);
  }
  buf = slurp(path, &n);
  p = buf ? onnx__model_proto__unpack(NULL, n, buf) : NULL;
  tap_ok(p && p->graph->n_node == 2, "a refused save leaves the earlier file as it was");
  if (p) onnx__model_proto__free_unpacked(p, NULL);
  tap_ok(st_onnx_new("g", 3) == NULL && strstr(st_last_error(), "opset 3"), "an opset older than 7 is refused");
  unlink(path);
  tap_plan(tap_n);
  return tap_failed != 0;
}
