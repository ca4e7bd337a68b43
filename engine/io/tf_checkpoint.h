/* Reader for TensorFlow V2 checkpoints ("tensor bundles"), the format of
 * NYU_FCRN.ckpt.{index,data-00000-of-00001,meta}.
 *
 * A checkpoint is a prefix P with
 *   P.index                  an SSTable (LevelDB table format) mapping tensor
 *                            names to BundleEntryProto; the empty key holds a
 *                            BundleHeaderProto {num_shards, endianness, version}
 *   P.data-SSSSS-of-NNNNN    raw tensor bytes, NNNNN = num_shards
 *   P.meta                   the graph (not needed, not read)
 * Table layout (tensorflow/core/lib/io): a 48-byte footer (metaindex and
 * index block handles as varint64 pairs, zero-padded to 40 bytes, then the
 * magic 0xdb4775248b80fb57 as two little-endian 32-bit halves); each block is
 * followed by a type byte (0 = uncompressed, 1 = snappy) and the masked
 * CRC32C of block + type; block entries are prefix-compressed keys with
 * restart points. Each BundleEntryProto gives dtype, shape (TensorShapeProto
 * dims), shard_id, offset, size and the masked CRC32C of the tensor's bytes.
 * Every block and every tensor read is checksum-verified; for a
 * snappy-compressed block the checksum covers the compressed bytes (as the
 * format defines), and libsnappy validates the stream before uncompressing.
 *
 * Not supported (each is a clear error): big-endian bundles, float32
 * tensors saved as partitioned slices.
 */
#ifndef STRATA_IO_TF_CHECKPOINT_H
#define STRATA_IO_TF_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "weights.h"

/* Reads every float32 (DT_FLOAT) tensor of the checkpoint at `prefix` (the
 * path without ".index") for which want(name, ctx) returns nonzero (all of
 * them when want is NULL), under its TensorFlow name ("conv1/weights") with
 * the shape as stored (convolution kernels HWIO). Tensors of other dtypes
 * (int64 global_step, ...) are skipped without reading their data, and so
 * are unwanted ones. The result lists tensors in the index's (sorted) order
 * and carries attributes format = "tensorflow-checkpoint-v2", source =
 * prefix, num_shards = N.
 * NULL with one error line naming the file and the tensor or field on
 * failure: a missing .index or data shard, bad magic, a truncated file, a
 * block or tensor checksum mismatch, an entry whose bytes lie beyond its
 * shard, a malformed entry. */
st_weights *st_tf_checkpoint_read(const char *prefix, int (*want)(const char *name, void *ctx), void *ctx);

/* CRC32C (Castagnoli) of data[0, n) continuing from crc (0 to start), and
 * TensorFlow's / LevelDB's masking of stored CRCs. */
uint32_t st_crc32c(uint32_t crc, const void *data, size_t n);
uint32_t st_crc32c_mask(uint32_t crc);
uint32_t st_crc32c_unmask(uint32_t masked);

#endif
