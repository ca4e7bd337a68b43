/* Training images from a folder: listing, seeded per-epoch shuffling,
 * squash-resizing to N x N, batching, and a prefetch thread.
 *
 * Order. The files are the .jpg/.jpeg/.png (any case) found under the folder
 * recursively, sorted by path with strcmp, so every machine sees the same
 * list. Epoch e visits them in the permutation drawn from an rng seeded from
 * (seed, e) alone (st_dataset_epoch_order), so a run resumes at any
 * (epoch, batch) exactly, without replaying earlier epochs. An epoch has
 * floor(count / B) batches; batch k takes the files at positions
 * k*B .. k*B+B-1 of that permutation; the last partial batch is dropped.
 *
 * Unreadable files. A file that fails to decode fills its slot with the next
 * readable file after it in the epoch's order (wrapping around), so a batch
 * still depends only on its (epoch, batch) and the folder's contents.
 * Unreadable files are counted once each (not once per epoch or slot), in
 * the order they were first delivered, with their messages; a file that
 * failed once is not decoded again. If no file of the folder can be read, st_dataset_next fails.
 *
 * Prefetch. One background thread decodes and resizes the next batches
 * (up to 2 ahead) while the caller computes; it never calls Lua, and a batch
 * it prepared but that was never delivered (seek, close) counts no skips.
 * The functions are not for concurrent use on one dataset from several
 * threads. */
#ifndef STRATA_IO_DATASET_H
#define STRATA_IO_DATASET_H

#include <stdint.h>

#include "tensor.h"

typedef struct st_dataset st_dataset;

/* Lists the images under dir (symlinks are followed; a folder reached twice,
 * by a link loop or otherwise, is read once). image_size N >= 1, batch_size
 * B >= 1. NULL with an error when dir is missing or not a folder, a subfolder
 * cannot be read, dir holds no images ("'<dir>' holds no .jpg/.jpeg/.png
 * images") or fewer than B. No file is decoded here. */
st_dataset *st_dataset_open(const char *dir, int image_size, int batch_size, uint64_t seed);

int64_t st_dataset_count(const st_dataset *d);             /* image files listed */
const char *st_dataset_path(const st_dataset *d, int64_t i); /* 0-based, sorted; NULL out of range */
int64_t st_dataset_batches_per_epoch(const st_dataset *d); /* floor(count / B) */
int st_dataset_image_size(const st_dataset *d);            /* N */
int st_dataset_batch_size(const st_dataset *d);            /* B */

/* idx[0..count) = the order of epoch `epoch` (indices into the sorted list). */
int st_dataset_epoch_order(const st_dataset *d, int64_t epoch, int64_t *idx);

/* The next batch delivered will be (epoch, batch_index), both 0-based;
 * 0 <= batch_index < st_dataset_batches_per_epoch. Stops the prefetch thread
 * (discarding what it prepared); the next st_dataset_next restarts it.
 * 0, or -1 with an error (the position is then unchanged). */
int st_dataset_seek(st_dataset *d, int64_t epoch, int64_t batch_index);

/* Fills out, a CPU tensor [B, 3, N, N], with the next batch: RGB in 0..255,
 * each image squashed to N x N (antialiased bilinear, no crop). Stores the
 * (epoch, batch_index) it came from where the pointers are not NULL, then
 * moves on (after an epoch's last batch, to batch 0 of the next epoch).
 * 0, or -1 with an error (wrong out, or nothing in the folder readable: the
 * same error repeats until a seek). */
int st_dataset_next(st_dataset *d, st_tensor *out, int64_t *epoch, int64_t *batch_index);

/* Distinct unreadable files among the batches delivered so far; the i-th of
 * them (0-based, in the order first met) and its decoder message (which
 * names the file), NULL out of range; the last skip's message, "" when none. */
int64_t st_dataset_skipped(const st_dataset *d);
const char *st_dataset_skipped_path(const st_dataset *d, int64_t i);
const char *st_dataset_skipped_message(const st_dataset *d, int64_t i);
const char *st_dataset_last_skip_message(const st_dataset *d);

/* Stops the thread and frees everything; NULL is fine. */
void st_dataset_close(st_dataset *d);

#endif
