#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ST_ERRBUF 2048
static _Thread_local char errbuf[ST_ERRBUF];

/* Messages are one line: a newline inside a quoted name (a hostile file
 * name, a library's multi-line text) is shown as "\n". */
static void one_line(void) {
  char tmp[ST_ERRBUF];
  size_t k = 0;
  for (const char *p = errbuf; *p && k + 2 < sizeof tmp; p++) {
    if (*p == '\n' || *p == '\r') {
      tmp[k++] = '\\';
      tmp[k++] = *p == '\n' ? 'n' : 'r';
    } else {
      tmp[k++] = *p;
    }
  }
  tmp[k] = '\0';
  memcpy(errbuf, tmp, k + 1);
}

int st_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errbuf, sizeof errbuf, fmt, ap);
  va_end(ap);
  one_line();
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
  one_line();
  return -1;
}

const char *st_last_error(void) { return errbuf; }

void st_clear_error(void) { errbuf[0] = '\0'; }
