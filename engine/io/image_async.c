#include "image_async.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../error.h"
#include "image.h"

struct st_image_pending {
  pthread_t thread;
  int threaded; /* a thread to join */
  st_tensor *img;
  char *path;
  char err[1024]; /* the thread's error (errors are per thread) */
};

static void *read_main(void *arg) {
  st_image_pending *p = arg;
  p->img = st_image_read(p->path);
  if (!p->img) snprintf(p->err, sizeof p->err, "%s", st_last_error());
  return NULL;
}

st_image_pending *st_image_read_start(const char *path) {
  st_image_pending *p = calloc(1, sizeof *p);
  if (p) p->path = strdup(path);
  if (!p || !p->path) {
    free(p);
    st_error("%s: out of memory starting to read the image", path);
    return NULL;
  }
  p->threaded = pthread_create(&p->thread, NULL, read_main, p) == 0;
  if (!p->threaded) read_main(p);
  return p;
}

/* Joins the thread, frees p and returns its image (NULL: p->err says why,
 * copied to *err). */
static st_tensor *collect(st_image_pending *p, char *err, size_t n) {
  if (p->threaded) pthread_join(p->thread, NULL);
  st_tensor *img = p->img;
  if (!img && err) snprintf(err, n, "%s", p->err);
  free(p->path);
  free(p);
  return img;
}

st_tensor *st_image_read_finish(st_image_pending *p) {
  char err[sizeof p->err];
  st_tensor *img = collect(p, err, sizeof err);
  if (!img) st_error("%s", err);
  return img;
}

void st_image_read_abandon(st_image_pending *p) { st_tensor_release(collect(p, NULL, 0)); }
