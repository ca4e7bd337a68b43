/* Image-folder dataset with a prefetch thread; see dataset.h.
 *
 * Threads: the caller's thread owns the delivery position and the totals; the
 * worker owns its production position, the epoch permutation, the per-file
 * "unreadable" cache and the resize buffer while it runs (they are handed over
 * by pthread_create / pthread_join). The two meet only in the slot queue,
 * guarded by `mu`: a slot in [head, head + count) is published and read only
 * by the caller; any other slot is the worker's to fill. */
#include "io/dataset.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "error.h"
#include "io/image.h"
#include "ops/ops.h"
#include "rng.h"

#define DEPTH 2 /* batches prepared ahead */

typedef struct {
  float *data;           /* [B, 3, N, N] */
  int64_t epoch, batch;  /* where it came from */
  int64_t nskip;         /* unreadable files at this batch's positions (<= B) */
  int64_t *skip_file;    /* [B]: their indices, */
  char **skip_msgs;      /* [B]: and messages (NULL only without memory) */
  int failed;            /* not a batch but a failure, err says which */
  char *err;
} slot;

struct st_dataset {
  char *dir;
  char **paths;
  int64_t n, nb; /* files, batches per epoch */
  int size, bs;
  uint64_t seed;

  /* caller's side */
  int64_t epoch, batch; /* next to deliver */
  unsigned char *counted; /* [n]: file already in skip_list */
  int64_t *skip_list;     /* unreadable files in the order first delivered, */
  char **skip_list_msg;   /* with their messages */
  int64_t skipped;        /* entries in skip_list */
  char *last_skip;

  /* worker's side */
  int64_t wepoch, wbatch, perm_epoch;
  int64_t *perm;
  unsigned char *bad; /* 1: failed to decode once; bad_msg[i] says why */
  char **bad_msg;
  st_tensor *resized; /* [1, 3, N, N] */

  /* shared */
  pthread_mutex_t mu;
  pthread_cond_t ready, space;
  pthread_t thread;
  int running, stop;
  slot q[DEPTH];
  int head, count;
};

/* A malloc'ed printf, or NULL. */
static char *xprintf(const char *fmt, ...) ST_PRINTF(1, 2);
static char *xprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (len < 0) return NULL;
  char *s = malloc((size_t)len + 1);
  if (!s) return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)len + 1, fmt, ap);
  va_end(ap);
  return s;
}

/* ---- Listing ---- */

typedef struct {
  dev_t dev;
  ino_t ino;
} dir_id;

typedef struct {
  char **v;
  int64_t n, cap;
  dir_id *seen; /* folders already read */
  int64_t nseen, capseen;
} listing;

static int has_image_ext(const char *name) {
  const char *dot = strrchr(name, '.');
  return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") || !strcasecmp(dot, ".png"));
}

/* p (an array of *cap elements) with room for `need`: p itself, a larger
 * copy, or NULL with an error (p is then untouched). */
static void *grow(void *p, int64_t *cap, int64_t need, size_t elem) {
  if (need <= *cap) return p;
  int64_t c = *cap ? *cap * 2 : 64;
  while (c < need) c *= 2;
  void *q = realloc(p, (size_t)c * elem);
  if (!q) {
    st_error("out of memory listing image files (%lld entries)", (long long)need);
    return NULL;
  }
  *cap = c;
  return q;
}

static int push_path(listing *ls, char *path) {
  char **v = grow(ls->v, &ls->cap, ls->n + 1, sizeof *ls->v);
  if (!v) {
    free(path);
    return -1;
  }
  ls->v = v;
  ls->v[ls->n++] = path;
  return 0;
}

/* Reads folder `path` (already stat'ed as st) and everything below it. Names
 * are collected and the folder closed before recursing, so deep trees do not
 * hold one descriptor per level. */
static int walk(listing *ls, const char *path, const struct stat *st) {
  for (int64_t i = 0; i < ls->nseen; i++)
    if (ls->seen[i].dev == st->st_dev && ls->seen[i].ino == st->st_ino) return 0; /* link loop or alias */
  dir_id *seen = grow(ls->seen, &ls->capseen, ls->nseen + 1, sizeof *ls->seen);
  if (!seen) return -1;
  ls->seen = seen;
  ls->seen[ls->nseen].dev = st->st_dev;
  ls->seen[ls->nseen].ino = st->st_ino;
  ls->nseen++;

  DIR *dh = opendir(path);
  if (!dh) return st_error("cannot read folder '%s': %s", path, strerror(errno));
  char **sub = NULL;
  int64_t nsub = 0, capsub = 0;
  int rc = 0;
  struct dirent *e;
  errno = 0;
  while (rc == 0 && (e = readdir(dh))) {
    const char *name = e->d_name;
    if (!strcmp(name, ".") || !strcmp(name, "..")) continue;
    int is_dir = e->d_type == DT_DIR, is_file = e->d_type == DT_REG;
    if (!is_dir && !is_file && e->d_type != DT_LNK && e->d_type != DT_UNKNOWN) continue;
    if (is_file && !has_image_ext(name)) continue;
    const size_t pl = strlen(path);
    char *child = xprintf(pl && path[pl - 1] == '/' ? "%s%s" : "%s/%s", path, name);
    if (!child) {
      rc = st_error("out of memory listing '%s'", path);
      break;
    }
    if (!is_dir && !is_file) { /* a link or an unknown type: ask stat (which follows links) */
      struct stat cs;
      if (stat(child, &cs) == 0 && S_ISDIR(cs.st_mode)) is_dir = 1;
      else is_file = has_image_ext(name); /* a dangling link is listed: its read error will say why */
    }
    if (is_dir) {
      char **more = grow(sub, &capsub, nsub + 1, sizeof *sub);
      if (more) {
        sub = more;
        sub[nsub++] = child;
      } else {
        free(child);
        rc = -1;
      }
    } else if (is_file) {
      rc = push_path(ls, child);
    } else {
      free(child);
    }
    errno = 0;
  }
  if (rc == 0 && errno) rc = st_error("cannot read folder '%s': %s", path, strerror(errno));
  closedir(dh);
  for (int64_t i = 0; i < nsub; i++) {
    struct stat cs;
    if (rc == 0) {
      if (stat(sub[i], &cs) != 0) rc = st_error("cannot read folder '%s': %s", sub[i], strerror(errno));
      else rc = walk(ls, sub[i], &cs);
    }
    free(sub[i]);
  }
  free(sub);
  return rc;
}

static int cmp_path(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* ---- Order ---- */

/* Epoch e's rng: seeded from a key drawn from `seed`, plus e, so for one seed
 * every epoch has its own stream and none depends on another. */
static void epoch_rng(st_rng *r, uint64_t seed, int64_t epoch) {
  st_rng_seed(r, seed);
  uint64_t base = st_rng_next_u64(r);
  st_rng_seed(r, base + (uint64_t)epoch);
}

int st_dataset_epoch_order(const st_dataset *d, int64_t epoch, int64_t *idx) {
  if (epoch < 0) return st_error("dataset '%s': epoch %lld is negative", d->dir, (long long)epoch);
  st_rng r;
  epoch_rng(&r, d->seed, epoch);
  st_rng_permutation(&r, idx, d->n);
  return 0;
}

/* ---- Worker ---- */

/* Decodes file f and squashes it into dst ([3, N, N]). 0; 1 when the file is
 * unreadable (now marked bad); -1 on a failure that is not the file's. */
static int load(st_dataset *d, int64_t f, float *dst) {
  st_tensor *img = st_image_read(d->paths[f]);
  if (!img) {
    d->bad[f] = 1;
    const char *m = st_last_error();
    d->bad_msg[f] = xprintf("%s", m[0] ? m : d->paths[f]); /* NULL only without memory: said below */
    return 1;
  }
  st_tensor *x = st_tensor_view(img, 4, (int64_t[]){1, 3, img->shape[1], img->shape[2]});
  int rc = x ? st_resize_bilinear_forward(d->resized, x) : -1;
  if (rc == 0) memcpy(dst, st_tensor_data(d->resized), (size_t)d->resized->numel * sizeof(float));
  else st_error_prefix("dataset: squashing '%s': ", d->paths[f]);
  st_tensor_release(x);
  st_tensor_release(img);
  return rc;
}

/* Fills s with batch (wepoch, wbatch). Position p of the epoch holds the
 * first readable file at or after p in the order (wrapping), so a batch does
 * not depend on which batches were made before it. */
static int fill_batch(st_dataset *d, slot *s) {
  s->epoch = d->wepoch;
  s->batch = d->wbatch;
  s->nskip = 0;
  if (d->perm_epoch != d->wepoch) {
    st_dataset_epoch_order(d, d->wepoch, d->perm);
    d->perm_epoch = d->wepoch;
  }
  const size_t plane = (size_t)3 * d->size * d->size;
  for (int j = 0; j < d->bs; j++) {
    const int64_t pos = d->wbatch * d->bs + j;
    int found = 0;
    for (int64_t t = 0; t < d->n && !found; t++) {
      const int64_t f = d->perm[(pos + t) % d->n];
      int rc = d->bad[f] ? 1 : load(d, f, s->data + (size_t)j * plane);
      if (rc < 0) {
        s->err = xprintf("%s", st_last_error());
        return -1;
      }
      if (rc == 0) found = 1;
      else if (t == 0) { /* this position's own file: one skip */
        s->skip_file[s->nskip] = f;
        s->skip_msgs[s->nskip] = d->bad_msg[f] ? xprintf("%s", d->bad_msg[f])
                                               : xprintf("'%s' could not be read", d->paths[f]);
        s->nskip++;
      }
    }
    if (!found) {
      const char *last = d->bad_msg[d->perm[pos % d->n]];
      s->err = xprintf("dataset '%s': none of its %lld image files could be read (e.g. %s)", d->dir,
                       (long long)d->n, last ? last : d->paths[d->perm[pos % d->n]]);
      return -1;
    }
  }
  return 0;
}

static void *worker_main(void *arg) {
  st_dataset *d = arg;
#ifdef _OPENMP
  /* Per-thread setting: decoding stays on this one thread; the cores belong to training. */
  omp_set_num_threads(1);
#endif
  pthread_mutex_lock(&d->mu);
  for (;;) {
    while (!d->stop && d->count == DEPTH) pthread_cond_wait(&d->space, &d->mu);
    if (d->stop) break;
    slot *s = &d->q[(d->head + d->count) % DEPTH];
    pthread_mutex_unlock(&d->mu);
    s->failed = fill_batch(d, s) != 0;
    if (!s->failed && ++d->wbatch == d->nb) {
      d->wbatch = 0;
      d->wepoch++;
    }
    pthread_mutex_lock(&d->mu);
    d->count++;
    pthread_cond_signal(&d->ready);
    if (s->failed) break; /* the failure is delivered in order; nothing after it */
  }
  pthread_mutex_unlock(&d->mu);
  return NULL;
}

static void clear_slot(slot *s) {
  for (int64_t k = 0; k < s->nskip; k++) {
    free(s->skip_msgs[k]);
    s->skip_msgs[k] = NULL;
  }
  free(s->err);
  s->err = NULL;
  s->nskip = 0;
  s->failed = 0;
}

static void stop_worker(st_dataset *d) {
  if (!d->running) return;
  pthread_mutex_lock(&d->mu);
  d->stop = 1;
  pthread_cond_broadcast(&d->space);
  pthread_mutex_unlock(&d->mu);
  pthread_join(d->thread, NULL);
  d->running = 0;
  d->stop = 0;
  for (int i = 0; i < DEPTH; i++) clear_slot(&d->q[i]);
  d->head = d->count = 0;
}

static int start_worker(st_dataset *d) {
  d->wepoch = d->epoch;
  d->wbatch = d->batch;
  d->stop = 0;
  d->head = d->count = 0;
  int e = pthread_create(&d->thread, NULL, worker_main, d);
  if (e) return st_error("dataset '%s': cannot start the prefetch thread: %s", d->dir, strerror(e));
  d->running = 1;
  return 0;
}

/* ---- Public ---- */

st_dataset *st_dataset_open(const char *dir, int image_size, int batch_size, uint64_t seed) {
  if (!dir || !dir[0]) {
    st_error("st_dataset_open: no folder given");
    return NULL;
  }
  if (image_size < 1 || image_size > 65536) {
    st_error("st_dataset_open('%s'): image size %d is outside 1..65536", dir, image_size);
    return NULL;
  }
  if (batch_size < 1 || batch_size > (((int64_t)1 << 31) / (3 * (int64_t)image_size * image_size))) {
    st_error("st_dataset_open('%s'): batch size %d must be >= 1 and a batch of %dx%d images at most 2^31 values",
             dir, batch_size, image_size, image_size);
    return NULL;
  }
  struct stat st;
  if (stat(dir, &st) != 0) {
    st_error("cannot open dataset folder '%s': %s", dir, strerror(errno));
    return NULL;
  }
  if (!S_ISDIR(st.st_mode)) {
    st_error("dataset folder '%s' is not a folder", dir);
    return NULL;
  }

  st_dataset *d = calloc(1, sizeof *d);
  if (!d || !(d->dir = xprintf("%s", dir))) {
    free(d);
    st_error("st_dataset_open('%s'): out of memory", dir);
    return NULL;
  }
  /* "a/b/" -> "a/b", so paths read "a/b/x.jpg" (but "/" stays "/"). */
  for (size_t l = strlen(d->dir); l > 1 && d->dir[l - 1] == '/'; l--) d->dir[l - 1] = '\0';
  d->size = image_size;
  d->bs = batch_size;
  d->seed = seed;
  d->perm_epoch = -1;
  pthread_mutex_init(&d->mu, NULL);
  pthread_cond_init(&d->ready, NULL);
  pthread_cond_init(&d->space, NULL);

  listing ls = {0};
  int rc = walk(&ls, d->dir, &st);
  free(ls.seen);
  d->paths = ls.v;
  d->n = ls.n;
  if (rc != 0) goto fail;
  if (d->n == 0) {
    st_error("'%s' holds no .jpg/.jpeg/.png images", dir);
    goto fail;
  }
  if (d->n < batch_size) {
    st_error("'%s' holds %lld images, fewer than the batch size %d", dir, (long long)d->n, batch_size);
    goto fail;
  }
  qsort(d->paths, (size_t)d->n, sizeof *d->paths, cmp_path);
  d->nb = d->n / batch_size;

  const size_t batch_floats = (size_t)batch_size * 3 * image_size * image_size;
  d->perm = malloc((size_t)d->n * sizeof *d->perm);
  d->bad = calloc((size_t)d->n, 1);
  d->bad_msg = calloc((size_t)d->n, sizeof *d->bad_msg);
  int ok = d->perm && d->bad && d->bad_msg;
  d->counted = calloc((size_t)d->n, 1);
  d->skip_list = malloc((size_t)d->n * sizeof *d->skip_list);
  d->skip_list_msg = calloc((size_t)d->n, sizeof *d->skip_list_msg);
  ok = ok && d->counted && d->skip_list && d->skip_list_msg;
  for (int i = 0; i < DEPTH && ok; i++)
    ok = (d->q[i].data = malloc(batch_floats * sizeof(float))) != NULL &&
         (d->q[i].skip_file = malloc((size_t)batch_size * sizeof *d->q[i].skip_file)) != NULL &&
         (d->q[i].skip_msgs = calloc((size_t)batch_size, sizeof *d->q[i].skip_msgs)) != NULL;
  if (!ok) {
    st_error("st_dataset_open('%s'): out of memory for %lld files and %d batches of %zu floats", dir,
             (long long)d->n, DEPTH, batch_floats);
    goto fail;
  }
  if (!(d->resized = st_tensor_new4(1, 3, image_size, image_size, st_cpu()))) goto fail;
  return d;

fail:
  st_dataset_close(d);
  return NULL;
}

int64_t st_dataset_count(const st_dataset *d) { return d->n; }
int64_t st_dataset_batches_per_epoch(const st_dataset *d) { return d->nb; }
int st_dataset_image_size(const st_dataset *d) { return d->size; }
int st_dataset_batch_size(const st_dataset *d) { return d->bs; }

const char *st_dataset_path(const st_dataset *d, int64_t i) {
  if (i < 0 || i >= d->n) {
    st_error("dataset '%s': file index %lld is outside 0..%lld", d->dir, (long long)i, (long long)d->n - 1);
    return NULL;
  }
  return d->paths[i];
}

int st_dataset_seek(st_dataset *d, int64_t epoch, int64_t batch_index) {
  if (epoch < 0 || batch_index < 0 || batch_index >= d->nb)
    return st_error("dataset '%s': cannot seek to epoch %lld batch %lld: the epoch must be >= 0 and the batch in "
                    "0..%lld (%lld images in batches of %d)",
                    d->dir, (long long)epoch, (long long)batch_index, (long long)d->nb - 1, (long long)d->n, d->bs);
  stop_worker(d);
  d->epoch = epoch;
  d->batch = batch_index;
  return 0;
}

int st_dataset_next(st_dataset *d, st_tensor *out, int64_t *epoch, int64_t *batch_index) {
  const int64_t want[4] = {d->bs, 3, d->size, d->size};
  if (!out) return st_error("st_dataset_next: no output tensor");
  if (st_check_shape(out, 4, want, "st_dataset_next: out")) return -1;
  if (st_tensor_device(out).kind != ST_CPU)
    return st_error("st_dataset_next: out must be a CPU tensor, not on %s", st_device_name(st_tensor_device(out)));
  if (!d->running && start_worker(d)) return -1;

  pthread_mutex_lock(&d->mu);
  while (d->count == 0) pthread_cond_wait(&d->ready, &d->mu);
  slot *s = &d->q[d->head];
  pthread_mutex_unlock(&d->mu);
  /* s is published: the worker leaves it alone until it is popped below. */
  if (s->failed) /* stays queued: the same error until a seek */
    return st_error("%s", s->err ? s->err : "dataset: the prefetch thread ran out of memory");

  memcpy(st_tensor_data(out), s->data, (size_t)out->numel * sizeof(float));
  if (epoch) *epoch = s->epoch;
  if (batch_index) *batch_index = s->batch;
  d->epoch = s->epoch;
  d->batch = s->batch + 1;
  if (d->batch == d->nb) {
    d->batch = 0;
    d->epoch++;
  }
  /* Skips are counted per file: a file unreadable in every epoch is one. */
  for (int64_t k = 0; k < s->nskip; k++) {
    const int64_t f = s->skip_file[k];
    free(d->last_skip);
    d->last_skip = xprintf("%s", s->skip_msgs[k] ? s->skip_msgs[k] : d->paths[f]);
    if (d->counted[f]) continue;
    d->counted[f] = 1;
    d->skip_list[d->skipped] = f;
    d->skip_list_msg[d->skipped++] = s->skip_msgs[k];
    s->skip_msgs[k] = NULL;
  }
  clear_slot(s);

  pthread_mutex_lock(&d->mu);
  d->head = (d->head + 1) % DEPTH;
  d->count--;
  pthread_cond_signal(&d->space);
  pthread_mutex_unlock(&d->mu);
  return 0;
}

int64_t st_dataset_skipped(const st_dataset *d) { return d->skipped; }

const char *st_dataset_skipped_path(const st_dataset *d, int64_t i) {
  return i >= 0 && i < d->skipped ? d->paths[d->skip_list[i]] : NULL;
}

const char *st_dataset_skipped_message(const st_dataset *d, int64_t i) {
  if (i < 0 || i >= d->skipped) return NULL;
  return d->skip_list_msg[i] ? d->skip_list_msg[i] : "(could not be read)";
}
const char *st_dataset_last_skip_message(const st_dataset *d) { return d->last_skip ? d->last_skip : ""; }

void st_dataset_close(st_dataset *d) {
  if (!d) return;
  stop_worker(d);
  for (int i = 0; i < DEPTH; i++) {
    clear_slot(&d->q[i]);
    free(d->q[i].data);
    free(d->q[i].skip_file);
    free(d->q[i].skip_msgs);
  }
  for (int64_t i = 0; i < d->n; i++) {
    free(d->paths[i]);
    if (d->bad_msg) free(d->bad_msg[i]);
    if (d->skip_list_msg) free(d->skip_list_msg[i]);
  }
  free(d->counted);
  free(d->skip_list);
  free(d->skip_list_msg);
  free(d->paths);
  free(d->bad_msg);
  free(d->bad);
  free(d->perm);
  free(d->last_skip);
  st_tensor_release(d->resized);
  pthread_cond_destroy(&d->space);
  pthread_cond_destroy(&d->ready);
  pthread_mutex_destroy(&d->mu);
  free(d->dir);
  free(d);
}
