#include "device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gpu.h"

const char *st_device_name(st_device d) {
  static _Thread_local char buf[32];
  if (d.kind == ST_CPU) return "cpu";
  snprintf(buf, sizeof buf, "cuda:%d", d.index);
  return buf;
}

int st_device_parse(const char *s, st_device *out) {
  if (strcmp(s, "cpu") == 0) { *out = st_cpu(); return 0; }
  if (strcmp(s, "cuda") == 0) { *out = st_cuda(0); return 0; }
  if (strncmp(s, "cuda:", 5) == 0 && s[5]) {
    char *end;
    long i = strtol(s + 5, &end, 10);
    if (*end == '\0' && i >= 0 && i < 64) { *out = st_cuda((int)i); return 0; }
  }
  return st_error("unknown device '%s': expected \"cpu\", \"cuda\" or \"cuda:N\"", s);
}

int st_cuda_available(void) { return st_gpu_count() > 0; }
