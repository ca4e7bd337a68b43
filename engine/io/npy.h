/* NumPy .npy files (format version 1.0) of float32 tensors: the unrounded
 * values of a result, for comparisons outside strata (e.g. ONNX Runtime). */
#ifndef STRATA_IO_NPY_H
#define STRATA_IO_NPY_H

#include "../tensor.h"

/* Writes t ('<f4', C order, t's shape) atomically; t may be on a GPU. */
int st_npy_save(const char *path, const st_tensor *t);

#endif
