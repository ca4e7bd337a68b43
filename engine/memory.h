/* Caching allocators, one per device.
 *
 * Training allocates the same sizes every iteration; keeping freed blocks in
 * per-size free lists turns those allocations into list pops (and, on the GPU,
 * keeps cudaMalloc/cudaFree out of the training loop).
 */
#ifndef STRATA_MEMORY_H
#define STRATA_MEMORY_H

#include <stddef.h>

#include "device.h"

/* Returns a block of at least nbytes (64-byte aligned) or NULL with an error
 * naming the size and device. `what` names the tensor for that message. */
void *st_mem_alloc(st_device dev, size_t nbytes, const char *what);
void st_mem_free(st_device dev, void *ptr);

/* Returns every cached free block to the system. */
void st_mem_empty_cache(st_device dev);

/* Lean mode (host memory only; off by default): the cache then holds large
 * blocks (64 MiB and up) only while the blocks in use and cached stay within
 * the most ever in use at once, handing others back to the system before it
 * takes a new one. `strata stylize --lean-memory` turns it on for its pass
 * (lua/strata/stylize.lua): at 2048x1360 ~25% less peak RSS for ~0.25 s of
 * page faults a pass, so it is not the default; training keeps it off, as
 * its steps reuse every block. Returns the previous setting. */
int st_mem_set_lean(st_device dev, int on);

/* Ranges mode (host memory only; off by default): blocks of 1 MiB and up
 * come from free ranges of mappings, best fit, split, and merged with their
 * neighbours when freed, so a freed block serves requests of other sizes and
 * fewer fresh pages are faulted in; such blocks are sized in 64 KiB steps,
 * not size classes. stylize.image turns it on for its pass
 * (a network whose maps shrink and grow again); training keeps the exact
 * size classes, as its steps repeat the same sizes. With lean mode too, free
 * ranges of 64 MiB and up count as cached large blocks. Returns the previous
 * setting. */
int st_mem_set_ranges(st_device dev, int on);

/* Hands ranges mode's free ranges back to the system, with `background` from
 * a detached thread (the unmapping, ~10-20 ms for a 712x474 stylize's maps,
 * then overlaps what the caller does next: strata stylize writes its PNG). */
void st_mem_release_ranges(st_device dev, int background);

/* Adds a fresh free range of `bytes` (host memory; nothing in
 * STRATA_MEM_EXACT builds) and faults its pages in from a background thread,
 * so that a pass about to start in ranges mode finds its pages ready instead
 * of faulting them in itself. strata stylize calls it before loading the
 * model and reading the image, whose time the thread then fills (on a VM a
 * page fault costs ~1.3 us: a 712x474 pass touches ~75 MB). Ranges mode's
 * mappings are not inherited by forked children. At most 1 GiB and a
 * quarter of the available memory. 1 when the thread started. */
int st_mem_prefault(st_device dev, size_t bytes);

/* Lowers what the running prefault faults in to its first `bytes` (the
 * caller learnt that the pass needs less); the rest of the range stays free
 * and untouched. */
void st_mem_prefault_limit(size_t bytes);

/* Waits until st_mem_prefault's pages are all in (tests, benchmarks). */
void st_mem_prefault_wait(void);

/* In a forked child that parses a weights file (engine/io/isolate.c): host
 * blocks come one after another from [base, base + size), a shared mapping
 * the parent then maps too, instead of being copied to it; they are never
 * given back (the child exits). A block that does not fit comes from the
 * allocator as usual. NULL ends it. */
void st_mem_set_arena(void *base, size_t size);
/* The bytes of the arena handed out so far. */
size_t st_mem_arena_used(void);

typedef struct {
  size_t in_use;   /* bytes handed out and not yet freed (rounded sizes asked for) */
  size_t cached;   /* bytes held in free lists */
  size_t peak;     /* high-water mark of in_use */
  size_t n_system_allocs; /* calls that went to malloc / cudaMalloc */
} st_mem_stats;

st_mem_stats st_mem_get_stats(st_device dev);

/* Starts a new high-water mark: peak = what is in use now (to measure one phase). */
void st_mem_reset_peak(st_device dev);

/* Test hook: when set to n > 0, the n-th following system allocation fails,
 * and every one after it (so the retry after emptying the cache fails too), as
 * if the machine ran out of memory; 0 turns it off. */
void st_mem_fail_after(long n);

#endif
