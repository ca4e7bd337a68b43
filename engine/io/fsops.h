/* Files and folders without a shell: listing, making, removing and renaming,
 * and the advisory lock that keeps one writer per run folder. Paths are
 * passed to the kernel as they are (quotes, spaces and UTF-8 are ordinary
 * bytes here), never to /bin/sh.
 *
 * Every function returns 0 on success, or -1 with an st_error() naming the
 * path and the system's reason, unless said otherwise. */
#ifndef STRATA_IO_FSOPS_H
#define STRATA_IO_FSOPS_H

#include <stddef.h>

/* The names in folder `dir` (not "." or ".."), sorted with strcmp. *names is
 * a malloc'ed array of malloc'ed strings; free it with st_fs_free_list. A
 * missing folder is an error whose errno is left in *err_no (may be NULL). */
int st_fs_list_dir(const char *dir, char ***names, size_t *n, int *err_no);

void st_fs_free_list(char **v, size_t n);

/* Creates path and its parents; an existing folder is fine. */
int st_fs_mkdir_p(const char *path);

/* Removes path and, when it is a folder, everything below it. Symbolic links
 * are removed, never followed, and no other filesystem (a mount point inside
 * the tree) is entered, so nothing outside the tree can be touched. A missing
 * path is fine. */
int st_fs_remove_tree(const char *path);

/* rename(2), with an error naming both paths. */
int st_fs_rename(const char *from, const char *to);

/* Copies the regular file `from` to `to` (created or truncated, mode 0644),
 * byte for byte; on failure a partly written `to` is removed. */
int st_fs_copy_file(const char *from, const char *to);

/* Takes an exclusive flock on `path` (created if needed, close-on-exec so
 * child processes do not inherit it) and writes this process's pid into it.
 * Returns 0 with the open descriptor in *fd; 1 when another process holds it,
 * with the pid it wrote in *holder (0 when unreadable); -1 on error. The lock
 * lasts until the descriptor is closed or the process ends, however it ends. */
int st_fs_lock(const char *path, int *fd, long *holder);

#endif
