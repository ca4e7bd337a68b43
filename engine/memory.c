#include "memory.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "gpu.h"
#include "memory_trace.h"

/* Free blocks are kept in buckets keyed by a rounded size class; a freed block
 * returns to its class and the next request of that class reuses it. Sizes are
 * rounded up to 1/4 of their power of two, so the waste is at most 25%. */

typedef struct block {
  void *ptr;
  size_t size; /* rounded size */
  size_t used; /* the rounded size asked for: size, or less for a larger cached block (take_cached) */
  struct block *next;
  int mapped;   /* from the ranges (range_take, ranges mode), not from the size classes */
} block;

#define N_BUCKETS 256
#define LIVE_BUCKETS 4096
#define LARGE_BLOCK ((size_t)64 << 20) /* host blocks this size and up: see trim_locked */

typedef struct {
  block *free_lists[N_BUCKETS]; /* indexed by size class */
  block *live[LIVE_BUCKETS];    /* handed-out blocks, hashed by pointer */
  st_mem_stats stats;
  int lean;                     /* st_mem_set_lean */
  int ranges;                   /* st_mem_set_ranges */
  block *extents;               /* ranges mode's free mapped ranges, by address, merged */
  size_t high;                  /* most ever in use (stats.peak can be reset) */
} allocator;

static allocator allocators[2]; /* [ST_CPU], [ST_CUDA] (one GPU for now) */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long fail_countdown = 0;
static void fill_stop(void);

/* A child forked while another thread holds the lock (engine/io/isolate.c
 * forks to parse files) would wait for it forever: fork takes it first.
 * Ranges mode's mappings are not inherited (MADV_DONTFORK, see map_fresh),
 * so the child forgets the free ones; it never touches the parent's tensors
 * (it parses a file, or executes another program). */
static void fork_prepare(void) { pthread_mutex_lock(&lock); }
static void fork_done(void) { pthread_mutex_unlock(&lock); }
static void forget_ranges(void);
static void fork_child(void) {
  forget_ranges();
  pthread_mutex_unlock(&lock);
}
__attribute__((constructor)) static void register_fork_handlers(void) {
  pthread_atfork(fork_prepare, fork_done, fork_child);
}

/* Sanitizer and emulator builds (STRATA_MEM_EXACT): blocks of exactly the
 * size asked for, so an access past a tensor's end is past its allocation,
 * and cached blocks are poisoned, so a use after free shows. */
#ifdef STRATA_MEM_EXACT
#include <sanitizer/asan_interface.h>
#ifndef ASAN_POISON_MEMORY_REGION
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#endif
/* Only host memory can be poisoned: CPU blocks, and emulated device blocks. */
#ifdef STRATA_CUDA_EMU
#define POISONABLE(dev) 1
#else
#define POISONABLE(dev) ((dev).kind == ST_CPU)
#endif
static size_t round_size(size_t n, int *cls) {
  if (n == 0) n = 1;
  *cls = (int)((n * 2654435761u) % N_BUCKETS);
  return n;
}
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define POISONABLE(dev) 0
static size_t round_size(size_t n, int *cls) {
  if (n < 256) n = 256;
  int p = 63 - __builtin_clzll((unsigned long long)n); /* floor(log2 n) */
  size_t quarter = (size_t)1 << (p - 2);
  size_t r = (n + quarter - 1) / quarter * quarter;
  /* The class is a function of the rounded size alone (r may have reached
   * the next power of two), so a block freed under its size is found again
   * by every request that rounds to it. */
  int pr = 63 - __builtin_clzll((unsigned long long)r);
  int q = (int)((r >> (pr - 2)) - 4); /* 0..3 */
  *cls = (pr * 4 + q) % N_BUCKETS;
  return r;
}
#endif

static size_t live_hash(void *p) { return ((uintptr_t)p >> 6) % LIVE_BUCKETS; }

static void *system_alloc(st_device dev, size_t n) {
  if (fail_countdown > 0 && --fail_countdown == 0) fail_countdown = -1; /* out of memory from now on */
  if (fail_countdown < 0) return NULL;
  if (dev.kind == ST_CPU) {
    void *p = NULL;
    if (posix_memalign(&p, 64, n) != 0) return NULL;
    return p;
  }
  return st_gpu_malloc(dev.index, n);
}

static void system_free(st_device dev, void *p) {
  if (dev.kind == ST_CPU) free(p);
  else st_gpu_free(dev.index, p);
}

/* Ranges mode (st_mem_set_ranges: inference): host blocks of RANGE_MIN and
 * up come from free ranges of anonymous mappings instead of the size
 * classes: a request takes the smallest free range that holds it (the rest
 * stays free), and a freed block merges with the free ranges beside it. The
 * transformer's activations shrink (full, half, quarter resolution) and grow
 * again; with one class per size, the quarter-resolution maps and oneDNN's
 * scratchpads could not use the pages of the freed full-size maps, and a
 * 712x474 stylize mapped ~270 MiB of fresh pages (each one a page fault on
 * first touch) for a 155 MiB peak. Training keeps the size classes: its sizes
 * repeat exactly every step. Not in STRATA_MEM_EXACT builds, whose blocks
 * must be exactly the size asked for. */
#ifdef STRATA_MEM_EXACT
#define RANGE_MIN ((size_t)-1)
#define RANGE_GRAIN ((size_t)1)
static void *range_take(allocator *a, size_t size) { (void)a; (void)size; return NULL; }
static void *range_grow(allocator *a, size_t size) { (void)a; (void)size; return NULL; }
static void *map_fresh(size_t n) { (void)n; return NULL; }
static void unmap(void *p, size_t n) { (void)p; (void)n; }
static void drop_pages(void *p, size_t n) { (void)p; (void)n; }
static void *map_unshared(size_t n) { (void)n; return NULL; }
static void populate(void *p, size_t n) { (void)p; (void)n; }
#else
#include <sys/mman.h>
#define RANGE_MIN ((size_t)1 << 20) /* rounded sizes from here are whole pages */
#define RANGE_GRAIN ((size_t)64 << 10)
/* A fresh mapping not inherited by forked children: after a fork every page
 * a child shares is write-protected in the parent too, and the parent's next
 * write to each would fault again (the weight loader forks while
 * st_mem_prefault fills its range). Not counted by the test hook. */
static void *map_unshared(size_t n) {
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  madvise(p, n, MADV_DONTFORK);
  return p;
}
static void *map_fresh(size_t n) {
  if (fail_countdown > 0 && --fail_countdown == 0) fail_countdown = -1;
  return fail_countdown < 0 ? NULL : map_unshared(n);
}
static void unmap(void *p, size_t n) { munmap(p, n); } /* may span several mappings */
/* Frees the pages under the mapping's read lock (munmap takes it for writing,
 * which would stall the page faults of the other threads meanwhile); the
 * munmap that follows then has little left to free. */
static void drop_pages(void *p, size_t n) { madvise(p, n, MADV_DONTNEED); }
/* Faults in the pages of [p, p+n) for writing, leaving what they hold as it
 * is: an atomic add of 0 to a word of each page (the allocator may already
 * have handed part of the range out, and its user be writing there). Page
 * faults take only the mapping's own lock, where MADV_POPULATE_WRITE holds
 * the whole address space's: every mmap, munmap and fork of the other
 * threads (the image decoder's, the weights loader's) then waited for it. */
static void populate(void *p, size_t n) {
  for (size_t off = 0; off < n; off += 4096) __atomic_fetch_add((int *)((char *)p + off), 0, __ATOMIC_RELAXED);
}
/* No free range holds `size`: the largest one grows to it (mremap moves its
 * pages, and only the rest are fresh), rather than a whole fresh mapping.
 * NULL when there is none or the kernel refuses (a range over two mappings
 * it did not merge). */
static void *range_grow(allocator *a, size_t size) {
  block **big = NULL;
  for (block **pp = &a->extents; *pp; pp = &(*pp)->next)
    if ((*pp)->size < size && (!big || (*pp)->size > (*big)->size)) big = pp;
  if (!big) return NULL;
  if (fail_countdown > 0 && --fail_countdown == 0) fail_countdown = -1;
  if (fail_countdown < 0) return NULL;
  block *e = *big;
  fill_stop(); /* the pages may move: the fill thread must not touch them then */
  void *p = mremap(e->ptr, e->size, size, MREMAP_MAYMOVE);
  if (p == MAP_FAILED) return NULL;
  *big = e->next;
  a->stats.cached -= e->size;
  free(e);
  return p;
}
static void *range_take(allocator *a, size_t size) {
  block **best = NULL;
  for (block **pp = &a->extents; *pp; pp = &(*pp)->next)
    if ((*pp)->size >= size && (!best || (*pp)->size < (*best)->size)) best = pp;
  if (!best) return NULL;
  block *e = *best;
  void *p = e->ptr;
  if (e->size == size) {
    *best = e->next;
    free(e);
  } else {
    e->ptr = (char *)e->ptr + size;
    e->size -= size;
  }
  a->stats.cached -= size;
  return p;
}
#endif

/* Returns a freed mapped block to the free ranges; b becomes a range's node or is freed. */
static void range_give(allocator *a, block *b) {
  block **pp = &a->extents, *prev = NULL;
  while (*pp && (uintptr_t)(*pp)->ptr < (uintptr_t)b->ptr) {
    prev = *pp;
    pp = &(*pp)->next;
  }
  block *next = *pp;
  a->stats.cached += b->size;
  if (prev && (char *)prev->ptr + prev->size == (char *)b->ptr) {
    prev->size += b->size;
    free(b);
    if (next && (char *)prev->ptr + prev->size == (char *)next->ptr) {
      prev->size += next->size;
      prev->next = next->next;
      free(next);
    }
    return;
  }
  if (next && (char *)b->ptr + b->size == (char *)next->ptr) {
    next->ptr = b->ptr;
    next->size += b->size;
    free(b);
    return;
  }
  b->next = next;
  *pp = b;
}

static void empty_locked(allocator *a, st_device dev) {
  fill_stop();
  while (a->extents) {
    block *e = a->extents;
    a->extents = e->next;
    unmap(e->ptr, e->size);
    a->stats.cached -= e->size;
    free(e);
  }
  for (int i = 0; i < N_BUCKETS; i++) {
    block *b = a->free_lists[i];
    while (b) {
      block *next = b->next;
      if (POISONABLE(dev)) ASAN_UNPOISON_MEMORY_REGION(b->ptr, b->size);
      system_free(dev, b->ptr);
      a->stats.cached -= b->size;
      free(b);
      b = next;
    }
    a->free_lists[i] = NULL;
  }
}

/* Lean host memory (st_mem_set_lean), large blocks (activations of large
 * images): before a fresh large block is taken from the system, cached large
 * blocks (largest first) go back to it until the cache and the blocks in use,
 * the new one included, are no more than the most ever in use at once.
 * Without this, a network whose activations shrink and grow again (the
 * transformer: full, half, quarter resolution and back) keeps a freed block
 * of every size, and its resident memory is their sum rather than its peak.
 * Smaller blocks stay cached: re-faulting their pages every pass would cost
 * more than they hold. Large blocks are mmap'd by malloc, so freeing one
 * returns it to the system, and the next of that size faults its pages in
 * again: a training step, whose sizes also vary, would pay that every step
 * (measured: 2.5x the page faults, ~13% slower at 256x256, batch 4), hence
 * a mode. Device memory keeps everything: cudaFree synchronises. */
static void trim_locked(allocator *a, st_device dev, size_t size) {
  const size_t cap = a->high > a->stats.in_use + size ? a->high : a->stats.in_use + size;
  while (a->stats.in_use + a->stats.cached + size > cap) {
    block **big = NULL;
    for (int i = 0; i < N_BUCKETS; i++)
      for (block **pp = &a->free_lists[i]; *pp; pp = &(*pp)->next)
        if ((*pp)->size >= LARGE_BLOCK && (!big || (*pp)->size > (*big)->size)) big = pp;
    for (block **pp = &a->extents; *pp; pp = &(*pp)->next)
      if ((*pp)->size >= LARGE_BLOCK && (!big || (*pp)->size > (*big)->size)) big = pp;
    if (!big) return;
    block *b = *big;
    *big = b->next;
    if (b->mapped) {
      fill_stop();
      unmap(b->ptr, b->size);
    } else {
      if (POISONABLE(dev)) ASAN_UNPOISON_MEMORY_REGION(b->ptr, b->size);
      system_free(dev, b->ptr);
    }
    a->stats.cached -= b->size;
    free(b);
  }
}

static const char *human(size_t n, char *buf, size_t len) {
  const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)n;
  int u = 0;
  while (v >= 1024 && u < 4) { v /= 1024; u++; }
  snprintf(buf, len, "%.1f %s", v, unit[u]);
  return buf;
}

/* A cached block for a request of `size` (class cls): one of that size, or
 * else the smallest cached one of less than twice that size. Training's phases
 * ask for different sizes (VGG-19's full-size maps, FCRN's, oneDNN's
 * scratchpads of many sizes); without the fallback a block freed by one
 * phase would wait for its own size while the next phase asks the system
 * for more, and the cache would hold the sum over sizes of each size's most
 * at once instead of about the most in use at once. Not in STRATA_MEM_EXACT
 * builds, whose blocks are exactly the size asked for. */
static block *take_cached(allocator *a, size_t size, int cls) {
  block **pp = &a->free_lists[cls];
  while (*pp && (*pp)->size != size) pp = &(*pp)->next;
#ifndef STRATA_MEM_EXACT
  for (size_t s = size; !*pp;) {
    int c;
    s = round_size(s + 1, &c); /* the next size class */
    if (s >= 2 * size) break;
    pp = &a->free_lists[c];
    while (*pp && (*pp)->size != s) pp = &(*pp)->next;
  }
#endif
  if (!*pp) return NULL;
  block *b = *pp;
  *pp = b->next;
  return b;
}

/* st_mem_set_arena's block of shared memory; base NULL when none. */
static struct {
  char *base;
  size_t size, used;
} arena;

void st_mem_set_arena(void *base, size_t size) {
  pthread_mutex_lock(&lock);
  arena.base = base;
  arena.size = base ? size : 0;
  arena.used = 0;
  pthread_mutex_unlock(&lock);
}

size_t st_mem_arena_used(void) {
  pthread_mutex_lock(&lock);
  size_t n = arena.used;
  pthread_mutex_unlock(&lock);
  return n;
}

static int in_arena(const void *p) {
  return arena.base && (const char *)p >= arena.base && (const char *)p < arena.base + arena.size;
}

void *st_mem_alloc(st_device dev, size_t nbytes, const char *what) {
  int cls;
  size_t size = round_size(nbytes, &cls);
  allocator *a = &allocators[dev.kind];
  pthread_mutex_lock(&lock);
  if (dev.kind == ST_CPU && arena.base) {
    const size_t step = nbytes ? (nbytes + 63) / 64 * 64 : 64;
    if (step <= arena.size - arena.used) {
      void *p = arena.base + arena.used;
      arena.used += step;
      pthread_mutex_unlock(&lock);
      return p;
    }
  }
  /* A block split from a range needs no size class (a freed one merges back
   * into its range): 64 KiB steps, so the pages a pass touches lie close
   * together (a 712x474 map of 43.4 MB took a 48 MiB class). */
  if (a->ranges && size >= RANGE_MIN) size = (nbytes + RANGE_GRAIN - 1) / RANGE_GRAIN * RANGE_GRAIN;
  block *b = NULL;
  if (a->ranges && size >= RANGE_MIN && a->extents && (b = malloc(sizeof *b))) {
    if ((b->ptr = range_take(a, size))) {
      b->size = size;
      b->mapped = 1;
    } else {
      free(b);
      b = NULL;
    }
  }
  if (!b && (b = take_cached(a, size, cls))) {
    a->stats.cached -= b->size;
    if (POISONABLE(dev)) ASAN_UNPOISON_MEMORY_REGION(b->ptr, b->size);
  }
  if (!b) {
    const int mapped = a->ranges && size >= RANGE_MIN;
    if (a->lean && size >= LARGE_BLOCK) trim_locked(a, dev, size);
    void *p = mapped ? range_grow(a, size) : NULL;
    if (!p) p = mapped ? map_fresh(size) : system_alloc(dev, size);
    if (!p) { /* give back the cache and try once more */
      empty_locked(a, dev);
      p = mapped ? map_fresh(size) : system_alloc(dev, size);
    }
    b = p ? malloc(sizeof *b) : NULL;
    if (!b) {
      if (p && mapped) unmap(p, size);
      else if (p) system_free(dev, p);
      char h1[32], h2[32];
      pthread_mutex_unlock(&lock);
      st_error("out of memory on %s allocating %s for %s (%s already in use)", st_device_name(dev),
               human(nbytes, h1, sizeof h1), what ? what : "a tensor", human(a->stats.in_use, h2, sizeof h2));
      return NULL;
    }
    b->ptr = p;
    b->size = size;
    b->mapped = mapped;
    a->stats.n_system_allocs++;
  }
  b->used = size; /* in_use counts what was asked for, so it does not depend on which block served it */
  size_t h = live_hash(b->ptr);
  b->next = a->live[h];
  a->live[h] = b;
  a->stats.in_use += size;
  if (a->stats.in_use > a->stats.peak) a->stats.peak = a->stats.in_use;
  if (a->stats.in_use > a->high) a->high = a->stats.in_use;
  if (dev.kind == ST_CPU && st_mem_tracing()) st_mem_trace_alloc(b->ptr, size, what);
  pthread_mutex_unlock(&lock);
  return b->ptr;
}

void st_mem_free(st_device dev, void *ptr) {
  if (!ptr) return;
  allocator *a = &allocators[dev.kind];
  pthread_mutex_lock(&lock);
  if (dev.kind == ST_CPU && in_arena(ptr)) { /* never reused: the child exits */
    pthread_mutex_unlock(&lock);
    return;
  }
  block **pp = &a->live[live_hash(ptr)];
  while (*pp && (*pp)->ptr != ptr) pp = &(*pp)->next;
  block *b = *pp;
  if (b) {
    *pp = b->next;
    a->stats.in_use -= b->used;
    if (b->mapped) {
      range_give(a, b); /* b is not to be used after this */
    } else {
      int cls;
      round_size(b->size, &cls);
      b->next = a->free_lists[cls];
      a->free_lists[cls] = b;
      if (POISONABLE(dev)) ASAN_POISON_MEMORY_REGION(b->ptr, b->size);
      a->stats.cached += b->size;
    }
    if (dev.kind == ST_CPU && st_mem_tracing()) st_mem_trace_free(ptr);
  }
  pthread_mutex_unlock(&lock);
}

static void *unmap_ranges(void *list) {
  for (block *e = list, *next; e; e = next) {
    next = e->next;
    drop_pages(e->ptr, e->size);
    unmap(e->ptr, e->size);
    free(e);
  }
  return NULL;
}

void st_mem_release_ranges(st_device dev, int background) {
  pthread_mutex_lock(&lock);
  fill_stop();
  allocator *a = &allocators[dev.kind];
  block *list = a->extents;
  a->extents = NULL;
  for (block *e = list; e; e = e->next) a->stats.cached -= e->size;
  pthread_mutex_unlock(&lock);
  if (!list) return;
  pthread_t t;
  if (background && pthread_create(&t, NULL, unmap_ranges, list) == 0) pthread_detach(t);
  else unmap_ranges(list);
}

/* ---- prefault (st_mem_prefault) ----
 * One background thread at a time faults in the pages of one fresh free
 * range, a chunk at a time, until done or told to stop. It takes no lock and
 * changes no data: the allocator may hand out, split or merge the range
 * meanwhile. Whoever unmaps or moves ranges (munmap, mremap, MADV_DONTNEED)
 * stops it first (fill_stop, lock held): it would fault on an unmapped page. */
#define FILL_CHUNK ((size_t)64 << 10) /* between looks at `stop` */
static struct {
  pthread_t thread;
  int running; /* a thread to join */
  volatile int stop;
  char *ptr;
  size_t size;
} fill;

static void *fill_pages(void *unused) {
  (void)unused;
  for (size_t off = 0; !__atomic_load_n(&fill.stop, __ATOMIC_RELAXED); off += FILL_CHUNK) {
    const size_t size = __atomic_load_n(&fill.size, __ATOMIC_RELAXED); /* st_mem_prefault_limit may lower it */
    if (off >= size) break;
    size_t n = size - off < FILL_CHUNK ? size - off : FILL_CHUNK;
    populate(fill.ptr + off, n);
  }
  return NULL;
}

/* Waits for the fill thread, told to stop first or left to finish. */
static void fill_join(int stop) {
  if (!fill.running) return;
  if (stop) __atomic_store_n(&fill.stop, 1, __ATOMIC_RELAXED);
  pthread_join(fill.thread, NULL);
  fill.running = 0;
}

static void fill_stop(void) { fill_join(1); }

void st_mem_prefault_limit(size_t bytes) {
  pthread_mutex_lock(&lock);
  if (fill.running && bytes < fill.size) __atomic_store_n(&fill.size, bytes, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&lock);
}

void st_mem_prefault_wait(void) {
  pthread_mutex_lock(&lock);
  fill_join(0);
  pthread_mutex_unlock(&lock);
}

/* In a forked child: the ranges are not mapped there, nor is the thread. */
static void forget_ranges(void) {
  fill.running = 0;
  for (int d = 0; d < 2; d++) {
    allocator *a = &allocators[d];
    for (block *e = a->extents; e; e = e->next) a->stats.cached -= e->size;
    a->extents = NULL;
  }
}

/* At most a quarter of the memory the kernel says is available now, and 1
 * GiB: a page touched here is taken at once, where the pass itself would
 * have stopped with an out-of-memory error naming its tensor, the fill
 * thread would meet the OOM killer; and on a large image the pass's own
 * work dwarfs its page faults. */
#define PREFAULT_MAX ((size_t)1 << 30)
static size_t prefault_cap(void) {
  size_t cap = PREFAULT_MAX;
  FILE *f = fopen("/proc/meminfo", "r");
  char line[128];
  unsigned long long kb;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
      if ((size_t)(kb / 4) * 1024 < cap) cap = (size_t)(kb / 4) * 1024;
      break;
    }
  if (f) fclose(f);
  return cap;
}

int st_mem_prefault(st_device dev, size_t bytes) {
  if (dev.kind != ST_CPU || bytes < RANGE_MIN) return 0;
  const size_t cap = prefault_cap();
  if (bytes > cap) bytes = cap;
  if (bytes < RANGE_MIN) return 0;
  bytes = (bytes + RANGE_MIN - 1) / RANGE_MIN * RANGE_MIN;
  pthread_mutex_lock(&lock);
  allocator *a = &allocators[ST_CPU];
  fill_stop();
  void *p = map_unshared(bytes);
  block *b = p ? malloc(sizeof *b) : NULL;
  if (!b) {
    if (p) unmap(p, bytes);
    pthread_mutex_unlock(&lock);
    return 0;
  }
  b->ptr = p;
  b->size = bytes;
  b->mapped = 1;
  range_give(a, b);
  fill.ptr = p;
  fill.size = bytes;
  fill.stop = 0;
  fill.running = pthread_create(&fill.thread, NULL, fill_pages, NULL) == 0;
  pthread_mutex_unlock(&lock);
  return fill.running;
}

void st_mem_empty_cache(st_device dev) {
  pthread_mutex_lock(&lock);
  empty_locked(&allocators[dev.kind], dev);
  pthread_mutex_unlock(&lock);
}

st_mem_stats st_mem_get_stats(st_device dev) {
  pthread_mutex_lock(&lock);
  st_mem_stats s = allocators[dev.kind].stats;
  pthread_mutex_unlock(&lock);
  return s;
}

void st_mem_reset_peak(st_device dev) {
  pthread_mutex_lock(&lock);
  allocators[dev.kind].stats.peak = allocators[dev.kind].stats.in_use;
  pthread_mutex_unlock(&lock);
}

int st_mem_set_ranges(st_device dev, int on) {
  pthread_mutex_lock(&lock);
  allocator *a = &allocators[dev.kind];
  int was = a->ranges;
  a->ranges = on && dev.kind == ST_CPU;
  pthread_mutex_unlock(&lock);
  return was;
}

int st_mem_set_lean(st_device dev, int on) {
  pthread_mutex_lock(&lock);
  allocator *a = &allocators[dev.kind];
  int was = a->lean;
  a->lean = on && dev.kind == ST_CPU;
  pthread_mutex_unlock(&lock);
  return was;
}

void st_mem_fail_after(long n) { fail_countdown = n > 0 ? n : 0; }
