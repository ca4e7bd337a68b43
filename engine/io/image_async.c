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

static void wait_for(st_image_pending *p) {
  if (p->threaded) pthread_join(p->thread, NULL);
  p->threaded = 0;
}

st_tensor *st_image_read_finish(st_image_pending *p) {
  wait_for(p);
  st_tensor *img = p->img;
  if (!img) st_error("%s", p->err);
  free(p->path);
  free(p);
  return img;
}

void st_image_read_abandon(st_image_pending *p) {
  wait_for(p);
  st_tensor_release(p->img);
  free(p->path);
  free(p);
}
