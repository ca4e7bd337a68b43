#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ST_ERRBUF 2048
static _Thread_local char errbuf[ST_ERRBUF];

int st_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errbuf, sizeof errbuf, fmt, ap);
  va_end(ap);
  return -1;
}

int st_error_prefix(const char *fmt, ...) {
  char prefix[ST_ERRBUF / 2], old[ST_ERRBUF];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, errbuf, sizeof old);
  size_t k = strlen(prefix);
  memcpy(errbuf, prefix, k);
  snprintf(errbuf + k, sizeof errbuf - k, "%s", old);
  return -1;
}

const char *st_last_error(void) { return errbuf; }

void st_clear_error(void) { errbuf[0] = '\0'; }
