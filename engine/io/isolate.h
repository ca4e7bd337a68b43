/* Reading untrusted HDF5 files in a child process.
 *
 * libhdf5 1.10 crashes on some corrupt files (a 2 KB file found by fuzzing
 * makes it copy through a NULL pointer while listing a group's links, with
 * H5Gget_create_plist, H5Literate or H5Gget_info alike); no check that strata
 * could make beforehand avoids every such path. So a loader that parses a
 * file with HDF5 runs in a forked child, which sends the weights (or its
 * error message) back through a pipe. A crash, abort or kill of the child
 * becomes one error naming the file, and the calling process carries on.
 *
 * The child only parses and writes to the pipe: no Lua, no GPU, no threads
 * of its own. Where fork is impossible (out of memory, process limits), the
 * loader runs in the calling process, as before. */
#ifndef STRATA_IO_ISOLATE_H
#define STRATA_IO_ISOLATE_H

#include "weights.h"

/* load(path) in a child process; the weights it returns, or NULL with its
 * error, or NULL with "<path>: reading the file crashed the HDF5 library
 * (<signal>): the file is corrupt". `what` names the kind of file in that
 * message ("HDF5 weights file", "Keras weights file"). */
st_weights *st_load_isolated(st_weights *(*load)(const char *path), const char *path, const char *what);

/* The same in two halves, so that the caller can start other work once the
 * child is forked: _start forks (NULL only when out of memory, with an
 * error); _finish receives, waits for the child and frees h. Threads the
 * caller starts in between do not exist in the child: a child forked while
 * another thread holds a lock (a sanitizer's allocator's, in `make asan`)
 * would wait for it forever. (st_isolated is declared in weights.h.) */
st_isolated *st_load_isolated_start(st_weights *(*load)(const char *path), const char *path, const char *what);
st_weights *st_load_isolated_finish(st_isolated *h);

#endif
