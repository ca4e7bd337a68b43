/* Shared by the libFuzzer targets that need a folder: a fresh, private
 * folder per input under $TMPDIR (or /tmp), removed after. */
#ifndef STRATA_FUZZ_TREE_H
#define STRATA_FUZZ_TREE_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"

static int fuzz_tree_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

/* Removes path and everything under it (links are removed, not followed). */
static inline void fuzz_tree_remove(const char *path) { nftw(path, fuzz_tree_rm, 16, FTW_DEPTH | FTW_PHYS); }

/* An empty folder <tmp>/strata-fuzz-<tag>-<pid>, emptied first if a previous
 * input left it; path, or NULL when it cannot be made. */
static inline const char *fuzz_tree_fresh(char *buf, size_t n, const char *tag) {
  fuzz_temp_path(buf, n, tag, "");
  fuzz_tree_remove(buf);
  return mkdir(buf, 0700) == 0 ? buf : NULL;
}

#endif
