/* CUDA emulator: TF32, the tensor-core input format (8-bit exponent, 10-bit
 * mantissa) that cuDNN and cuBLAS use for float data when the math mode
 * allows it. Rounds to nearest, ties away from zero (finite values only). */
#ifndef STRATA_CUDA_EMU_TF32_H
#define STRATA_CUDA_EMU_TF32_H

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

inline float st_emu_tf32(float v) {
  if (!std::isfinite(v)) return v;
  uint32_t b;
  std::memcpy(&b, &v, 4);
  b = (b + 0x1000u) & 0xffffe000u;
  std::memcpy(&v, &b, 4);
  return v;
}

/* The n floats at p, or a TF32-rounded copy of them in `keep` when tf32. */
inline const float *st_emu_maybe_tf32(const float *p, size_t n, bool tf32, std::vector<float> &keep) {
  if (!tf32) return p;
  keep.assign(p, p + n);
  for (float &v : keep) v = st_emu_tf32(v);
  return keep.data();
}

#endif
