/* Loaders run in a child process (see isolate.h).
 *
 * The tensors' data travels in shared memory: the parent makes a memfd
 * before the fork, the child's allocator hands out the tensors it loads from
 * that file mapped (st_mem_set_arena), and the parent maps the same pages.
 * Sent through the pipe instead, the data was copied twice and faulted into
 * fresh pages on both sides (712x474 `strata stylize`: ~1600 page faults and
 * two 6.7 MB copies; VGG-19's 548 MB, 134000 faults); now the parent's
 * first reads map the child's pages, 16 at a time. A tensor that did not fit
 * the mapping, or every tensor where there is none, comes through the pipe.
 *
 * The child sends, through the pipe, in native byte order (same machine):
 *   'E' u32 len, message                                 on failure
 *   'W' u32 nattrs, {u32 klen, key, u32 vlen, value}...
 *       u64 mapped (bytes of the memfd in use)
 *       u32 ntensors, {u32 nlen, name, i32 ndim, i64 shape[ndim],
 *                      'M' u64 offset (in the memfd) | 'D' float data[numel]}...
 *   'Z'                                                  after weights
 * The parent trusts nothing it did not receive whole: a short stream, or a
 * child that did not exit 0, is a crash; offsets must lie in the mapped
 * bytes, which must lie in the memfd. */
#include "isolate.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../error.h"
#include "../memory.h"

#define MAX_STRING ((uint32_t)1 << 30) /* attribute values can be large (an experiment's text) */
#define MAX_NUMEL ((int64_t)1 << 34)   /* as weights.c refuses larger datasets */

/* ---- child: writing ---- */

static int put(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    ssize_t k = write(fd, c, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    c += k, n -= (size_t)k;
  }
  return 0;
}

static int put_u32(int fd, uint32_t v) { return put(fd, &v, sizeof v); }

static int put_str(int fd, const char *s) {
  size_t n = strlen(s);
  return n > MAX_STRING || put_u32(fd, (uint32_t)n) || put(fd, s, n) ? -1 : 0;
}

/* base: the child's mapping of the memfd (NULL: none), of which `mapped`
 * bytes are in use. */
static int send_weights(int fd, const st_weights *w, const char *base, uint64_t mapped) {
  if (put(fd, "W", 1) || put_u32(fd, (uint32_t)st_weights_attr_count(w))) return -1;
  for (int i = 0; i < st_weights_attr_count(w); i++) {
    const char *k = st_weights_attr_key(w, i);
    if (put_str(fd, k) || put_str(fd, st_weights_get_attr(w, k))) return -1;
  }
  if (put(fd, &mapped, sizeof mapped) || put_u32(fd, (uint32_t)st_weights_count(w))) return -1;
  for (int i = 0; i < st_weights_count(w); i++) {
    const st_tensor *t = st_weights_at(w, i);
    const char *data = (const char *)st_tensor_data(t);
    const size_t bytes = sizeof(float) * (size_t)t->numel;
    int32_t ndim = t->ndim;
    if (put_str(fd, st_weights_name(w, i)) || put(fd, &ndim, sizeof ndim) ||
        put(fd, t->shape, sizeof(int64_t) * (size_t)ndim))
      return -1;
    if (base && data >= base && (uint64_t)(data - base) + bytes <= mapped) {
      uint64_t off = (uint64_t)(data - base);
      if (put(fd, "M", 1) || put(fd, &off, sizeof off)) return -1;
    } else if (put(fd, "D", 1) || put(fd, data, bytes)) {
      return -1;
    }
  }
  return put(fd, "Z", 1);
}

/* The memfd's size in the child: the tensors of an uncompressed file are
 * smaller than the file; a compressed one's that do not fit go through the
 * pipe. Pages never written take no memory. */
static size_t arena_bytes(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0 || st.st_size <= 0) return 0;
  size_t n = (size_t)st.st_size + ((size_t)st.st_size >> 3) + ((size_t)1 << 20);
  long page = sysconf(_SC_PAGESIZE);
  return page > 0 ? (n + (size_t)page - 1) / (size_t)page * (size_t)page : n;
}

/* Runs in the forked child; never returns. */
static void child(int fd, int mfd, st_weights *(*load)(const char *), const char *path) {
  /* A crash must end the child quietly: the parent reports it. (Under a
   * sanitizer these replace its handlers, which would report HDF5's bug as
   * strata's.) Growing the memfd past a file-size limit fails, not kills. */
  const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};
  for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) signal(fatal[i], SIG_DFL);
  signal(SIGXFSZ, SIG_IGN);
  char *base = NULL;
  size_t n = mfd >= 0 ? arena_bytes(path) : 0;
  if (n && ftruncate(mfd, (off_t)n) == 0) {
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    if (p != MAP_FAILED) base = p;
  }
  if (base) st_mem_set_arena(base, n);
  st_weights *w = load(path);
  int rc = w ? send_weights(fd, w, base, base ? st_mem_arena_used() : 0)
             : (put(fd, "E", 1) || put_str(fd, st_last_error()));
  _exit(rc == 0 ? 0 : 3); /* no atexit handlers, no leak check: the parent goes on */
}

/* ---- parent: reading ---- */

typedef struct {
  int fd;
  int short_read; /* the stream ended early */
} stream;

static int get(stream *s, void *p, size_t n) {
  char *c = p;
  while (n > 0) {
    ssize_t k = read(s->fd, c, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      s->short_read = 1;
      return -1;
    }
    c += k, n -= (size_t)k;
  }
  return 0;
}

static int get_u32(stream *s, uint32_t *v) { return get(s, v, sizeof *v); }

/* A received string (malloc'd), or NULL. */
static char *get_str(stream *s) {
  uint32_t n;
  if (get_u32(s, &n) || n > MAX_STRING) return NULL;
  char *str = malloc((size_t)n + 1);
  if (!str) return NULL;
  if (get(s, str, n)) {
    free(str);
    return NULL;
  }
  str[n] = '\0';
  return str;
}

/* The parent's mapping of the memfd, shared by the tensors that lie in it:
 * unmapped when the last of them goes (st_tensor_wrap's release). Tensor
 * reference counts are not atomic either: one thread owns them. */
typedef struct {
  void *base;
  size_t bytes;
  int refs;
} shared_map;

static void map_release(void *owner) {
  shared_map *m = owner;
  if (--m->refs > 0) return;
  munmap(m->base, m->bytes);
  free(m);
}

/* The child's `mapped` bytes of the memfd mfd, mapped here; NULL when they
 * cannot be (with an error) or are not all in the file (s->short_read). Not
 * inherited by children forked later, like ranges mode's mappings. */
static shared_map *map_shared(stream *s, int mfd, uint64_t mapped, const char *path) {
  struct stat st;
  if (mfd < 0 || fstat(mfd, &st) != 0 || st.st_size < 0 || mapped > (uint64_t)st.st_size || mapped > SIZE_MAX) {
    s->short_read = 1;
    return NULL;
  }
  shared_map *m = malloc(sizeof *m);
  void *p = m ? mmap(NULL, (size_t)mapped, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0) : MAP_FAILED;
  if (p == MAP_FAILED) {
    free(m);
    st_error("%s: cannot map the loaded weights (%llu bytes of shared memory): %s", path,
             (unsigned long long)mapped, strerror(errno));
    return NULL;
  }
  madvise(p, (size_t)mapped, MADV_DONTFORK);
  m->base = p;
  m->bytes = (size_t)mapped;
  m->refs = 1;
  return m;
}

/* The weights the child sent; NULL when it sent an error (then recorded) or
 * the stream is broken (s->short_read, or out of memory, recorded). */
static st_weights *receive(stream *s, const char *path, int mfd) {
  char tag;
  if (get(s, &tag, 1)) return NULL;
  if (tag == 'E') {
    char *msg = get_str(s);
    if (msg) st_error("%s", msg);
    free(msg);
    return NULL;
  }
  if (tag != 'W') {
    s->short_read = 1;
    return NULL;
  }
  st_weights *w = st_weights_new();
  uint32_t n;
  int ok = w && st_weights_set_path(w, path) == 0 && get_u32(s, &n) == 0;
  for (uint32_t i = 0; ok && i < n; i++) {
    char *k = get_str(s), *v = k ? get_str(s) : NULL;
    ok = k && v && st_weights_set_attr(w, k, v) == 0;
    free(k);
    free(v);
  }
  uint64_t mapped = 0;
  shared_map *m = NULL;
  ok = ok && get(s, &mapped, sizeof mapped) == 0 && (mapped == 0 || (m = map_shared(s, mfd, mapped, path)));
  ok = ok && get_u32(s, &n) == 0;
  for (uint32_t i = 0; ok && i < n; i++) {
    char *name = get_str(s);
    int32_t ndim = -1;
    int64_t shape[ST_MAX_DIMS], numel = 1;
    char kind = 0;
    ok = name && get(s, &ndim, sizeof ndim) == 0 && ndim >= 0 && ndim <= ST_MAX_DIMS &&
         get(s, shape, sizeof(int64_t) * (size_t)ndim) == 0;
    for (int d = 0; ok && d < ndim; d++) {
      ok = shape[d] >= 0 && (shape[d] == 0 || numel <= MAX_NUMEL / shape[d]);
      numel *= shape[d];
    }
    ok = ok && get(s, &kind, 1) == 0;
    st_tensor *t = NULL;
    if (ok && kind == 'M') {
      uint64_t off;
      const uint64_t bytes = sizeof(float) * (uint64_t)numel;
      if (get(s, &off, sizeof off) != 0 || !m || off % sizeof(float) || off > m->bytes || bytes > m->bytes - off) {
        s->short_read = 1; /* not what a working child sends */
        ok = 0;
      } else {
        m->refs++;
        t = st_tensor_wrap(ndim, shape, (float *)((char *)m->base + off), map_release, m);
      }
    } else if (ok && kind == 'D') {
      t = st_tensor_new(ndim, shape, st_cpu());
      ok = t && get(s, st_tensor_data(t), sizeof(float) * (size_t)numel) == 0;
    } else if (ok) {
      s->short_read = 1;
      ok = 0;
    }
    ok = ok && t && st_weights_set(w, name, t) == 0;
    st_tensor_release(t);
    free(name);
  }
  if (m) map_release(m); /* the tensors hold it now */
  char end;
  ok = ok && get(s, &end, 1) == 0 && end == 'Z';
  if (!ok) {
    if (!s->short_read && !st_last_error()[0]) st_error("%s: out of memory receiving the weights", path);
    st_weights_free(w);
    return NULL;
  }
  return w;
}

struct st_isolated {
  pid_t pid;       /* the child, or -1: w was loaded here (no fork to be had) */
  int fd;          /* the pipe's read end */
  int mfd;         /* the memfd the tensors come in, or -1 */
  st_weights *w;   /* loaded here */
  char *path, *what;
};

st_isolated *st_load_isolated_start(st_weights *(*load)(const char *path), const char *path, const char *what) {
  st_isolated *h = calloc(1, sizeof *h);
  if (h) h->path = strdup(path), h->what = strdup(what);
  if (!h || !h->path || !h->what) {
    if (h) free(h->path), free(h->what);
    free(h);
    st_error("%s: out of memory starting to read the %s", path, what);
    return NULL;
  }
  h->pid = -1;
  h->mfd = -1;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    h->w = load(path);
    return h;
  }
  fcntl(fds[1], F_SETPIPE_SZ, 1 << 20); /* fewer turns between the processes (best effort) */
  h->mfd = memfd_create("strata-weights", MFD_CLOEXEC); /* -1: all through the pipe */
  fflush(NULL); /* nothing buffered may be written twice (the child does not flush, but be safe) */
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    if (h->mfd >= 0) close(h->mfd);
    h->mfd = -1;
    h->w = load(path); /* no child to be had: parse here */
    return h;
  }
  if (pid == 0) {
    close(fds[0]);
    child(fds[1], h->mfd, load, path);
  }
  close(fds[1]);
  h->pid = pid;
  h->fd = fds[0];
  return h;
}

st_weights *st_load_isolated_finish(st_isolated *h) {
  st_weights *w = h->w;
  const char *path = h->path, *what = h->what;
  if (h->pid < 0) goto done; /* loaded here: w, or NULL with load's error */
  stream s = {h->fd, 0};
  st_clear_error();
  w = receive(&s, path, h->mfd);
  /* Drain what a broken stream left, so the child can finish writing. */
  char sink[4096];
  while (!w && read(h->fd, sink, sizeof sink) > 0) {
  }
  close(h->fd);
  if (h->mfd >= 0) close(h->mfd); /* the mapping, if any, keeps its pages */
  int status = 0;
  pid_t r;
  while ((r = waitpid(h->pid, &status, 0)) < 0 && errno == EINTR) {
  }
  int clean = r == h->pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (r < 0 && errno == ECHILD) clean = 1; /* SIGCHLD ignored: the stream alone tells */
  if (clean && (w || !s.short_read)) goto done;
  st_weights_free(w);
  w = NULL;
  if (r == h->pid && WIFSIGNALED(status))
    st_error("%s: reading the %s crashed the HDF5 library (%s): the file is corrupt", path, what,
             strsignal(WTERMSIG(status)));
  else
    st_error("%s: reading the %s crashed the HDF5 library (exit status %d): the file is corrupt", path, what,
             r == h->pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
done:
  free(h->path);
  free(h->what);
  free(h);
  return w;
}

st_weights *st_load_isolated(st_weights *(*load)(const char *path), const char *path, const char *what) {
  st_isolated *h = st_load_isolated_start(load, path, what);
  return h ? st_load_isolated_finish(h) : NULL;
}
