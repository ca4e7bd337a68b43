/* OpenBLAS's worker threads, started at the first BLAS call instead of at
 * process start (engine/omp_env.c says why). */
#ifndef ST_BLAS_THREADS_H
#define ST_BLAS_THREADS_H

/* main(): if engine/omp_env.c held OpenBLAS to one thread for the start,
 * removes its variables from the environment (children see the user's) and
 * remembers to give OpenBLAS its usual thread count later. */
void st_blas_threads_init(void);

/* Before a BLAS call: the first one after a held start sets OpenBLAS's
 * thread count to what it would have chosen itself (OMP_NUM_THREADS, else
 * the CPUs this process may run on). Cheap after that; thread-safe. */
void st_blas_ready(void);

/* OpenBLAS's current thread count. */
int st_blas_threads(void);

#endif
