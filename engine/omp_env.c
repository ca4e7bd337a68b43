/* lib/libstrata_omp_env.so: sets libgomp's spin count before libgomp reads it.
 *
 * libgomp reads GOMP_SPINCOUNT once, in its own constructor, before main().
 * Its default keeps idle OpenMP threads spinning long after each of our
 * parallel loops, taking the cores that OpenBLAS's own threads need next (2x
 * slower networks on 2 cores); fully passive waiting costs oneDNN's short
 * regions ~15%. A short spin is best for both.
 *
 * bin/strata lists this library last among its needed libraries, and the
 * dynamic loader runs the constructors of libraries that do not depend on
 * each other in the reverse of that order: this one runs before libgomp's.
 * (Setting the variable in main() needed a re-exec, ~7 ms; the executable's
 * preinit_array is too early: the C library's initialiser, which runs after
 * it, puts back the original environment.) tests/e2e/omp_env.t.sh checks
 * what libgomp read. A user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
 *
 * OpenBLAS (the pthreads build) starts its worker threads in its own
 * constructor, which runs after this one (bin/strata links it statically,
 * and the executable's constructors run last). An idle worker then spins on
 * sched_yield for ~0.1 s, its thread timeout, taking cores from our own
 * threads: a 712x474 `strata stylize`, which never calls BLAS, lost ~4 ms to
 * it, and a PNG written meanwhile took 2x as long. So OpenBLAS starts with
 * one thread, and kernels/cpu/blas_threads.c gives it its usual count at the
 * first BLAS call (main() takes these variables out of the environment
 * first). A user's OPENBLAS_NUM_THREADS or GOTO_NUM_THREADS wins. */
#include <stdlib.h>

__attribute__((constructor)) static void strata_omp_env(void) {
  if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT")) setenv("GOMP_SPINCOUNT", "1000", 1);
  if (!getenv("OPENBLAS_NUM_THREADS") && !getenv("GOTO_NUM_THREADS")) {
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    setenv("STRATA_BLAS_DEFERRED", "1", 1);
  }
}
