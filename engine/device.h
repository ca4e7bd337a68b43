/* Where a tensor lives. */
#ifndef STRATA_DEVICE_H
#define STRATA_DEVICE_H

typedef enum { ST_CPU = 0, ST_CUDA = 1 } st_device_kind;

typedef struct {
  st_device_kind kind;
  int index; /* GPU ordinal; 0 for the CPU */
} st_device;

static inline st_device st_cpu(void) { st_device d = {ST_CPU, 0}; return d; }
static inline st_device st_cuda(int index) { st_device d = {ST_CUDA, index}; return d; }
static inline int st_device_eq(st_device a, st_device b) { return a.kind == b.kind && a.index == b.index; }

/* "cpu" or "cuda:N" (into a static per-thread buffer). */
const char *st_device_name(st_device d);

/* Parses "cpu", "cuda", "cuda:N"; returns 0 or -1 with an error. */
int st_device_parse(const char *s, st_device *out);

/* 1 when this build has the CUDA backend and a device is usable. */
int st_cuda_available(void);

#endif
