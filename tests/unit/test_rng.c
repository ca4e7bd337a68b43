/* rng: known-answer values (so a checkpointed stream stays the same stream),
 * determinism, state save/restore, moments of uniform / normal / truncated
 * normal draws, tensor fills, bounded integers and Fisher-Yates shuffles. */
#include <math.h>
#include <string.h>

#include "engine/error.h"
#include "engine/rng.h"
#include "tap.h"

#define DRAWS 100000

int main(void) {
  st_rng a, b;

  /* ---- known answers: splitmix64 seeding and xoshiro256** outputs (checked
   * against an independent transcription of the published algorithms) ---- */
  st_rng_seed(&a, 0);
  tap_ok(a.s[0] == 0xe220a8397b1dcdafULL && a.s[1] == 0x6e789e6aa1b965f4ULL && a.s[2] == 0x06c45d188009454fULL &&
             a.s[3] == 0xf88bb8a8724c81ecULL,
         "seed 0 gives the splitmix64 stream from 0 as the state");
  uint64_t k0 = st_rng_next_u64(&a), k1 = st_rng_next_u64(&a), k2 = st_rng_next_u64(&a), k3 = st_rng_next_u64(&a);
  tap_ok(k0 == 0x99ec5f36cb75f2b4ULL && k1 == 0xbf6e1f784956452aULL && k2 == 0x1a5f849d4933e6e0ULL &&
             k3 == 0x6aa594f1262d2d2cULL,
         "seed 0: the first four xoshiro256** outputs are the known values");
  st_rng_seed(&a, 42);
  tap_ok(st_rng_next_u64(&a) == 0x15780b2e0c2ec716ULL && st_rng_next_u64(&a) == 0x6104d9866d113a7eULL,
         "seed 42: the first two outputs are the known values");

  /* ---- same seed, same sequence; different seeds differ ---- */
  st_rng_seed(&a, 12345);
  st_rng_seed(&b, 12345);
  int same = 1;
  for (int i = 0; i < 1000; i++) same &= st_rng_next_u64(&a) == st_rng_next_u64(&b);
  tap_ok(same, "the same seed gives the same 1000 outputs");
  int differ = 0;
  for (uint64_t s = 0; s < 4; s++) {
    st_rng_seed(&a, s);
    st_rng_seed(&b, s + 1);
    int eq = 0;
    for (int i = 0; i < 100; i++) eq += st_rng_next_u64(&a) == st_rng_next_u64(&b);
    differ += eq == 0;
  }
  tap_ok(differ == 4, "seeds s and s+1 (s = 0..3) give different streams (no equal outputs in 100 draws)");

  /* ---- state save / restore ---- */
  {
    char buf[ST_RNG_STATE_CHARS];
    st_rng_seed(&a, 7);
    for (int i = 0; i < 10; i++) st_rng_next_u64(&a);
    st_rng_state_str(&a, buf, sizeof buf);
    tap_ok(strlen(buf) == 64, "state text is 64 hex digits: %s", buf);
    st_rng c;
    tap_ok(st_rng_state_parse(&c, buf) == 0 && memcmp(&c, &a, sizeof a) == 0, "state text parses back to the same state");
    int cont = 1;
    for (int i = 0; i < 100; i++) cont &= st_rng_normal(&a) == st_rng_normal(&c);
    tap_ok(cont, "a restored state continues the same stream");
    int rc = st_rng_state_parse(&c, "1234");
    tap_ok(rc == -1 && strstr(st_last_error(), "64 hex"), "short state text is rejected: %s", st_last_error());
    char bad[65];
    memset(bad, 'a', 64);
    bad[64] = 0;
    bad[10] = 'g';
    rc = st_rng_state_parse(&c, bad);
    tap_ok(rc == -1 && strstr(st_last_error(), "hex digit"), "a non-hex character is rejected: %s", st_last_error());
    memset(bad, '0', 64);
    rc = st_rng_state_parse(&c, bad);
    tap_ok(rc == -1 && strstr(st_last_error(), "zero"), "the all-zero state is rejected");
  }

  /* ---- uniform: range, mean 1/2, variance 1/12 ---- */
  {
    st_rng_seed(&a, 1);
    double s = 0, s2 = 0;
    int in = 1;
    for (int i = 0; i < DRAWS; i++) {
      float u = st_rng_uniform(&a);
      in &= u >= 0.0f && u < 1.0f;
      s += u;
      s2 += (double)u * u;
    }
    double mean = s / DRAWS, var = s2 / DRAWS - mean * mean;
    tap_ok(in, "uniform draws lie in [0, 1)");
    /* standard errors: 0.29/sqrt(1e5) = 9e-4 for the mean, ~2.7e-4 for the variance */
    tap_ok(fabs(mean - 0.5) < 5e-3, "uniform mean %.5f is 1/2 within 5e-3", mean);
    tap_ok(fabs(var - 1.0 / 12) < 2e-3, "uniform variance %.5f is 1/12 within 2e-3", var);
  }

  /* ---- normal: mean 0, variance 1 ---- */
  {
    st_rng_seed(&a, 2);
    double s = 0, s2 = 0, s4 = 0;
    int finite = 1;
    for (int i = 0; i < DRAWS; i++) {
      double z = st_rng_normal(&a);
      finite &= isfinite(z);
      s += z;
      s2 += z * z;
      s4 += z * z * z * z;
    }
    double mean = s / DRAWS, var = s2 / DRAWS - mean * mean, kurt = s4 / DRAWS;
    tap_ok(finite, "normal draws are finite");
    tap_ok(fabs(mean) < 0.02, "normal mean %.5f is 0 within 0.02", mean);
    tap_ok(fabs(var - 1) < 0.03, "normal variance %.5f is 1 within 0.03", var);
    tap_ok(fabs(kurt - 3) < 0.15, "normal fourth moment %.4f is 3 within 0.15 (a normal, not just any unit-variance law)",
           kurt);
  }

  /* ---- tensor fills ---- */
  {
    st_tensor *t = st_tensor_new4(10, 10, 10, 100, st_cpu());
    const float *d = st_tensor_data(t);
    int64_t n = t->numel;

    st_rng_seed(&a, 3);
    st_rng_fill_truncated_normal(&a, t, 3.0f, 0.5f);
    double s = 0, s2 = 0, lo = 1e9, hi = -1e9;
    for (int64_t i = 0; i < n; i++) {
      s += d[i];
      s2 += (double)d[i] * d[i];
      lo = fmin(lo, d[i]);
      hi = fmax(hi, d[i]);
    }
    double mean = s / n, sd = sqrt(s2 / n - mean * mean);
    tap_ok(lo >= 2.0 && hi <= 4.0, "truncated normal (mean 3, std 0.5): all within 2 std [%.4f, %.4f]", lo, hi);
    /* std of a standard normal truncated to [-2, 2] is 0.87962 */
    tap_ok(fabs(sd - 0.5 * 0.87962) < 0.005, "truncated normal std %.5f is 0.88 * 0.5 = 0.4398 within 0.005", sd);
    tap_ok(fabs(mean - 3.0) < 0.01, "truncated normal mean %.5f is 3 within 0.01", mean);
    tap_ok(hi > 3.9 && lo < 2.1, "truncated normal reaches near both bounds");

    st_rng_fill_normal(&a, t, -1.0f, 2.0f);
    s = s2 = 0;
    for (int64_t i = 0; i < n; i++) {
      s += d[i];
      s2 += (double)d[i] * d[i];
    }
    mean = s / n;
    sd = sqrt(s2 / n - mean * mean);
    tap_ok(fabs(mean + 1) < 0.04 && fabs(sd - 2) < 0.03, "fill_normal(-1, 2): mean %.4f, std %.4f", mean, sd);

    st_rng_fill_uniform(&a, t, -3.0f, 5.0f);
    s = 0;
    lo = 1e9;
    hi = -1e9;
    for (int64_t i = 0; i < n; i++) {
      s += d[i];
      lo = fmin(lo, d[i]);
      hi = fmax(hi, d[i]);
    }
    mean = s / n;
    tap_ok(lo >= -3 && hi <= 5 && fabs(mean - 1) < 0.05, "fill_uniform(-3, 5): range [%.4f, %.4f], mean %.4f", lo, hi,
           mean);

    /* a fill draws exactly what the scalar calls would */
    st_tensor *small = st_tensor_new1(5, st_cpu());
    st_rng_seed(&a, 9);
    st_rng_seed(&b, 9);
    st_rng_fill_normal(&a, small, 0, 1);
    int eq = 1;
    for (int i = 0; i < 5; i++) eq &= st_tensor_data(small)[i] == st_rng_normal(&b);
    tap_ok(eq && memcmp(&a, &b, sizeof a) == 0, "fill_normal equals successive st_rng_normal draws");
    tap_ok(st_rng_fill_uniform(&a, small, 0, INFINITY) == -1, "a non-finite bound is rejected");
    st_tensor_release(small);
    st_tensor_release(t);
  }

  /* ---- bounded integers and shuffles ---- */
  {
    st_rng_seed(&a, 4);
    int counts[7] = {0}, inb = 1;
    for (int i = 0; i < 70000; i++) {
      uint64_t k = st_rng_below(&a, 7);
      inb &= k < 7;
      if (k < 7) counts[k]++;
    }
    int flat = 1;
    for (int k = 0; k < 7; k++) flat &= abs(counts[k] - 10000) < 500; /* ~5 standard errors */
    tap_ok(inb && flat, "st_rng_below(7) is in range and flat over 70000 draws");

    int64_t idx[1000], seen[1000] = {0};
    st_rng_permutation(&a, idx, 1000);
    int perm = 1, moved = 0;
    for (int i = 0; i < 1000; i++) {
      perm &= idx[i] >= 0 && idx[i] < 1000 && !seen[idx[i]];
      if (idx[i] >= 0 && idx[i] < 1000) seen[idx[i]] = 1;
      moved += idx[i] != i;
    }
    tap_ok(perm, "permutation of 1000 holds each index once");
    tap_ok(moved > 900, "permutation moves most indices (%d of 1000)", moved);
    int64_t again[1000];
    st_rng_seed(&a, 4);
    st_rng_seed(&b, 4);
    for (int i = 0; i < 70000; i++) st_rng_below(&b, 7);
    st_rng_permutation(&b, again, 1000);
    tap_ok(memcmp(idx, again, sizeof idx) == 0, "the same state gives the same permutation");

    /* shuffle of caller-provided values: a permutation of them */
    int64_t vals[5] = {10, 20, 30, 40, 50};
    st_rng_shuffle_indices(&a, vals, 5);
    int64_t sum = 0;
    int all = 1;
    for (int i = 0; i < 5; i++) {
      sum += vals[i];
      int found = 0;
      for (int j = 0; j < 5; j++) found += vals[j] == (i + 1) * 10;
      all &= found == 1;
    }
    tap_ok(all && sum == 150, "shuffle_indices permutes the caller's values");

    /* all 6 orders of 3 items are equally likely (Fisher-Yates is unbiased) */
    int orders[6] = {0};
    for (int trial = 0; trial < 60000; trial++) {
      int64_t p[3];
      st_rng_permutation(&a, p, 3);
      orders[p[0] * 2 + (p[1] > p[2])]++;
    }
    int even = 1;
    for (int k = 0; k < 6; k++) even &= abs(orders[k] - 10000) < 500;
    tap_ok(even, "the 6 orders of 3 items each occur 10000 +- 500 times in 60000 shuffles");
  }
  return tap_done();
}
