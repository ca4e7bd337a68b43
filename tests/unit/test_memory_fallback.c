/* The caching allocator serves a request whose own size has no free block
 * from the smallest cached block of less than twice its size instead of asking
 * the system, so memory freed by one phase of a training step (one set of
 * sizes) is reused by the next (other sizes); blocks of twice the size
 * or more stay for requests of their own size. (STRATA_MEM_EXACT builds, ASan's,
 * hand out exact sizes: there the fallback is off and this test skips.) */
#include <stdint.h>

#include "engine/memory.h"
#include "tap.h"

#define MiB ((size_t)1 << 20)

int main(void) {
#ifdef STRATA_MEM_EXACT
  tap_skip_all("exact-size allocator build (STRATA_MEM_EXACT): no fallback to larger blocks");
  return 0;
#else
  const st_device cpu = st_cpu();
  st_mem_empty_cache(cpu);

  void *six = st_mem_alloc(cpu, 6 * MiB, "a 6 MiB block");
  void *big = st_mem_alloc(cpu, 8 * MiB, "an 8 MiB block");
  st_mem_free(cpu, six);
  st_mem_free(cpu, big);
  st_mem_stats s0 = st_mem_get_stats(cpu);

  void *four = st_mem_alloc(cpu, 4 * MiB, "a 4 MiB request");
  st_mem_stats s1 = st_mem_get_stats(cpu);
  tap_ok(four == six, "a 4 MiB request takes the cached 6 MiB block");
  tap_ok(s1.n_system_allocs == s0.n_system_allocs, "without asking the system");
  tap_ok(s1.in_use == s0.in_use + 4 * MiB && s1.cached == s0.cached - 6 * MiB,
         "in use counts the 4 MiB asked for, the cache loses the whole block (%zu in use, %zu cached)", s1.in_use,
         s1.cached);

  void *other = st_mem_alloc(cpu, 4 * MiB, "a second 4 MiB request");
  st_mem_stats s2 = st_mem_get_stats(cpu);
  tap_ok(other != big && s2.n_system_allocs == s1.n_system_allocs + 1,
         "an 8 MiB block (twice the size) is not taken: the system is asked");

  st_mem_free(cpu, four);
  tap_ok(st_mem_get_stats(cpu).in_use == s0.in_use + 4 * MiB && st_mem_get_stats(cpu).cached == s0.cached,
         "freed, its 4 MiB leave in use (the other request's stay) and the 6 MiB block returns to the cache");
  void *again = st_mem_alloc(cpu, 6 * MiB, "a 6 MiB request");
  tap_ok(again == six, "the 6 MiB block, freed, serves its own size again");
  void *exact = st_mem_alloc(cpu, 8 * MiB, "an 8 MiB request");
  tap_ok(exact == big, "and the 8 MiB block its own");

  st_mem_free(cpu, again);
  st_mem_free(cpu, exact);
  st_mem_free(cpu, other);
  st_mem_empty_cache(cpu);
  tap_ok(st_mem_get_stats(cpu).in_use == 0 && st_mem_get_stats(cpu).cached == 0, "everything returned");
  return tap_done();
#endif
}
