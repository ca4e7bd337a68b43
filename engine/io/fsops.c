/* File and folder operations through system calls; see fsops.h. */
#include "io/fsops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

typedef struct {
  char **v;
  size_t n, cap;
} strlist;

static int push(strlist *l, const char *a, const char *b) {
  if (l->n == l->cap) {
    size_t c = l->cap ? 2 * l->cap : 32;
    char **v = realloc(l->v, c * sizeof *v);
    if (!v) return st_error("out of memory listing files");
    l->v = v;
    l->cap = c;
  }
  size_t la = strlen(a), lb = b ? strlen(b) : 0;
  char *s = malloc(la + lb + 2);
  if (!s) return st_error("out of memory listing files");
  memcpy(s, a, la);
  if (b) {
    s[la] = '/';
    memcpy(s + la + 1, b, lb + 1);
  } else {
    s[la] = '\0';
  }
  l->v[l->n++] = s;
  return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void st_fs_free_list(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

static int is_dot(const char *name) { return !strcmp(name, ".") || !strcmp(name, ".."); }

int st_fs_list_dir(const char *dir, char ***names, size_t *n, int *err_no) {
  *names = NULL;
  *n = 0;
  if (err_no) *err_no = 0;
  DIR *d = opendir(dir);
  if (!d) {
    if (err_no) *err_no = errno;
    return st_error("cannot list directory '%s': %s", dir, strerror(errno));
  }
  strlist l = {0};
  struct dirent *e;
  int rc = 0;
  errno = 0;
  while (rc == 0 && (e = readdir(d))) {
    if (!is_dot(e->d_name)) rc = push(&l, e->d_name, NULL);
    errno = 0;
  }
  if (rc == 0 && errno) {
    if (err_no) *err_no = errno;
    rc = st_error("cannot list directory '%s': %s", dir, strerror(errno));
  }
  closedir(d);
  if (rc != 0) {
    st_fs_free_list(l.v, l.n);
    return -1;
  }
  if (l.n) qsort(l.v, l.n, sizeof *l.v, cmp_str);
  *names = l.v;
  *n = l.n;
  return 0;
}

int st_fs_mkdir_p(const char *path) {
  size_t len = strlen(path);
  if (len == 0) return st_error("cannot create a folder with an empty name");
  char *buf = malloc(len + 1);
  if (!buf) return st_error("out of memory creating '%s'", path);
  memcpy(buf, path, len + 1);
  int rc = 0;
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      struct stat st;
      if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
        rc = st_error("cannot create directory '%s': %s", buf, strerror(errno));
        break;
      }
      if (stat(buf, &st) == 0 && !S_ISDIR(st.st_mode)) {
        rc = st_error("cannot create directory '%s': a file of that name exists", buf);
        break;
      }
      *p = c;
      if (!c) break;
    }
  }
  free(buf);
  return rc;
}

/* Empties the folder open as dfd (shown as `shown` in messages), which is on
 * device dev; closes dfd. Entries are examined without following links. */
static int empty_dir(int dfd, const char *shown, dev_t dev, int depth) {
  if (depth > 512) {
    close(dfd);
    return st_error("cannot remove '%s': folders nested more than 512 deep", shown);
  }
  DIR *d = fdopendir(dfd);
  if (!d) {
    int e = errno;
    close(dfd);
    return st_error("cannot remove '%s': %s", shown, strerror(e));
  }
  /* Names first, then removal: a folder is not changed while it is read. */
  strlist names = {0};
  struct dirent *e;
  int rc = 0;
  while (rc == 0 && (e = readdir(d)))
    if (!is_dot(e->d_name)) rc = push(&names, e->d_name, NULL);
  for (size_t i = 0; i < names.n && rc == 0; i++) {
    const char *name = names.v[i];
    strlist full = {0};
    if (push(&full, shown, name) != 0) {
      rc = -1;
      break;
    }
    struct stat st;
    if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) rc = st_error("cannot remove '%s': %s", full.v[0], strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
      if (st.st_dev != dev) {
        rc = st_error("cannot remove '%s': it is another file system mounted inside the tree", full.v[0]);
      } else {
        int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) rc = st_error("cannot remove '%s': %s", full.v[0], strerror(errno));
        else if ((rc = empty_dir(sub, full.v[0], dev, depth + 1)) == 0 && unlinkat(dirfd(d), name, AT_REMOVEDIR) != 0)
          rc = st_error("cannot remove '%s': %s", full.v[0], strerror(errno));
      }
    } else if (unlinkat(dirfd(d), name, 0) != 0 && errno != ENOENT) {
      rc = st_error("cannot remove '%s': %s", full.v[0], strerror(errno));
    }
    st_fs_free_list(full.v, full.n);
  }
  st_fs_free_list(names.v, names.n);
  closedir(d);
  return rc;
}

int st_fs_remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    if (errno == ENOENT) return 0;
    return st_error("cannot remove '%s': %s", path, strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(path) != 0 && errno != ENOENT) return st_error("cannot remove '%s': %s", path, strerror(errno));
    return 0;
  }
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return st_error("cannot remove '%s': %s", path, strerror(errno));
  if (empty_dir(fd, path, st.st_dev, 0) != 0) return -1;
  if (rmdir(path) != 0 && errno != ENOENT) return st_error("cannot remove '%s': %s", path, strerror(errno));
  return 0;
}

int st_fs_rename(const char *from, const char *to) {
  if (rename(from, to) != 0) return st_error("cannot rename '%s' to '%s': %s", from, to, strerror(errno));
  return 0;
}

int st_fs_lock(const char *path, int *fd_out, long *holder) {
  *fd_out = -1;
  *holder = 0;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return st_error("cannot open lock file '%s': %s", path, strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    if (e == EWOULDBLOCK) {
      char buf[32] = {0};
      ssize_t got = pread(fd, buf, sizeof buf - 1, 0);
      close(fd);
      if (got > 0) *holder = strtol(buf, NULL, 10);
      return 1;
    }
    close(fd);
    return st_error("cannot lock '%s': %s", path, strerror(e));
  }
  char buf[32];
  int len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
    int e = errno;
    close(fd);
    return st_error("cannot write lock file '%s': %s", path, strerror(e));
  }
  *fd_out = fd;
  return 0;
}

int st_fs_copy_file(const char *from, const char *to) {
  int in = open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0) return st_error("cannot copy '%s': %s", from, strerror(errno));
  struct stat st;
  if (fstat(in, &st) != 0) {
    int e = errno;
    close(in);
    return st_error("cannot copy '%s': %s", from, strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(in);
    return st_error("cannot copy '%s': not a regular file", from);
  }
  int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    int e = errno;
    close(in);
    return st_error("cannot copy '%s' to '%s': %s", from, to, strerror(e));
  }
  char buf[1 << 16];
  int rc = 0;
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      rc = st_error("cannot copy '%s': read: %s", from, strerror(errno));
      break;
    }
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(out, buf + done, (size_t)(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        rc = st_error("cannot copy '%s' to '%s': %s", from, to, strerror(errno));
        break;
      }
      done += w;
    }
    if (rc) break;
  }
  close(in);
  if (close(out) != 0 && rc == 0) rc = st_error("cannot copy '%s' to '%s': %s", from, to, strerror(errno));
  if (rc) unlink(to);
  return rc;
}
