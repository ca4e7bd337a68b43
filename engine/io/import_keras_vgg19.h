/* Importer for the Keras VGG-19 weights file
 * (vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5, see ANCHORS.md).
 *
 * Keras HDF5 weight layout: the root attribute `layer_names` lists every layer
 * (fixed- or variable-length strings; very long lists are split into
 * layer_names0, layer_names1, ...). Each layer is a group of that name whose
 * attribute `weight_names` lists its weights as paths relative to the group:
 * "block1_conv1_W_1:0" / "block1_conv1_b_1:0" in the published file,
 * "block1_conv1/kernel:0" / ".../bias:0" in newer re-saves. Layers without
 * weights (input, pools) have an empty list and are skipped; the classifier
 * layers of the include-top file (fc1, fc2, predictions, flatten) are skipped
 * too.
 *
 * The 16 conv layers block1_conv1 .. block5_conv4, in that order, become
 *   kernel [3, 3, in, out] (HWIO) -> convB_K.weight [out, in, 3, 3] (OIHW)
 *   bias [out]                    -> convB_K.bias
 * with channels chaining from 3 at the input.
 *
 * Channel order: the Keras weights were trained on Caffe-style BGR input
 * (BGR minus [103.939, 116.779, 123.68]); strata feeds RGB minus
 * [123.68, 116.779, 103.939]. conv1_1's input-channel axis is reversed here,
 * so conv1_1(rgb - mean_rgb) equals the Keras conv on bgr - mean_bgr exactly.
 * Attributes: network = "vgg19", source = path, channel_order = "rgb",
 * mean = "123.68,116.779,103.939" (per RGB channel, on 0..255 input).
 */
#ifndef STRATA_IO_IMPORT_KERAS_VGG19_H
#define STRATA_IO_IMPORT_KERAS_VGG19_H

#include "weights.h"

/* NULL with one error line naming the file (and layer) on failure. Weights
 * must be float arrays of finite values. The file is parsed in a child
 * process (isolate.h): one that crashes libhdf5 gives an error. */
st_weights *st_import_keras_vgg19(const char *path);
/* The same in the calling process (for the fuzz targets; see
 * st_weights_load_here). */
st_weights *st_import_keras_vgg19_here(const char *path);

#endif
