/* Importer for the FCRN depth network's published TensorFlow checkpoint
 * (NYU_FCRN-checkpoint.zip from Laina et al., see ANCHORS.md, unzipped:
 * NYU_FCRN.ckpt.index, NYU_FCRN.ckpt.data-00000-of-00001, NYU_FCRN.ckpt.meta).
 *
 * Variable names are those of the authors' tensorflow/models/fcrn.py and
 * network.py (ResNet50UpProj): every conv layer L has "L/weights"
 * [kh, kw, in, out] and, where biased, "L/biases" [out] (conv1, layer1, the
 * up-projection convs and ConvPred have biases; the ResNet res* convs do
 * not); every batch-norm layer B has "B/scale", "B/offset", "B/mean",
 * "B/variance". Layers: conv1, bn_conv1, res{2a..5c}_branch{1,2a,2b,2c} with
 * bn{2a..5c}_branch..., layer1, layer1_BN, and for each up-projection
 * I in 2x, 4x, 8x, 16x: layerI_br1_Conv{A,B,C,D}, layerI_br1_BN, layerI_Conv,
 * layerI_BN, layerI_br2_Conv{A,B,C,D}, layerI_br2_BN; then ConvPred.
 *
 * They become strata parameters under the same layer names:
 *   L/weights [kh,kw,in,out] (HWIO) -> L.weight [out,in,kh,kw] (OIHW)
 *   L/biases                        -> L.bias
 *   B/scale -> B.weight, B/offset -> B.bias,
 *   B/mean -> B.running_mean, B/variance -> B.running_var
 * in network order. Every parameter must be present with the architecture's
 * exact shape; the widths may all be divided by a common d (64 % d == 0,
 * d = 64 / conv1's output channels: small test networks), recorded as the
 * attribute width_div when d != 1. Other float32 tensors named
 * "<layer>/<param>" with one of those six params are an error (not FCRN);
 * anything else (int64 index variables, optimizer slots such as
 * ".../Momentum", global_step) is ignored.
 * Attributes: network = "fcrn", source = the checkpoint prefix,
 * source_sha256 = SHA-256 of its data file (shard 0).
 */
#ifndef STRATA_IO_IMPORT_FCRN_H
#define STRATA_IO_IMPORT_FCRN_H

#include "weights.h"

/* path: the checkpoint prefix (".../NYU_FCRN.ckpt"), one of its files
 * (".index", ".meta", ".data-00000-of-00001"), or a directory holding
 * NYU_FCRN.ckpt.* (or exactly one other *.index). NULL with one error line
 * naming the file and tensor on failure. */
st_weights *st_import_fcrn(const char *path);

#endif
