/* Pipes to child processes for raw frames; see pipe.h. */
#include "io/pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

extern char **environ;

int st_pipe_open(const char *const *argv, st_pipe_dir dir, const char *err_path, pid_t *pid, int *fd) {
  if (!argv || !argv[0]) return st_error("pipe: no program given");
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return st_error("cannot start '%s': pipe: %s", argv[0], strerror(errno));
  int child_end = dir == ST_PIPE_READ ? p[1] : p[0], our_end = dir == ST_PIPE_READ ? p[0] : p[1];
  int child_fd = dir == ST_PIPE_READ ? 1 : 0, other_fd = dir == ST_PIPE_READ ? 0 : 1;
  posix_spawn_file_actions_t fa;
  if (posix_spawn_file_actions_init(&fa) != 0) {
    close(p[0]);
    close(p[1]);
    return st_error("cannot start '%s': out of memory", argv[0]);
  }
  /* dup2 onto the standard stream clears close-on-exec there; the pipe's own
   * descriptors close at exec. */
  int bad = posix_spawn_file_actions_adddup2(&fa, child_end, child_fd) != 0 ||
            posix_spawn_file_actions_addopen(&fa, other_fd, "/dev/null", other_fd ? O_WRONLY : O_RDONLY, 0) != 0 ||
            (err_path && posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644) != 0);
  /* The child gets SIGPIPE's default action back: we ignore it, it should not. */
  posix_spawnattr_t attr;
  int have_attr = !bad && posix_spawnattr_init(&attr) == 0;
  sigset_t def;
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  bad = bad || !have_attr || posix_spawnattr_setsigdefault(&attr, &def) != 0 ||
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF) != 0;
  int e = bad ? ENOMEM : posix_spawnp(pid, argv[0], &fa, &attr, (char *const *)argv, environ);
  if (have_attr) posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  close(child_end);
  if (e != 0) {
    close(our_end);
    return st_error("cannot start '%s': %s", argv[0], strerror(e));
  }
  signal(SIGPIPE, SIG_IGN);
  *fd = our_end;
  return 0;
}

/* Reads exactly n bytes; returns n, fewer at the end of the stream, or -1. */
static ssize_t read_full(int fd, uint8_t *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

static int frame_dims(const st_tensor *t, const char *fn, int64_t *h, int64_t *w) {
  if (t->ndim != 3 || t->shape[0] != 3) return st_error("%s: expected a [3,H,W] frame", fn);
  if (st_tensor_device(t).kind != ST_CPU) return st_error("%s: the frame must be on the CPU", fn);
  *h = t->shape[1];
  *w = t->shape[2];
  return 0;
}

int st_pipe_read_frame(int fd, st_tensor *t) {
  int64_t H = 0, W = 0;
  if (frame_dims(t, "read_frame", &H, &W)) return -1;
  size_t n = (size_t)(H * W * 3);
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) return st_error("read_frame: out of memory for a %lldx%lld frame", (long long)W, (long long)H);
  ssize_t got = read_full(fd, buf, n);
  int rc;
  if (got < 0) {
    rc = st_error("read_frame: %s", strerror(errno));
  } else if (got == 0) {
    rc = 0;
  } else if ((size_t)got < n) {
    rc = st_error("read_frame: the stream ended inside a frame (%zd of %zu bytes)", got, n);
  } else {
    float *d = st_tensor_data(t);
    int64_t hw = H * W;
    for (int64_t i = 0; i < hw; i++)
      for (int c = 0; c < 3; c++) d[c * hw + i] = buf[i * 3 + c];
    rc = 1;
  }
  free(buf);
  return rc;
}

int st_pipe_write_frame(int fd, const st_tensor *t) {
  int64_t H = 0, W = 0;
  if (frame_dims(t, "write_frame", &H, &W)) return -1;
  size_t n = (size_t)(H * W * 3);
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) return st_error("write_frame: out of memory for a %lldx%lld frame", (long long)W, (long long)H);
  const float *d = st_tensor_data(t);
  int64_t hw = H * W;
  for (int64_t i = 0; i < hw; i++)
    for (int c = 0; c < 3; c++) {
      float v = d[c * hw + i];
      buf[i * 3 + c] = (uint8_t)(v != v ? 0 : v <= 0 ? 0 : v >= 255 ? 255 : lrintf(v));
    }
  size_t done = 0;
  int rc = 0;
  while (done < n) {
    ssize_t w = write(fd, buf + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      rc = st_error("write_frame: %s", errno == EPIPE ? "the encoder stopped reading (it exited)" : strerror(errno));
      break;
    }
    done += (size_t)w;
  }
  free(buf);
  return rc;
}

int st_pipe_read_all(int fd, size_t max, char **out, size_t *len) {
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  if (!buf) return st_error("read_all: out of memory");
  for (;;) {
    if (n == cap) {
      if (cap >= max) break;
      char *g = realloc(buf, (cap *= 2) + 1);
      if (!g) {
        free(buf);
        return st_error("read_all: out of memory");
      }
      buf = g;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      free(buf);
      return st_error("read_all: %s", strerror(errno));
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return 0;
}
