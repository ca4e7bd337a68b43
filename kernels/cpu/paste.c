/* Pasting an image into another (CPU): one row copy per source row, clipped. */
#include "kernels/cpu/paste.h"

#include <string.h>

void st_cpu_paste(float *dst, const float *src, int64_t C, int64_t H, int64_t W, int64_t h, int64_t w, int64_t r0,
                  int64_t c0) {
  const int64_t j0 = c0 < 0 ? -c0 : 0, j1 = c0 + w > W ? W - c0 : w; /* source columns that land inside */
  if (j1 <= j0) return;
  for (int64_t c = 0; c < C; c++)
    for (int64_t i = 0; i < h; i++) {
      const int64_t r = r0 + i;
      if (r < 0 || r >= H) continue;
      memmove(dst + (c * H + r) * W + c0 + j0, src + (c * h + i) * w + j0, (size_t)(j1 - j0) * sizeof(float));
    }
}
