/* STRATA_MEM_REPORT=1: where the caching allocator's peak comes from.
 *
 * engine/memory.c reports every block it hands out or takes back (under its
 * lock); this file keeps its own record of the CPU's live blocks and, each
 * time their total reaches a new high, a copy of that list. At exit it
 * prints to stderr the live bytes at the peak grouped by what asked for them
 * (a tensor's shape, "oneDNN scratchpad", ...), biggest first, and the bytes
 * cached at exit by size class, which shows memory held for sizes that were
 * not asked for again. Off (one branch per call) unless the variable is set. */
#include "memory_trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHAT_LEN 64

typedef struct {
  void *ptr;
  size_t size;
  char what[WHAT_LEN];
} rec;

static rec *live, *at_peak;
static size_t n_live, cap_live, n_peak, cap_peak, live_bytes, peak_bytes;

/* Per block size: blocks live now, at most, and at the peak. */
typedef struct {
  size_t size, now, most, at_peak;
  char what[WHAT_LEN]; /* the request that set `most` */
} size_count;
static size_count sizes[4096];
static size_t n_sizes;

static size_count *size_entry(size_t size) {
  for (size_t i = 0; i < n_sizes; i++)
    if (sizes[i].size == size) return &sizes[i];
  if (n_sizes == sizeof sizes / sizeof *sizes) return NULL;
  sizes[n_sizes].size = size;
  return &sizes[n_sizes++];
}

int st_mem_trace_on = -1;

static void report(void);

int st_mem_trace_init(void) {
  const char *v = getenv("STRATA_MEM_REPORT");
  st_mem_trace_on = v && v[0] && strcmp(v, "0") != 0;
  if (st_mem_trace_on) atexit(report);
  return st_mem_trace_on;
}

static int grow(rec **a, size_t *cap, size_t need) {
  if (need <= *cap) return 0;
  size_t n = *cap ? *cap * 2 : 1024;
  while (n < need) n *= 2;
  rec *p = realloc(*a, n * sizeof *p);
  if (!p) return -1;
  *a = p;
  *cap = n;
  return 0;
}

void st_mem_trace_alloc(void *ptr, size_t size, const char *what) {
  if (grow(&live, &cap_live, n_live + 1)) return;
  rec *r = &live[n_live++];
  r->ptr = ptr;
  r->size = size;
  snprintf(r->what, WHAT_LEN, "%s", what ? what : "?");
  live_bytes += size;
  size_count *c = size_entry(size);
  if (c && ++c->now > c->most) {
    c->most = c->now;
    memcpy(c->what, r->what, WHAT_LEN);
  }
  if (live_bytes > peak_bytes && !grow(&at_peak, &cap_peak, n_live)) {
    peak_bytes = live_bytes;
    memcpy(at_peak, live, n_live * sizeof *live);
    n_peak = n_live;
    for (size_t i = 0; i < n_sizes; i++) sizes[i].at_peak = sizes[i].now;
  }
}

void st_mem_trace_free(void *ptr) {
  for (size_t i = n_live; i-- > 0;) /* recent blocks are freed first, mostly */
    if (live[i].ptr == ptr) {
      live_bytes -= live[i].size;
      size_count *c = size_entry(live[i].size);
      if (c) c->now--;
      live[i] = live[--n_live];
      return;
    }
}

static int by_what(const void *a, const void *b) { return strcmp(((const rec *)a)->what, ((const rec *)b)->what); }
static int by_size_desc(const void *a, const void *b) {
  size_t x = ((const rec *)a)->size, y = ((const rec *)b)->size;
  return x < y ? 1 : x > y ? -1 : 0;
}

static int by_waste_desc(const void *a, const void *b) {
  const size_count *x = a, *y = b;
  size_t wx = (x->most - x->at_peak) * x->size, wy = (y->most - y->at_peak) * y->size;
  return wx < wy ? 1 : wx > wy ? -1 : 0;
}

static void report(void) {
  /* Group the peak's blocks by what (size = their bytes, ptr = their count). */
  qsort(at_peak, n_peak, sizeof *at_peak, by_what);
  size_t n = 0;
  for (size_t i = 0; i < n_peak; i++) {
    if (n > 0 && !strcmp(at_peak[n - 1].what, at_peak[i].what)) {
      at_peak[n - 1].size += at_peak[i].size;
      at_peak[n - 1].ptr = (void *)((size_t)at_peak[n - 1].ptr + 1);
    } else {
      at_peak[n] = at_peak[i];
      at_peak[n++].ptr = (void *)1;
    }
  }
  qsort(at_peak, n, sizeof *at_peak, by_size_desc);
  fprintf(stderr, "strata memory trace: CPU peak %.1f MiB live in %zu blocks; by what asked:\n",
          (double)peak_bytes / (1 << 20), n_peak);
  for (size_t i = 0; i < n; i++)
    fprintf(stderr, "  %9.1f MiB %5zu x %s\n", (double)at_peak[i].size / (1 << 20), (size_t)at_peak[i].ptr,
            at_peak[i].what);
  /* What the cache holds beyond the peak: blocks of a size that was live
   * more often at another moment than at the peak. */
  size_t held = 0;
  for (size_t i = 0; i < n_sizes; i++) held += sizes[i].most * sizes[i].size;
  qsort(sizes, n_sizes, sizeof *sizes, by_waste_desc);
  fprintf(stderr, "strata memory trace: blocks ever needed at once, summed over sizes: %.1f MiB (%.1f MiB over the "
          "peak); sizes most over:\n", (double)held / (1 << 20), (double)(held - peak_bytes) / (1 << 20));
  for (size_t i = 0; i < n_sizes && i < 25; i++)
    if (sizes[i].most > sizes[i].at_peak)
      fprintf(stderr, "  %9.2f MiB blocks: %zu at once at most (the last for %s), %zu at the peak\n",
              (double)sizes[i].size / (1 << 20), sizes[i].most, sizes[i].what, sizes[i].at_peak);
}
