/* Error reporting for library code.
 *
 * Library functions never print or exit: on failure they record one line in a
 * thread-local buffer with st_error() and return a failure value (-1 or NULL).
 * The caller (a Lua binding, main.c, a test) decides how to report it.
 */
#ifndef STRATA_ERROR_H
#define STRATA_ERROR_H

#include <stddef.h>

#if defined(__GNUC__)
#define ST_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ST_PRINTF(a, b)
#endif

/* Records a message (printf-style) and returns -1, so `return st_error(...)` reads naturally. */
int st_error(const char *fmt, ...) ST_PRINTF(1, 2);

/* Prepends context ("while loading x.h5: ") to the current message; returns -1. */
int st_error_prefix(const char *fmt, ...) ST_PRINTF(1, 2);

/* The last recorded message, or "" when none. */
const char *st_last_error(void);

void st_clear_error(void);

#endif
