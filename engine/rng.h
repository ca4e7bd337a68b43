/* Seeded random numbers: xoshiro256** (Blackman & Vigna), seeded through
 * splitmix64. The whole state is st_rng.s, so a checkpoint saves and restores
 * it exactly (st_rng_state_str / st_rng_state_parse give a text form). The
 * integer and uniform streams are bit-identical on every machine; normals go
 * through libm's log/cos/sqrt in double and are then rounded to float, so they
 * agree across machines unless a libm differs by more than that rounding.
 * Not for cryptography; no libc rand anywhere. */
#ifndef STRATA_RNG_H
#define STRATA_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "tensor.h"

typedef struct {
  uint64_t s[4];
} st_rng;

/* Any seed (0 included) gives a valid, distinct state. */
void st_rng_seed(st_rng *r, uint64_t seed);
uint64_t st_rng_next_u64(st_rng *r);
/* Uniform integer in [0, n) without modulo bias; n >= 1 (0 for n == 0). */
uint64_t st_rng_below(st_rng *r, uint64_t n);
/* Uniform float in [0, 1): 24 random bits, so every value is exact. */
float st_rng_uniform(st_rng *r);
/* Standard normal (Box-Muller on two 53-bit uniforms; one draw = two u64). */
float st_rng_normal(st_rng *r);

/* Fill every element of t (any device: generated on the host in element
 * order, then copied), so the values depend only on the state and the count.
 * Return 0, or -1 with an error. */
int st_rng_fill_uniform(st_rng *r, st_tensor *t, float lo, float hi); /* lo + (hi-lo)*u, u in [0,1) */
int st_rng_fill_normal(st_rng *r, st_tensor *t, float mean, float std);
/* TensorFlow's truncated_normal: standard normals beyond 2 are drawn again,
 * then scaled; the result's std is about 0.88 * std. */
int st_rng_fill_truncated_normal(st_rng *r, st_tensor *t, float mean, float std);

/* Fisher-Yates shuffle of idx[0..n) in place. */
void st_rng_shuffle_indices(st_rng *r, int64_t *idx, int64_t n);
/* idx = a random permutation of 0..n-1. */
void st_rng_permutation(st_rng *r, int64_t *idx, int64_t n);

/* The state as 64 lowercase hex digits (s[0] first) into buf (>= 65 bytes). */
#define ST_RNG_STATE_CHARS 65
const char *st_rng_state_str(const st_rng *r, char *buf, size_t n);
/* Parses that form; -1 with an error for anything else or an all-zero state. */
int st_rng_state_parse(st_rng *r, const char *s);

#endif
