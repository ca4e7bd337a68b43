/* A child process joined to this one by a pipe (its stdout we read, or its
 * stdin we write), started with posix_spawn and an argument vector: no
 * shell ever sees a path. Used to stream raw video frames through ffmpeg.
 * Functions return 0 or -1 with an st_error(). */
#ifndef STRATA_IO_PIPE_H
#define STRATA_IO_PIPE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../tensor.h"

typedef enum { ST_PIPE_READ = 0, ST_PIPE_WRITE = 1 } st_pipe_dir;

/* Starts argv[0] (found on PATH when it has no '/') with its stdout (READ)
 * or stdin (WRITE) on a pipe whose other end is *fd (close-on-exec), the
 * other standard stream on /dev/null, and stderr into err_path (created or
 * truncated; NULL: this process's stderr). Ignores SIGPIPE from then on, so
 * a child that dies makes a write fail with EPIPE instead of killing us. */
int st_pipe_open(const char *const *argv, st_pipe_dir dir, const char *err_path, pid_t *pid, int *fd);

/* Reads one rgb24 frame (H*W*3 bytes, rows top to bottom) into t [3,H,W] as
 * 0..255 floats. Returns 1 with a frame, 0 at the end of the stream (before
 * any byte of a frame), -1 on an error or a truncated frame. */
int st_pipe_read_frame(int fd, st_tensor *t);

/* Writes t [3,H,W] as one rgb24 frame (rounded, clamped to 0..255). */
int st_pipe_write_frame(int fd, const st_tensor *t);

/* Reads everything up to the end of the stream (at most max bytes) into a
 * malloc'ed, NUL-terminated buffer. */
int st_pipe_read_all(int fd, size_t max, char **out, size_t *len);

#endif
