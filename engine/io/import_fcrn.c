/* FCRN TensorFlow checkpoint -> strata weights (see import_fcrn.h). */
#include "import_fcrn.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../error.h"
#include "tf_checkpoint.h"

#define MAX_LAYERS 200 /* FCRN has 157 conv and batch-norm layers */
#define DEFAULT_PREFIX "NYU_FCRN.ckpt"

typedef struct {
  char name[32];
  int bn;          /* batch norm (else conv) */
  int kh, kw;      /* conv kernel */
  int64_t cin, c;  /* conv input channels; output (or BN) channels */
  int biased;
} fcrn_layer;

static int add_conv(fcrn_layer *L, int n, const char *name, int kh, int kw, int64_t cin, int64_t cout, int biased) {
  snprintf(L[n].name, sizeof L[n].name, "%s", name);
  L[n].bn = 0, L[n].kh = kh, L[n].kw = kw, L[n].cin = cin, L[n].c = cout, L[n].biased = biased;
  return n + 1;
}

static int add_bn(fcrn_layer *L, int n, const char *name, int64_t c) {
  snprintf(L[n].name, sizeof L[n].name, "%s", name);
  L[n].bn = 1, L[n].c = c;
  return n + 1;
}

/* ResNet50UpProj.setup() of fcrn.py with every width divided by d. */
static int fcrn_layers(int64_t d, fcrn_layer *L) {
  static const struct { int stage; const char *blocks; int mid, out; } stages[4] = {
      {2, "abc", 64, 256}, {3, "abcd", 128, 512}, {4, "abcdef", 256, 1024}, {5, "abc", 512, 2048}};
  static const struct { const char *id; int out; } ups[4] = {{"2x", 512}, {"4x", 256}, {"8x", 128}, {"16x", 64}};
  static const int kk[4][2] = {{3, 3}, {2, 3}, {3, 2}, {2, 2}}; /* ConvA..D */
  char nm[32];
  int n = 0;
  n = add_conv(L, n, "conv1", 7, 7, 3, 64 / d, 1);
  n = add_bn(L, n, "bn_conv1", 64 / d);
  int64_t cin = 64 / d;
  for (int s = 0; s < 4; s++) {
    int64_t mid = stages[s].mid / d, out = stages[s].out / d;
    for (const char *b = stages[s].blocks; *b; b++) {
      if (*b == 'a') {
        snprintf(nm, sizeof nm, "res%d%c_branch1", stages[s].stage, *b);
        n = add_conv(L, n, nm, 1, 1, cin, out, 0);
        snprintf(nm, sizeof nm, "bn%d%c_branch1", stages[s].stage, *b);
        n = add_bn(L, n, nm, out);
      }
      static const char *br[3] = {"2a", "2b", "2c"};
      int64_t ci[3] = {cin, mid, mid}, co[3] = {mid, mid, out};
      for (int k = 0; k < 3; k++) {
        snprintf(nm, sizeof nm, "res%d%c_branch%s", stages[s].stage, *b, br[k]);
        n = add_conv(L, n, nm, k == 1 ? 3 : 1, k == 1 ? 3 : 1, ci[k], co[k], 0);
        snprintf(nm, sizeof nm, "bn%d%c_branch%s", stages[s].stage, *b, br[k]);
        n = add_bn(L, n, nm, co[k]);
      }
      cin = out;
    }
  }
  n = add_conv(L, n, "layer1", 1, 1, cin, 1024 / d, 1);
  n = add_bn(L, n, "layer1_BN", 1024 / d);
  int64_t c = 1024 / d;
  for (int u = 0; u < 4; u++) {
    int64_t o = ups[u].out / d;
    for (int b = 1; b <= 2; b++) {
      for (int k = 0; k < 4; k++) {
        snprintf(nm, sizeof nm, "layer%s_br%d_Conv%c", ups[u].id, b, "ABCD"[k]);
        n = add_conv(L, n, nm, kk[k][0], kk[k][1], c, o, 1);
      }
      snprintf(nm, sizeof nm, "layer%s_br%d_BN", ups[u].id, b);
      n = add_bn(L, n, nm, o);
      if (b == 1) {
        snprintf(nm, sizeof nm, "layer%s_Conv", ups[u].id);
        n = add_conv(L, n, nm, 3, 3, o, o, 1);
        snprintf(nm, sizeof nm, "layer%s_BN", ups[u].id);
        n = add_bn(L, n, nm, o);
      }
    }
    c = o;
  }
  n = add_conv(L, n, "ConvPred", 3, 3, c, 1, 1);
  return n;
}

/* The parameter suffixes network.py creates; tensors named "<layer>/<one of
 * these>" are read, everything else is skipped unread. */
static const char *const PARAMS[6] = {"weights", "biases", "scale", "offset", "mean", "variance"};

static int want_param(const char *name, void *ctx) {
  (void)ctx;
  const char *slash = strchr(name, '/');
  if (!slash || slash == name || strchr(slash + 1, '/')) return 0;
  for (int i = 0; i < 6; i++)
    if (strcmp(slash + 1, PARAMS[i]) == 0) return 1;
  return 0;
}

/* ---- locating the checkpoint */

static int exists_file(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int has_suffix(const char *s, const char *suf) {
  size_t n = strlen(s), m = strlen(suf);
  return n > m && strcmp(s + n - m, suf) == 0;
}

/* The checkpoint prefix for path (malloc'd), or NULL with an error. */
static char *resolve_prefix(const char *path) {
  struct stat sb;
  size_t n = strlen(path);
  char *p = NULL;
  if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    size_t cap = n + sizeof DEFAULT_PREFIX + 16;
    if (!(p = malloc(cap))) goto oom;
    snprintf(p, cap, "%s/%s.index", path, DEFAULT_PREFIX);
    if (exists_file(p)) {
      p[strlen(p) - 6] = '\0';
      return p;
    }
    free(p);
    p = NULL;
    /* Otherwise exactly one *.index in the folder. */
    DIR *d = opendir(path);
    if (!d) {
      st_error("%s: cannot list the folder: %s", path, strerror(errno));
      return NULL;
    }
    struct dirent *e;
    int found = 0;
    char first[256] = "";
    while ((e = readdir(d)))
      if (has_suffix(e->d_name, ".index")) {
        if (found++ == 0) snprintf(first, sizeof first, "%s", e->d_name);
      }
    closedir(d);
    if (found != 1) {
      st_error("%s: no %s.index in this folder and %s other *.index file: expected the unzipped "
               "NYU_FCRN-checkpoint.zip (NYU_FCRN.ckpt.index, NYU_FCRN.ckpt.data-00000-of-00001)",
               path, DEFAULT_PREFIX, found ? "more than one" : "no");
      return NULL;
    }
    size_t cap2 = n + strlen(first) + 2;
    if (!(p = malloc(cap2))) goto oom;
    snprintf(p, cap2, "%s/%s", path, first);
    p[strlen(p) - 6] = '\0';
    return p;
  }
  if (!(p = strdup(path))) goto oom;
  /* One of the checkpoint's own files: strip to the prefix. */
  char *dot = strrchr(p, '.');
  char *slash = strrchr(p, '/');
  if (dot && (!slash || dot > slash)) {
    int a, b, len = 0;
    if (strcmp(dot, ".index") == 0 || strcmp(dot, ".meta") == 0)
      *dot = '\0';
    else if (sscanf(dot, ".data-%5d-of-%5d%n", &a, &b, &len) == 2 && dot[len] == '\0')
      *dot = '\0';
  }
  return p;
oom:
  st_error("%s: out of memory", path);
  return NULL;
}

/* ---- conversion */

static st_tensor *hwio_to_oihw(const st_tensor *k) {
  int64_t kh = k->shape[0], kw = k->shape[1], I = k->shape[2], O = k->shape[3];
  int64_t shape[4] = {O, I, kh, kw};
  st_tensor *t = st_tensor_new(4, shape, st_cpu());
  if (!t) return NULL;
  const float *src = st_tensor_data(k);
  float *dst = st_tensor_data(t);
  for (int64_t y = 0; y < kh; y++)
    for (int64_t x = 0; x < kw; x++)
      for (int64_t i = 0; i < I; i++)
        for (int64_t o = 0; o < O; o++) dst[((o * I + i) * kh + y) * kw + x] = src[((y * kw + x) * I + i) * O + o];
  return t;
}

typedef struct {
  const char *index;   /* for messages */
  st_weights *ck;      /* the checkpoint's tensors, TF names */
  char *used;          /* per checkpoint tensor */
  st_weights *out;
} conv_ctx;

static int find(const st_weights *w, const char *name) {
  for (int i = 0; i < st_weights_count(w); i++)
    if (strcmp(st_weights_name(w, i), name) == 0) return i;
  return -1;
}

/* The checkpoint tensor "<layer>/<param>" checked against shape; marks it used. */
static st_tensor *take(conv_ctx *c, const char *layer, const char *param, int ndim, const int64_t *shape) {
  char tf[64], sa[160], sb[160];
  snprintf(tf, sizeof tf, "%s/%s", layer, param);
  int i = find(c->ck, tf);
  if (i < 0) {
    st_error("%s: missing tensor '%s' (expected shape %s) of FCRN layer '%s'", c->index, tf,
             st_shape_str(ndim, shape, sb, sizeof sb), layer);
    return NULL;
  }
  st_tensor *t = st_weights_at(c->ck, i);
  int same = t->ndim == ndim;
  for (int k = 0; same && k < ndim; k++) same = t->shape[k] == shape[k];
  if (!same) {
    st_error("%s: tensor '%s' has shape %s, expected %s", c->index, tf, st_shape_str(t->ndim, t->shape, sa, sizeof sa),
             st_shape_str(ndim, shape, sb, sizeof sb));
    return NULL;
  }
  c->used[i] = 1;
  return t;
}

static int put(conv_ctx *c, const char *layer, const char *param, st_tensor *t) {
  char name[64];
  snprintf(name, sizeof name, "%s.%s", layer, param);
  return st_weights_set(c->out, name, t);
}

static int convert_layer(conv_ctx *c, const fcrn_layer *l) {
  int64_t vec[1] = {l->c};
  if (l->bn) {
    static const char *tf[4] = {"scale", "offset", "mean", "variance"};
    static const char *st[4] = {"weight", "bias", "running_mean", "running_var"};
    for (int k = 0; k < 4; k++) {
      st_tensor *t = take(c, l->name, tf[k], 1, vec);
      if (!t || put(c, l->name, st[k], t) != 0) return -1;
    }
    return 0;
  }
  int64_t hwio[4] = {l->kh, l->kw, l->cin, l->c};
  const st_tensor *k = take(c, l->name, "weights", 4, hwio);
  if (!k) return -1;
  st_tensor *w = hwio_to_oihw(k);
  if (!w) return st_error_prefix("%s: layer '%s': ", c->index, l->name);
  int rc = put(c, l->name, "weight", w);
  st_tensor_release(w);
  if (rc != 0) return -1;
  if (l->biased) {
    st_tensor *b = take(c, l->name, "biases", 1, vec);
    if (!b || put(c, l->name, "bias", b) != 0) return -1;
  }
  return 0;
}

st_weights *st_import_fcrn(const char *path) {
  if (!path || !*path) {
    st_error("import_fcrn: no checkpoint given");
    return NULL;
  }
  char *prefix = resolve_prefix(path);
  if (!prefix) return NULL;
  size_t plen = strlen(prefix) + 40;
  char *index = malloc(plen), *data = malloc(plen);
  fcrn_layer *L = calloc(MAX_LAYERS, sizeof *L);
  conv_ctx c = {0};
  int ok = 0;
  if (!index || !data || !L) {
    st_error("%s: out of memory", path);
    goto done;
  }
  snprintf(index, plen, "%s.index", prefix);
  c.index = index;
  if (!(c.ck = st_tf_checkpoint_read(prefix, want_param, NULL))) goto done;
  if (st_weights_check_finite(c.ck) != 0) goto done; /* names the index and the TensorFlow tensor */

  /* The width divisor, from conv1's output channels. */
  int i = find(c.ck, "conv1/weights");
  if (i < 0) {
    st_error("%s: no tensor 'conv1/weights' among %d layer parameters: not an FCRN ResNet-50 UpProj checkpoint",
             index, st_weights_count(c.ck));
    goto done;
  }
  const st_tensor *k1 = st_weights_at(c.ck, i);
  char sb[160];
  if (k1->ndim != 4 || k1->shape[0] != 7 || k1->shape[1] != 7 || k1->shape[2] != 3 || k1->shape[3] < 1 ||
      64 % k1->shape[3] != 0) {
    st_error("%s: tensor 'conv1/weights' has shape %s, expected [7, 7, 3, 64] (or 64 divided by a power of two "
             "output channels)", index, st_shape_str(k1->ndim, k1->shape, sb, sizeof sb));
    goto done;
  }
  int64_t d = 64 / k1->shape[3];
  int nl = fcrn_layers(d, L);

  if (!(c.used = calloc((size_t)st_weights_count(c.ck) + 1, 1)) || !(c.out = st_weights_new())) {
    if (!c.used) st_error("%s: out of memory", index);
    goto done;
  }
  for (int l = 0; l < nl; l++)
    if (convert_layer(&c, &L[l]) != 0) goto done;
  for (int j = 0; j < st_weights_count(c.ck); j++)
    if (!c.used[j]) {
      st_error("%s: unexpected tensor '%s': not a parameter of FCRN ResNet-50 UpProj (the authors' fcrn.py)", index,
               st_weights_name(c.ck, j));
      goto done;
    }

  const char *ns = st_weights_get_attr(c.ck, "num_shards");
  snprintf(data, plen, "%s.data-00000-of-%05d", prefix, ns ? atoi(ns) : 1);
  char hex[65], dv[32];
  if (st_file_sha256(data, hex) != 0) {
    st_error_prefix("%s: ", prefix);
    goto done;
  }
  snprintf(dv, sizeof dv, "%lld", (long long)d);
  if (st_weights_set_attr(c.out, "network", "fcrn") != 0 || st_weights_set_attr(c.out, "source", prefix) != 0 ||
      st_weights_set_attr(c.out, "source_sha256", hex) != 0 ||
      (d != 1 && st_weights_set_attr(c.out, "width_div", dv) != 0) || st_weights_set_path(c.out, index) != 0)
    goto done;
  ok = 1;
done:
  st_weights_free(c.ck);
  free(c.used);
  if (!ok) {
    st_weights_free(c.out);
    c.out = NULL;
  }
  free(L);
  free(index);
  free(data);
  free(prefix);
  return c.out;
}
