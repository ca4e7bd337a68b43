/* Which x86 vector ISA strata's own CPU kernels may use: what the CPU has,
 * capped by the same environment variable oneDNN honours, so one setting
 * (ONEDNN_MAX_CPU_ISA=AVX2, older name DNNL_MAX_CPU_ISA) gives a whole
 * AVX2 profile on an AVX-512 host (bench/run.sh measures both). */
#ifndef STRATA_KERNELS_CPU_CPU_ISA_H
#define STRATA_KERNELS_CPU_CPU_ISA_H

/* Ordered levels: each includes the ones below it. */
typedef enum {
  ST_ISA_BASE = 0, /* no AVX (SSE2 on x86-64; any other architecture) */
  ST_ISA_AVX2 = 1, /* AVX2 + FMA */
  ST_ISA_AVX512 = 2 /* AVX-512 F (+ FMA) */
} st_cpu_isa_level;

/* The level the CPU supports, limited by ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA
 * (read once, then cached). */
st_cpu_isa_level st_cpu_isa(void);

/* The cap a value of ONEDNN_MAX_CPU_ISA means (oneDNN's names, any case:
 * SSE41, AVX -> BASE; AVX2, AVX2_VNNI... -> AVX2; AVX512_* -> AVX512;
 * ALL, DEFAULT, empty or NULL -> no cap). An unknown name caps nothing and
 * sets *known to 0 (oneDNN ignores such a value as well). */
st_cpu_isa_level st_cpu_isa_cap(const char *value, int *known);

/* Name of a level ("avx512", "avx2", "base"), for logs and the bench header. */
const char *st_cpu_isa_name(st_cpu_isa_level l);

/* Forget the cached level so the next st_cpu_isa() rereads the environment
 * (tests; oneDNN itself reads its variable only once per process). */
void st_cpu_isa_reset(void);

#endif
