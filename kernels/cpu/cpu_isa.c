/* The CPU's vector ISA, capped like oneDNN's (see cpu_isa.h). */
#include "kernels/cpu/cpu_isa.h"

#include <stdlib.h>
#include <strings.h>

static int cached = -1;

static st_cpu_isa_level hardware(void) {
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return ST_ISA_BASE;
  if (!__builtin_cpu_supports("avx512f")) return ST_ISA_AVX2;
  return ST_ISA_AVX512;
#else
  return ST_ISA_BASE;
#endif
}

st_cpu_isa_level st_cpu_isa_cap(const char *v, int *known) {
  if (known) *known = 1;
  if (!v || !*v || !strcasecmp(v, "ALL") || !strcasecmp(v, "DEFAULT")) return ST_ISA_AVX512;
  if (!strcasecmp(v, "SSE41") || !strcasecmp(v, "AVX")) return ST_ISA_BASE;
  if (!strncasecmp(v, "AVX2", 4)) return ST_ISA_AVX2;       /* AVX2, AVX2_VNNI, AVX2_VNNI_2 */
  if (!strncasecmp(v, "AVX512", 6)) return ST_ISA_AVX512;   /* AVX512_CORE, _VNNI, _BF16, _AMX, _FP16 */
  if (!strncasecmp(v, "AVX10", 5)) return ST_ISA_AVX512;
  if (known) *known = 0;
  return ST_ISA_AVX512;
}

st_cpu_isa_level st_cpu_isa(void) {
  if (cached < 0) {
    const char *v = getenv("ONEDNN_MAX_CPU_ISA");
    if (!v || !*v) v = getenv("DNNL_MAX_CPU_ISA");
    const st_cpu_isa_level hw = hardware(), cap = st_cpu_isa_cap(v, NULL);
    cached = hw < cap ? hw : cap;
  }
  return (st_cpu_isa_level)cached;
}

const char *st_cpu_isa_name(st_cpu_isa_level l) {
  return l == ST_ISA_AVX512 ? "avx512" : l == ST_ISA_AVX2 ? "avx2" : "base";
}

void st_cpu_isa_reset(void) { cached = -1; }
