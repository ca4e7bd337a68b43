/* STRATA_MEM_REPORT=1: a record of the CPU caching allocator's live blocks and
 * a report of what was live at its peak, printed at exit (memory_trace.c).
 * engine/memory.c calls these under its lock. */
#ifndef STRATA_MEMORY_TRACE_H
#define STRATA_MEMORY_TRACE_H

#include <stddef.h>

extern int st_mem_trace_on; /* -1 until st_mem_trace_init has read the environment */
int st_mem_trace_init(void);
void st_mem_trace_alloc(void *ptr, size_t size, const char *what);
void st_mem_trace_free(void *ptr);

static inline int st_mem_tracing(void) { return st_mem_trace_on < 0 ? st_mem_trace_init() : st_mem_trace_on; }

#endif
