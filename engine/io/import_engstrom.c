/* Engstrom / ml5 transformer folders -> strata weights (see import_engstrom.h). */
#include "import_engstrom.h"

#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../error.h"

#define MAX_MANIFEST_BYTES (16 << 20)
#define MAX_VARIABLES 100000 /* far above any real transformer; bounds the index table */

typedef struct {
  int present;
  const char *filename; /* borrowed from the parsed JSON */
  int ndim;
  int64_t shape[ST_MAX_DIMS];
} variable;

/* One conv layer of the network and the names its three variables get. */
typedef struct {
  char conv[32], norm[32];
  int transposed; /* weight stored [kh, kw, out, in] */
  int kernel;
  int residual;   /* inside a residual block: keeps its channel count */
} layer;

static char *read_text(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    st_error("%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  struct stat sb;
  if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    st_error("%s: not a regular file", path);
    fclose(f);
    return NULL;
  }
  if (sb.st_size > MAX_MANIFEST_BYTES) {
    st_error("%s: %lld bytes is too large for a manifest", path, (long long)sb.st_size);
    fclose(f);
    return NULL;
  }
  char *buf = malloc((size_t)sb.st_size + 1);
  if (!buf) {
    st_error("%s: out of memory", path);
    fclose(f);
    return NULL;
  }
  size_t n = fread(buf, 1, (size_t)sb.st_size, f);
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    st_error("%s: read error", path);
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* "Variable" -> 0, "Variable_<N>" (N >= 1, no leading zero) -> N, else -1. */
static int variable_number(const char *key) {
  if (strncmp(key, "Variable", 8) != 0) return -1;
  const char *p = key + 8;
  if (!*p) return 0;
  if (*p++ != '_' || *p < '1' || *p > '9') return -1;
  long v = 0;
  for (; *p; p++) {
    if (*p < '0' || *p > '9') return -1;
    v = v * 10 + (*p - '0');
    if (v >= MAX_VARIABLES) return -1;
  }
  return (int)v;
}

static void variable_name(int i, char *buf, size_t n) {
  if (i == 0)
    snprintf(buf, n, "Variable");
  else
    snprintf(buf, n, "Variable_%d", i);
}

/* Fills vars[0..n) from the manifest; *count is the number of variables. */
static int parse_manifest(const char *mpath, const cJSON *root, variable **out, int *count) {
  char vn[32];
  if (!cJSON_IsObject(root)) return st_error("%s: expected a JSON object of variables", mpath);
  int n = cJSON_GetArraySize(root), maxnum = -1;
  if (n == 0) return st_error("%s: no variables", mpath);
  const cJSON *item;
  cJSON_ArrayForEach(item, root) {
    int k = variable_number(item->string);
    if (k < 0)
      return st_error("%s: unexpected key '%s' (expected \"Variable\" or \"Variable_<N>\")", mpath, item->string);
    if (k > maxnum) maxnum = k;
  }
  variable *vars = calloc((size_t)maxnum + 1, sizeof *vars);
  if (!vars) return st_error("%s: out of memory", mpath);
  cJSON_ArrayForEach(item, root) {
    int k = variable_number(item->string);
    variable *v = &vars[k];
    const char *key = item->string;
    if (v->present) {
      free(vars);
      return st_error("%s: variable '%s' appears twice", mpath, key);
    }
    v->present = 1;
    if (!cJSON_IsObject(item)) {
      free(vars);
      return st_error("%s: '%s' must be an object with \"filename\" and \"shape\"", mpath, key);
    }
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(item, "filename");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(item, "shape");
    if (!fn || !sh) {
      free(vars);
      return st_error("%s: '%s' has no \"%s\"", mpath, key, fn ? "shape" : "filename");
    }
    if (!cJSON_IsString(fn) || !fn->valuestring[0]) {
      free(vars);
      return st_error("%s: '%s': \"filename\" must be a non-empty string", mpath, key);
    }
    /* The manifest names files inside its own folder and nowhere else. */
    if (strchr(fn->valuestring, '/') || strstr(fn->valuestring, "..")) {
      free(vars);
      return st_error("%s: '%s': filename '%s' must name a file inside the folder (no '/' or '..')", mpath, key,
                      fn->valuestring);
    }
    v->filename = fn->valuestring;
    int nd = cJSON_GetArraySize(sh);
    if (!cJSON_IsArray(sh) || nd < 1 || nd > ST_MAX_DIMS) {
      free(vars);
      return st_error("%s: '%s': \"shape\" must be an array of 1 to %d sizes", mpath, key, ST_MAX_DIMS);
    }
    v->ndim = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, sh) {
      double x = cJSON_IsNumber(d) ? d->valuedouble : -1;
      if (!(x >= 1 && x <= INT_MAX && x == (double)(int64_t)x)) {
        free(vars);
        return st_error("%s: '%s': \"shape\" entries must be positive integers", mpath, key);
      }
      v->shape[v->ndim++] = (int64_t)x;
    }
  }
  for (int k = 0; k <= maxnum; k++)
    if (!vars[k].present) {
      variable_name(k, vn, sizeof vn);
      free(vars);
      return st_error("%s: variable '%s' is missing (numbers must run from Variable to Variable_%d without gaps)",
                      mpath, vn, maxnum);
    }
  *out = vars;
  *count = maxnum + 1;
  return 0;
}

/* The Engstrom network's layers for `blocks` residual blocks. */
static layer *make_layers(int blocks, int *nlayers) {
  int L = 6 + 2 * blocks;
  layer *ls = calloc((size_t)L, sizeof *ls);
  if (!ls) return NULL;
  int j = 0;
  for (int k = 1; k <= 3; k++, j++) {
    snprintf(ls[j].conv, sizeof ls[j].conv, "conv%d", k);
    snprintf(ls[j].norm, sizeof ls[j].norm, "in%d", k);
    ls[j].kernel = k == 1 ? 9 : 3;
  }
  for (int b = 1; b <= blocks; b++)
    for (int k = 1; k <= 2; k++, j++) {
      snprintf(ls[j].conv, sizeof ls[j].conv, "res%d.conv%d", b, k);
      snprintf(ls[j].norm, sizeof ls[j].norm, "res%d.in%d", b, k);
      ls[j].kernel = 3;
      ls[j].residual = 1;
    }
  for (int k = 1; k <= 2; k++, j++) {
    snprintf(ls[j].conv, sizeof ls[j].conv, "deconv%d", k);
    snprintf(ls[j].norm, sizeof ls[j].norm, "in%d", 3 + k);
    ls[j].kernel = 3;
    ls[j].transposed = 1;
  }
  snprintf(ls[j].conv, sizeof ls[j].conv, "conv4");
  snprintf(ls[j].norm, sizeof ls[j].norm, "in6");
  ls[j].kernel = 9;
  *nlayers = L;
  return ls;
}

/* Checks every variable's shape against the architecture: 4-D weights with
 * the layer's kernel, channels chaining from 3 (RGB) back to 3, residual
 * convs keeping their width, norm params as long as the conv's output. */
static int check_architecture(const char *mpath, const variable *vars, const layer *ls, int L) {
  char vn[32], sb[160];
  int64_t prev = 3;
  for (int j = 0; j < L; j++) {
    const layer *l = &ls[j];
    const variable *w = &vars[3 * j];
    variable_name(3 * j, vn, sizeof vn);
    st_shape_str(w->ndim, w->shape, sb, sizeof sb);
    const char *layout = l->transposed ? "[kh, kw, out, in]" : "[kh, kw, in, out]";
    if (w->ndim != 4)
      return st_error("%s: '%s' (%s weight) has shape %s, expected 4 dimensions %s", mpath, vn, l->conv, sb, layout);
    if (w->shape[0] != l->kernel || w->shape[1] != l->kernel)
      return st_error("%s: '%s' (%s weight) has shape %s, expected a %dx%d kernel", mpath, vn, l->conv, sb, l->kernel,
                      l->kernel);
    int64_t cin = l->transposed ? w->shape[3] : w->shape[2], cout = l->transposed ? w->shape[2] : w->shape[3];
    if (cin != prev) {
      if (j == 0)
        return st_error("%s: '%s' (%s weight) has shape %s: %lld input channels, expected 3 (RGB)", mpath, vn, l->conv,
                        sb, (long long)cin);
      return st_error("%s: '%s' (%s weight, %s) has shape %s: %lld input channels, but %s produces %lld", mpath, vn,
                      l->conv, layout, sb, (long long)cin, ls[j - 1].conv, (long long)prev);
    }
    if (l->residual && cout != cin)
      return st_error("%s: '%s' (%s weight) has shape %s: a residual block must keep its %lld channels", mpath, vn,
                      l->conv, sb, (long long)cin);
    if (j == L - 1 && cout != 3)
      return st_error("%s: '%s' (%s weight) has shape %s: %lld output channels, expected 3 (RGB)", mpath, vn, l->conv,
                      sb, (long long)cout);
    for (int k = 1; k <= 2; k++) {
      const variable *p = &vars[3 * j + k];
      if (p->ndim != 1 || p->shape[0] != cout) {
        variable_name(3 * j + k, vn, sizeof vn);
        return st_error("%s: '%s' (%s %s) has shape %s, expected [%lld] (the output channels of %s)", mpath, vn,
                        l->norm, k == 1 ? "shift" : "scale", st_shape_str(p->ndim, p->shape, sb, sizeof sb),
                        (long long)cout, l->conv);
      }
    }
    prev = cout;
  }
  return 0;
}

static int host_is_little_endian(void) {
  const uint32_t one = 1;
  return *(const unsigned char *)&one == 1;
}

/* Reads a raw little-endian float32 file of exactly numel finite values. */
static float *read_raw(const char *dir, const char *vname, const variable *v, int64_t numel) {
  char sb[160];
  size_t plen = strlen(dir) + strlen(v->filename) + 2;
  char *path = malloc(plen);
  if (!path) {
    st_error("out of memory reading '%s'", v->filename);
    return NULL;
  }
  snprintf(path, plen, "%s/%s", dir, v->filename);
  float *data = NULL;
  FILE *f = fopen(path, "rb");
  struct stat st;
  int64_t want = numel * (int64_t)sizeof(float);
  if (!f) {
    st_error("%s: cannot open: %s", path, strerror(errno));
  } else if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    st_error("%s: not a regular file", path);
  } else if ((int64_t)st.st_size != want) {
    st_error("%s: expected %lld bytes for shape %s, found %lld", path, (long long)want,
             st_shape_str(v->ndim, v->shape, sb, sizeof sb), (long long)st.st_size);
  } else if (!(data = malloc((size_t)want))) {
    st_error("%s: out of memory for %lld bytes", path, (long long)want);
  } else if (fread(data, 1, (size_t)want, f) != (size_t)want) {
    st_error("%s: read error", path);
    free(data);
    data = NULL;
  } else {
    if (!host_is_little_endian())
      for (int64_t i = 0; i < numel; i++) {
        unsigned char *b = (unsigned char *)&data[i], t;
        t = b[0], b[0] = b[3], b[3] = t;
        t = b[1], b[1] = b[2], b[2] = t;
      }
    for (int64_t i = 0; i < numel; i++)
      if (!isfinite(data[i])) {
        st_error("%s: variable '%s' (shape %s) holds a non-finite value (%s at element %lld); weights must be "
                 "finite numbers", path, vname, st_shape_str(v->ndim, v->shape, sb, sizeof sb),
                 isnan(data[i]) ? "NaN" : data[i] > 0 ? "+inf" : "-inf", (long long)i);
        free(data);
        data = NULL;
        break;
      }
  }
  if (f) fclose(f);
  free(path);
  return data;
}

static int64_t numel_of(const variable *v) {
  int64_t n = 1;
  for (int i = 0; i < v->ndim; i++) n *= v->shape[i];
  return n;
}

/* Converts one layer's weight: HWIO -> OIHW, or for a transposed conv
 * [kh, kw, out, in] -> [in, out, kh, kw]. Both read src[y][x][a][b] and write
 * dst[b][a][y][x]: only the meaning of a and b differs. */
static st_tensor *convert_weight(const variable *v, const float *src) {
  int64_t kh = v->shape[0], kw = v->shape[1], A = v->shape[2], B = v->shape[3];
  int64_t shape[4] = {B, A, kh, kw};
  st_tensor *t = st_tensor_new(4, shape, st_cpu());
  if (!t) return NULL;
  float *dst = st_tensor_data(t);
  for (int64_t y = 0; y < kh; y++)
    for (int64_t x = 0; x < kw; x++)
      for (int64_t a = 0; a < A; a++)
        for (int64_t b = 0; b < B; b++) dst[((b * A + a) * kh + y) * kw + x] = src[((y * kw + x) * A + a) * B + b];
  return t;
}

static st_tensor *convert_vector(const variable *v, const float *src) {
  st_tensor *t = st_tensor_new(1, v->shape, st_cpu());
  if (t) memcpy(st_tensor_data(t), src, (size_t)v->shape[0] * sizeof(float));
  return t;
}

static int import_layers(const char *dir, const variable *vars, const layer *ls, int L, st_weights *w) {
  char name[64];
  for (int j = 0; j < L; j++)
    for (int k = 0; k < 3; k++) {
      const variable *v = &vars[3 * j + k];
      char vname[32];
      variable_name(3 * j + k, vname, sizeof vname);
      float *raw = read_raw(dir, vname, v, numel_of(v));
      if (!raw) return -1;
      st_tensor *t = k == 0 ? convert_weight(v, raw) : convert_vector(v, raw);
      free(raw);
      if (!t) return st_error_prefix("%s/%s: ", dir, v->filename);
      /* beta (shift) comes first and is the norm's bias; gamma (scale) its weight. */
      if (k == 0)
        snprintf(name, sizeof name, "%s.weight", ls[j].conv);
      else
        snprintf(name, sizeof name, "%s.%s", ls[j].norm, k == 1 ? "bias" : "weight");
      int rc = st_weights_set(w, name, t);
      st_tensor_release(t);
      if (rc != 0) return -1;
    }
  return 0;
}

st_weights *st_import_engstrom(const char *dir) {
  if (!dir || !*dir) {
    st_error("import_engstrom: no folder given");
    return NULL;
  }
  size_t mlen = strlen(dir) + 16;
  char *mpath = malloc(mlen);
  if (!mpath) {
    st_error("out of memory importing '%s'", dir);
    return NULL;
  }
  snprintf(mpath, mlen, "%s/manifest.json", dir);

  st_weights *w = NULL;
  variable *vars = NULL;
  layer *ls = NULL;
  cJSON *root = NULL;
  int n = 0, L = 0, ok = 0;
  size_t len = 0;
  char *text = read_text(mpath, &len);
  if (!text) goto done;
  const char *end = NULL;
  root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
  if (!root) {
    /* Report where cJSON stopped as line:column. */
    size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
    int line = 1, col = 1;
    for (size_t i = 0; i < off; i++) {
      if (text[i] == '\n')
        line++, col = 1;
      else
        col++;
    }
    st_error("%s: JSON syntax error at line %d, column %d (byte %zu)", mpath, line, col, off);
    goto done;
  }
  if (parse_manifest(mpath, root, &vars, &n) != 0) goto done;
  if (n < 18 || (n - 18) % 6 != 0) {
    st_error("%s: %d variables do not form an Engstrom transformer (expected 18 + 6 per residual block)", mpath, n);
    goto done;
  }
  int blocks = (n - 18) / 6;
  if (!(ls = make_layers(blocks, &L))) {
    st_error("out of memory importing '%s'", dir);
    goto done;
  }
  if (check_architecture(mpath, vars, ls, L) != 0) goto done;
  if (!(w = st_weights_new())) goto done;
  if (import_layers(dir, vars, ls, L, w) != 0) goto done;
  char nb[16];
  snprintf(nb, sizeof nb, "%d", blocks);
  if (st_weights_set_attr(w, "network", "engstrom-transformer") != 0 || st_weights_set_attr(w, "source", dir) != 0 ||
      st_weights_set_attr(w, "blocks", nb) != 0 || st_weights_set_path(w, dir) != 0)
    goto done;
  ok = 1;
done:
  if (!ok) {
    st_weights_free(w);
    w = NULL;
  }
  cJSON_Delete(root);
  free(ls);
  free(vars);
  free(text);
  free(mpath);
  return w;
}
