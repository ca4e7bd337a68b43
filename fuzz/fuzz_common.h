/* Shared by the libFuzzer targets: the fuzz input as a file the loaders can
 * open (they take paths), one per process so parallel jobs do not collide. */
#ifndef STRATA_FUZZ_COMMON_H
#define STRATA_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Fills buf with <$TMPDIR or /tmp>/strata-fuzz-<tag>-<pid><suffix>, a path
 * unique to this process, and returns it. */
static inline const char *fuzz_temp_path(char *buf, size_t n, const char *tag, const char *suffix) {
  const char *dir = getenv("TMPDIR");
  snprintf(buf, n, "%s/strata-fuzz-%s-%ld%s", dir && *dir ? dir : "/tmp", tag, (long)getpid(), suffix);
  return buf;
}

/* Writes the input to path; 0, or -1 when the file cannot be written (then
 * the input is skipped: a full /tmp is not a finding). */
static inline int fuzz_write_file(const char *path, const uint8_t *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  int ok = fwrite(data, 1, size, f) == size;
  return (fclose(f) == 0 && ok) ? 0 : -1;
}

#endif
