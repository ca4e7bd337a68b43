/* Importer for Engstrom's fast-style-transfer transformer as exported to
 * ml5 / deeplearn.js folders: <dir>/manifest.json maps "Variable",
 * "Variable_1", ... to {"filename", "shape"}; each file is raw float32,
 * little-endian, row-major, without header.
 *
 * Variables come three per layer (conv weight, instance-norm shift beta,
 * scale gamma) in network order: conv1 9x9, conv2 3x3/2, conv3 3x3/2, N
 * residual blocks of two 3x3 convs, deconv1, deconv2 (transposed 3x3/2),
 * conv4 9x9; N = (count - 18) / 6. They become strata parameters:
 *   conv weight [kh,kw,in,out] (HWIO)     -> <conv>.weight [out,in,kh,kw] (OIHW)
 *   deconv weight [kh,kw,out,in]          -> deconvK.weight [in,out,kh,kw]
 *   beta -> <norm>.bias, gamma -> <norm>.weight
 * with conv1/in1, conv2/in2, conv3/in3, resK.conv1/resK.in1,
 * resK.conv2/resK.in2, deconv1/in4, deconv2/in5, conv4/in6.
 * Attributes: network = "engstrom-transformer", source = dir, blocks = N.
 */
#ifndef STRATA_IO_IMPORT_ENGSTROM_H
#define STRATA_IO_IMPORT_ENGSTROM_H

#include "weights.h"

/* NULL with one error line naming the file and field on failure. */
st_weights *st_import_engstrom(const char *dir);

#endif
