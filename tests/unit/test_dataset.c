/* Image-folder dataset: listing (recursive, case-insensitive extensions, no
 * link loops), squash to N x N, per-epoch seeded order, drop-last batching,
 * exact resume by seek, skipping of corrupt files, and the error messages.
 * Every image is written with a colour that encodes its index, so each batch
 * slot tells which file landed there. Files go to a mkdtemp() folder. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "io/dataset.h"
#include "io/image.h"
#include "tap.h"

#define NIMG 10
#define N 8  /* squash size */
#define B 3  /* batch */

static char root[64];

/* Image k: R = 20k + 10 everywhere (its identity). PNGs (lossless) also carry
 * a geometry mark: G = 0 in the left quarter of the columns, else 255, and
 * B = 0 in the top quarter of the rows, else 255; JPEGs are one flat colour
 * (flat blocks survive JPEG almost exactly). */
static const int sizes[NIMG][2] = {{5, 7}, {30, 20}, {12, 40}, {64, 48}, {9, 9},
                                   {50, 13}, {16, 16}, {33, 70}, {8, 3}, {100, 60}};
static const char *names[NIMG] = {"a/img0.png",   "a/b/img1.jpg", "IMG2.JPEG",     "c/d/e/img3.Png",
                                  "img4.jpg",     "a/img5.jpeg",  "c/img6.png",    "c/d/img7.JPG",
                                  "z/img8.png",   "a/b/img9.jpg"};
static int is_png(int k) { return strcasestr(names[k], ".png") != NULL; }

static const char *P(const char *sub, const char *name) {
  static char buf[8][256];
  static int i;
  char *b = buf[i++ % 8];
  snprintf(b, sizeof buf[0], "%s/%s/%s", root, sub, name);
  return b;
}

/* mkdir -p for the folders of path. */
static void make_parents(const char *path) {
  char tmp[256];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *s = tmp + strlen(root) + 1; (s = strchr(s, '/')); s++) {
    *s = '\0';
    mkdir(tmp, 0755);
    *s = '/';
  }
}

static int write_image(const char *path, int k) {
  int w = sizes[k][0], h = sizes[k][1];
  st_tensor *t = st_tensor_new(3, (int64_t[]){3, h, w}, st_cpu());
  float *p = st_tensor_data(t);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      p[(0 * h + y) * w + x] = 20.0f * k + 10;
      p[(1 * h + y) * w + x] = is_png(k) ? (x < w / 4.0 ? 0 : 255) : 200;
      p[(2 * h + y) * w + x] = is_png(k) ? (y < h / 4.0 ? 0 : 255) : 100;
    }
  make_parents(path);
  int rc = st_image_write(path, t);
  st_tensor_release(t);
  return rc;
}

static void write_bytes(const char *path, const unsigned char *b, size_t n) {
  make_parents(path);
  FILE *f = fopen(path, "wb");
  if (f) {
    fwrite(b, 1, n, f);
    fclose(f);
  }
}

/* Corrupt files: random bytes, and a JPEG signature followed by garbage. */
static void write_corrupt(const char *sub) {
  unsigned char b[600];
  unsigned s = 99;
  for (size_t i = 0; i < sizeof b; i++) b[i] = (unsigned char)((s = s * 1103515245u + 12345u) >> 16);
  write_bytes(P(sub, "bad_random.jpg"), b, sizeof b);
  b[0] = 0xff, b[1] = 0xd8, b[2] = 0xff, b[3] = 0xe0;
  write_bytes(P(sub, "q/bad_trunc.jpg"), b, sizeof b);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(p);
}

/* Index of image whose file is `path` (from "imgK"), -1 for a corrupt one. */
static int index_of_path(const char *path) {
  const char *s = strstr(path, "img");
  if (!s) s = strstr(path, "IMG");
  return s ? s[3] - '0' : -1;
}

/* The image in slot j of a [B,3,N,N] batch: -1 unless the slot is flat in R
 * and R names an image; JPEGs must be flat in G and B too. */
static int index_of_slot(const float *batch, int j) {
  const float *r = batch + (size_t)j * 3 * N * N;
  float r0 = r[0];
  int k = (int)((r0 - 10) / 20 + 0.5f);
  if (k < 0 || k >= NIMG || r0 < 20.0f * k + 10 - 4 || r0 > 20.0f * k + 10 + 4) return -1;
  for (int i = 0; i < N * N; i++)
    if (r[i] < r0 - 2 || r[i] > r0 + 2) return -1;
  if (!is_png(k))
    for (int i = 0; i < N * N; i++)
      if (r[N * N + i] < 195 || r[N * N + i] > 205 || r[2 * N * N + i] < 95 || r[2 * N * N + i] > 105) return -1;
  return k;
}

/* PNG slots: the marks must cover the first quarter of the columns / rows of
 * the N x N square however the source was shaped (a crop or letterbox would not). */
static int squash_ok(const float *batch, int j) {
  const float *g = batch + (size_t)j * 3 * N * N + N * N, *b = g + N * N;
  for (int y = 0; y < N; y++)
    for (int x = 0; x < N; x++) {
      float gx = g[y * N + x], by = b[y * N + x];
      if ((x == 0 && gx > 60) || (x >= N / 2 && gx < 250)) return 0;
      if ((y == 0 && by > 60) || (y >= N / 2 && by < 250)) return 0;
    }
  return 1;
}

#define EPOCHS 4
#define NB_CLEAN (NIMG / B)
static float run_clean[EPOCHS * NB_CLEAN][B * 3 * N * N];

int main(void) {
  snprintf(root, sizeof root, "/tmp/strata_dataset_XXXXXX");
  if (!mkdtemp(root)) tap_skip_all("mkdtemp failed");

  /* clean/: the ten images, a .txt, a link loop; dirty/: the same plus two corrupt .jpg. */
  int wrote = 1;
  for (int k = 0; k < NIMG; k++) wrote &= write_image(P("clean", names[k]), k) == 0;
  for (int k = 0; k < NIMG; k++) wrote &= write_image(P("dirty", names[k]), k) == 0;
  write_bytes(P("clean", "a/notes.txt"), (const unsigned char *)"hello", 5);
  write_bytes(P("dirty", "readme.txt"), (const unsigned char *)"hello", 5);
  int linked = symlink("..", P("clean", "a/b/up")) == 0;
  write_corrupt("dirty");
  write_corrupt("allbad");
  write_bytes(P("noimg", "sub/x.txt"), (const unsigned char *)"x", 1);
  write_bytes(P("few", "img0.jpg"), (const unsigned char *)"x", 1);
  tap_ok(wrote && linked, "wrote the test tree under %s", root);

  /* ---- listing ---- */
  st_dataset *d = st_dataset_open(P("clean", ""), N, B, 42);
  if (!tap_ok(d != NULL, "open clean folder: %s", d ? "ok" : st_last_error())) return tap_done();
  tap_ok(st_dataset_count(d) == NIMG, "count %lld == %d: the .txt is left out, the link loop read once",
         (long long)st_dataset_count(d), NIMG);
  tap_ok(st_dataset_batches_per_epoch(d) == NB_CLEAN, "batches per epoch = floor(10 / 3) = 3");
  int sorted = 1, seen[NIMG] = {0};
  for (int64_t i = 0; i < st_dataset_count(d); i++) {
    const char *p = st_dataset_path(d, i);
    if (i > 0 && strcmp(st_dataset_path(d, i - 1), p) >= 0) sorted = 0;
    int k = index_of_path(p);
    if (k >= 0) seen[k]++;
    if (strstr(p, "//") || strstr(p, "/up/")) sorted = 0;
  }
  int all = 1;
  for (int k = 0; k < NIMG; k++) all &= seen[k] == 1;
  tap_ok(sorted && all, "paths sorted by strcmp, clean, each image listed once (mixed-case extensions, nested)");
  tap_ok(st_dataset_path(d, NIMG) == NULL, "path out of range -> NULL");

  /* ---- an uninterrupted run: positions, contents, order ---- */
  st_tensor *out = st_tensor_new4(B, 3, N, N, st_cpu());
  int pos_ok = 1, slots_ok = 1, once_ok = 1, geo_ok = 1, ngeo = 0;
  int order[EPOCHS][NB_CLEAN * B];
  for (int it = 0; it < EPOCHS * NB_CLEAN; it++) {
    int64_t e = -1, bi = -1;
    if (st_dataset_next(d, out, &e, &bi) != 0) {
      tap_ok(0, "next failed: %s", st_last_error());
      return tap_done();
    }
    if (e != it / NB_CLEAN || bi != it % NB_CLEAN) pos_ok = 0;
    memcpy(run_clean[it], st_tensor_data(out), sizeof run_clean[it]);
    int64_t perm[NIMG];
    st_dataset_epoch_order(d, e, perm);
    for (int j = 0; j < B; j++) {
      int k = index_of_slot(run_clean[it], j);
      order[e][bi * B + j] = k;
      if (k < 0 || k != index_of_path(st_dataset_path(d, perm[bi * B + j]))) slots_ok = 0;
      if (k >= 0 && is_png(k)) {
        ngeo++;
        geo_ok &= squash_ok(run_clean[it], j);
      }
    }
  }
  for (int e = 0; e < EPOCHS; e++) {
    int cnt[NIMG] = {0};
    for (int i = 0; i < NB_CLEAN * B; i++)
      if (order[e][i] >= 0) cnt[order[e][i]]++;
    int missing = 0;
    for (int k = 0; k < NIMG; k++) {
      if (cnt[k] > 1) once_ok = 0;
      missing += cnt[k] == 0;
    }
    if (missing != NIMG - NB_CLEAN * B) once_ok = 0;
  }
  tap_ok(pos_ok, "next reports (epoch, batch) = (0,0) (0,1) (0,2) (1,0) ... for %d epochs", EPOCHS);
  tap_ok(slots_ok, "slot j of batch k holds file order[k*B + j] of its epoch, flat colour intact");
  tap_ok(once_ok, "each epoch: every image at most once, exactly %d left out (the dropped remainder)",
         NIMG - NB_CLEAN * B);
  tap_ok(geo_ok && ngeo > 0, "squashed to %dx%d without crop: quarter marks land on the quarter (%d PNG slots)", N,
         N, ngeo);
  int epoch_differs = 0;
  for (int e = 1; e < EPOCHS; e++) epoch_differs += memcmp(order[e], order[0], sizeof order[0]) != 0;
  tap_ok(epoch_differs == EPOCHS - 1, "epochs 1..%d each have another order than epoch 0", EPOCHS - 1);
  tap_ok(st_dataset_skipped(d) == 0 && st_dataset_last_skip_message(d)[0] == '\0', "clean folder: nothing skipped");

  /* ---- same seed: same bytes; other seed: other order ---- */
  st_dataset *d2 = st_dataset_open(P("clean", ""), N, B, 42);
  int same = d2 != NULL;
  for (int it = 0; same && it < 2 * NB_CLEAN; it++)
    same = st_dataset_next(d2, out, NULL, NULL) == 0 && !memcmp(st_tensor_data(out), run_clean[it], sizeof run_clean[0]);
  tap_ok(same, "same seed -> identical batches, byte for byte, over two epochs");

  st_dataset *d3 = st_dataset_open(P("clean", ""), N, B, 43);
  int other[NB_CLEAN * B];
  for (int it = 0; d3 && it < NB_CLEAN; it++) {
    st_dataset_next(d3, out, NULL, NULL);
    for (int j = 0; j < B; j++) other[it * B + j] = index_of_slot(st_tensor_data(out), j);
  }
  tap_ok(d3 && memcmp(other, order[0], sizeof other) != 0, "seed 43 gives another epoch-0 order than seed 42");
  st_dataset_close(d3);

  /* ---- seek: any position, in any order, while the prefetch thread is busy ---- */
  static const int seeks[][2] = {{3, 1}, {0, 2}, {1, 0}, {2, 2}, {0, 0}, {3, 2}, {1, 1}};
  int seek_ok = 1;
  for (size_t s = 0; s < sizeof seeks / sizeof seeks[0]; s++) {
    int e = seeks[s][0], k = seeks[s][1];
    int64_t ge, gk;
    if (st_dataset_seek(d2, e, k) != 0) seek_ok = 0;
    for (int step = 0; step < 2 && e * NB_CLEAN + k + step < EPOCHS * NB_CLEAN; step++) {
      int it = e * NB_CLEAN + k + step;
      if (st_dataset_next(d2, out, &ge, &gk) != 0 || ge != it / NB_CLEAN || gk != it % NB_CLEAN ||
          memcmp(st_tensor_data(out), run_clean[it], sizeof run_clean[0]))
        seek_ok = 0;
    }
  }
  tap_ok(seek_ok, "seek(e, k) then next gives exactly the uninterrupted run's batches at (e, k) and after");
  tap_ok(st_dataset_seek(d2, 0, NB_CLEAN) == -1 && strstr(st_last_error(), "0..2"),
         "seek past the epoch's batches refused: %s", st_last_error());
  tap_ok(st_dataset_seek(d2, -1, 0) == -1, "negative epoch refused");
  st_tensor *wrong = st_tensor_new4(B, 3, N + 1, N, st_cpu());
  tap_ok(st_dataset_next(d2, wrong, NULL, NULL) == -1 && strstr(st_last_error(), "out"),
         "next with a wrongly shaped out refused: %s", st_last_error());
  st_tensor_release(wrong);
  st_dataset_close(d2); /* with batches prefetched: the thread stops, nothing leaks */
  st_dataset_close(d);

  /* ---- corrupt files: skipped, counted, named; never a crash ---- */
  d = st_dataset_open(P("dirty", ""), N, B, 7);
  if (!tap_ok(d != NULL, "open dirty folder: %s", d ? "ok" : st_last_error())) return tap_done();
  const int64_t n = st_dataset_count(d);
  tap_ok(n == NIMG + 2, "dirty count %lld: 10 images + 2 corrupt .jpg, the .txt left out", (long long)n);
  const int nb = (int)(n / B);
  int skip_pos_ok = 1, dirty_ok = 1;
  int64_t expect_skips = 0;
  for (int e = 0; e < 2; e++) {
    int64_t perm[NIMG + 2];
    st_dataset_epoch_order(d, e, perm);
    for (int k = 0; k < nb; k++) {
      int64_t ge, gk;
      if (st_dataset_next(d, out, &ge, &gk) != 0) {
        dirty_ok = 0;
        break;
      }
      if (ge != e || gk != k) skip_pos_ok = 0;
      for (int j = 0; j < B; j++) {
        int64_t p = k * B + j, want = -1;
        /* the first readable file at or after this position, wrapping */
        for (int64_t t = 0; t < n && want < 0; t++) want = index_of_path(st_dataset_path(d, perm[(p + t) % n]));
        expect_skips += index_of_path(st_dataset_path(d, perm[p])) < 0;
        if (index_of_slot(st_tensor_data(out), j) != want) dirty_ok = 0;
      }
    }
  }
  const char *msg = st_dataset_last_skip_message(d);
  tap_ok(dirty_ok && skip_pos_ok, "two epochs over a folder with corrupt files: each slot holds the next readable file");
  /* 4 skip events (each corrupt file's position, in each of 2 epochs), but 2 files. */
  tap_ok(expect_skips == 4 && st_dataset_skipped(d) == 2,
         "skipped files %lld == 2 (2 corrupt files met in %lld slots over 2 epochs)", (long long)st_dataset_skipped(d),
         (long long)expect_skips);
  const char *s0 = st_dataset_skipped_path(d, 0), *s1 = st_dataset_skipped_path(d, 1);
  tap_ok(s0 && s1 && strcmp(s0, s1) != 0 && (strstr(s0, "bad_random.jpg") || strstr(s0, "bad_trunc.jpg")) &&
             (strstr(s1, "bad_random.jpg") || strstr(s1, "bad_trunc.jpg")) && !st_dataset_skipped_path(d, 2),
         "the skipped files are listed once each: %s, %s", s0 ? s0 : "-", s1 ? s1 : "-");
  const char *m0 = st_dataset_skipped_message(d, 0);
  tap_ok(m0 && s0 && strstr(m0, strrchr(s0, '/') + 1), "with a message naming the file: %s", m0 ? m0 : "-");
  tap_ok(strstr(msg, "bad_random.jpg") || strstr(msg, "bad_trunc.jpg"), "last skip message names the file: %s", msg);
  st_dataset_close(d);

  st_tensor *one = st_tensor_new4(1, 3, N, N, st_cpu());
  d = st_dataset_open(P("allbad", ""), N, 1, 7);
  int rc1 = d ? st_dataset_next(d, one, NULL, NULL) : 0;
  char m1[512];
  snprintf(m1, sizeof m1, "%s", st_last_error());
  tap_ok(d && rc1 == -1 && strstr(m1, "none of its 2 image files could be read"),
         "a folder with nothing readable: next errors: %s", m1);
  tap_ok(d && st_dataset_next(d, one, NULL, NULL) == -1 && !strcmp(st_last_error(), m1),
         "and keeps failing the same way instead of hanging");
  tap_ok(d && st_dataset_seek(d, 0, 1) == 0 && st_dataset_next(d, one, NULL, NULL) == -1,
         "after a seek it fails again (thread restarted and stopped cleanly)");
  st_tensor_release(one);
  st_dataset_close(d);

  /* ---- folder errors ---- */
  const char *noimg = P("noimg", "");
  d = st_dataset_open(noimg, N, B, 1);
  char want[300];
  snprintf(want, sizeof want, "'%s' holds no .jpg/.jpeg/.png images", noimg);
  tap_ok(!d && !strcmp(st_last_error(), want), "no images: %s", st_last_error());
  d = st_dataset_open(P("missing", ""), N, B, 1);
  tap_ok(!d && strstr(st_last_error(), "missing") && strstr(st_last_error(), "No such file"), "missing folder: %s",
         st_last_error());
  d = st_dataset_open(P("dirty", "img4.jpg"), N, B, 1);
  tap_ok(!d && strstr(st_last_error(), "img4.jpg") && strstr(st_last_error(), "not a folder"), "a file: %s",
         st_last_error());
  d = st_dataset_open(P("few", ""), N, B, 1);
  tap_ok(!d && strstr(st_last_error(), "fewer than the batch size 3"), "fewer images than a batch: %s",
         st_last_error());
  d = st_dataset_open(P("clean", ""), 0, B, 1);
  tap_ok(!d && strstr(st_last_error(), "image size 0"), "size 0 refused: %s", st_last_error());

  st_tensor_release(out);
  nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
  return tap_done();
}
