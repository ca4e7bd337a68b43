/* See blas_threads.h. */
#include "kernels/cpu/blas_threads.h"

#include <cblas.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int held;
static pthread_once_t grown = PTHREAD_ONCE_INIT;

void st_blas_threads_init(void) {
  const char *mark = getenv("STRATA_BLAS_DEFERRED");
  if (!mark || strcmp(mark, "1") != 0) return;
  unsetenv("STRATA_BLAS_DEFERRED");
  unsetenv("OPENBLAS_NUM_THREADS");
  held = 1;
}

/* OpenBLAS's own rule (no OPENBLAS_NUM_THREADS or GOTO_NUM_THREADS, or we
 * would not have held it): OMP_NUM_THREADS when set, capped at the CPUs. */
static int usual_count(void) {
  int cpus = 0;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = CPU_COUNT(&set);
  if (cpus < 1) cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 1) cpus = 1;
  const char *omp = getenv("OMP_NUM_THREADS");
  int n = omp ? atoi(omp) : 0;
  return n > 0 && n < cpus ? n : cpus;
}

static void grow(void) { openblas_set_num_threads(usual_count()); }

void st_blas_ready(void) {
  if (held) pthread_once(&grown, grow);
}

int st_blas_threads(void) { return openblas_get_num_threads(); }
