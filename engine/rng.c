/* xoshiro256** with splitmix64 seeding; see rng.h. */
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void st_rng_seed(st_rng *r, uint64_t seed) {
  /* splitmix64 outputs are a bijection of its counter, so four consecutive
   * outputs are never all zero (xoshiro's one invalid state). */
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

uint64_t st_rng_next_u64(st_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint64_t st_rng_below(st_rng *r, uint64_t n) {
  if (n <= 1) return 0;
  /* Reject the top partial block of 2^64 so each residue is equally likely. */
  uint64_t limit = UINT64_MAX - (UINT64_MAX % n + 1) % n;
  uint64_t x;
  do x = st_rng_next_u64(r);
  while (x > limit);
  return x % n;
}

float st_rng_uniform(st_rng *r) { return (float)(st_rng_next_u64(r) >> 40) * 0x1.0p-24f; }

float st_rng_normal(st_rng *r) {
  /* u1 in (0, 1] keeps log finite; u2 in [0, 1). */
  double u1 = (double)((st_rng_next_u64(r) >> 11) + 1) * 0x1.0p-53;
  double u2 = (double)(st_rng_next_u64(r) >> 11) * 0x1.0p-53;
  return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2));
}

typedef enum { FILL_UNIFORM, FILL_NORMAL, FILL_TRUNCATED } fill_kind;

static int fill(st_rng *r, st_tensor *t, fill_kind kind, float a, float b, const char *op) {
  if (!r) return st_error("%s: missing rng", op);
  if (!t) return st_error("%s: missing tensor", op);
  if (!isfinite(a) || !isfinite(b)) return st_error("%s: parameters must be finite, got %g and %g", op, a, b);
  int on_host = st_tensor_device(t).kind == ST_CPU;
  st_tensor *h = on_host ? t : st_tensor_new(t->ndim, t->shape, st_cpu());
  if (!h) return st_error_prefix("%s: ", op);
  float *p = st_tensor_data(h);
  for (int64_t i = 0; i < h->numel; i++) {
    if (kind == FILL_UNIFORM) {
      p[i] = (float)((double)a + ((double)b - (double)a) * (double)st_rng_uniform(r));
    } else {
      float z = st_rng_normal(r);
      while (kind == FILL_TRUNCATED && fabsf(z) > 2.0f) z = st_rng_normal(r);
      p[i] = a + b * z;
    }
  }
  int rc = 0;
  if (!on_host) {
    rc = st_tensor_copy(t, h);
    st_tensor_release(h);
  }
  return rc;
}

int st_rng_fill_uniform(st_rng *r, st_tensor *t, float lo, float hi) {
  return fill(r, t, FILL_UNIFORM, lo, hi, "st_rng_fill_uniform");
}
int st_rng_fill_normal(st_rng *r, st_tensor *t, float mean, float std) {
  return fill(r, t, FILL_NORMAL, mean, std, "st_rng_fill_normal");
}
int st_rng_fill_truncated_normal(st_rng *r, st_tensor *t, float mean, float std) {
  return fill(r, t, FILL_TRUNCATED, mean, std, "st_rng_fill_truncated_normal");
}

void st_rng_shuffle_indices(st_rng *r, int64_t *idx, int64_t n) {
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)st_rng_below(r, (uint64_t)i + 1);
    int64_t tmp = idx[i];
    idx[i] = idx[j];
    idx[j] = tmp;
  }
}

void st_rng_permutation(st_rng *r, int64_t *idx, int64_t n) {
  for (int64_t i = 0; i < n; i++) idx[i] = i;
  st_rng_shuffle_indices(r, idx, n);
}

const char *st_rng_state_str(const st_rng *r, char *buf, size_t n) {
  snprintf(buf, n, "%016llx%016llx%016llx%016llx", (unsigned long long)r->s[0], (unsigned long long)r->s[1],
           (unsigned long long)r->s[2], (unsigned long long)r->s[3]);
  return buf;
}

int st_rng_state_parse(st_rng *r, const char *s) {
  if (!s || strlen(s) != 64)
    return st_error("rng state: expected 64 hex digits, got %zu characters", s ? strlen(s) : (size_t)0);
  uint64_t v[4] = {0, 0, 0, 0};
  for (int i = 0; i < 64; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return st_error("rng state: character %d ('%c') is not a hex digit", i + 1, c);
    v[i / 16] = (v[i / 16] << 4) | (uint64_t)d;
  }
  if ((v[0] | v[1] | v[2] | v[3]) == 0) return st_error("rng state: all zero, which xoshiro256** cannot leave");
  memcpy(r->s, v, sizeof v);
  return 0;
}
