/* kernels/cpu/cpu_isa.c: oneDNN's ONEDNN_MAX_CPU_ISA names map to strata's
 * levels, the variable caps (never raises) the hardware level, the newer name
 * wins over DNNL_MAX_CPU_ISA, and an unknown name caps nothing. */
#include <stdlib.h>

#include "kernels/cpu/cpu_isa.h"
#include "tap.h"

int main(void) {
  static const struct { const char *v; st_cpu_isa_level want; int known; } names[] = {
      {NULL, ST_ISA_AVX512, 1},        {"", ST_ISA_AVX512, 1},           {"ALL", ST_ISA_AVX512, 1},
      {"default", ST_ISA_AVX512, 1},   {"SSE41", ST_ISA_BASE, 1},        {"avx", ST_ISA_BASE, 1},
      {"AVX2", ST_ISA_AVX2, 1},        {"avx2_vnni", ST_ISA_AVX2, 1},    {"AVX2_VNNI_2", ST_ISA_AVX2, 1},
      {"AVX512_CORE", ST_ISA_AVX512, 1}, {"avx512_core_amx", ST_ISA_AVX512, 1}, {"NEON", ST_ISA_AVX512, 0},
  };
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    int known = -1;
    st_cpu_isa_level l = st_cpu_isa_cap(names[i].v, &known);
    tap_ok(l == names[i].want && known == names[i].known, "cap(%s) = %s%s", names[i].v ? names[i].v : "NULL",
           st_cpu_isa_name(names[i].want), names[i].known ? "" : " (unknown name: no cap)");
  }

  unsetenv("ONEDNN_MAX_CPU_ISA");
  unsetenv("DNNL_MAX_CPU_ISA");
  st_cpu_isa_reset();
  const st_cpu_isa_level hw = st_cpu_isa();
  tap_diag("this CPU: %s", st_cpu_isa_name(hw));

  setenv("ONEDNN_MAX_CPU_ISA", "AVX2", 1);
  setenv("DNNL_MAX_CPU_ISA", "SSE41", 1);
  st_cpu_isa_reset();
  tap_ok(st_cpu_isa() == (hw < ST_ISA_AVX2 ? hw : ST_ISA_AVX2), "ONEDNN_MAX_CPU_ISA wins over DNNL_MAX_CPU_ISA");

  unsetenv("ONEDNN_MAX_CPU_ISA");
  st_cpu_isa_reset();
  tap_ok(st_cpu_isa() == ST_ISA_BASE, "DNNL_MAX_CPU_ISA=SSE41 alone caps at base");

  setenv("DNNL_MAX_CPU_ISA", "AVX512_CORE", 1);
  st_cpu_isa_reset();
  tap_ok(st_cpu_isa() == hw, "a cap above the hardware does not raise it");

  setenv("ONEDNN_MAX_CPU_ISA", "AVX2", 1);
  tap_ok(st_cpu_isa() == hw, "the level is cached until st_cpu_isa_reset()");
  return tap_done();
}
