/* strata.sys: the few OS facilities experiment code needs (clock, files, devices). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../error.h"
#include "../device.h"
#include "../gpu.h"
#include "../io/fsops.h"
#include "../memory.h"
#include "lstrata.h"
#include "kernels/cpu/blas_threads.h"
#include "kernels/cpu/cpu_isa.h"
#include "kernels/cpu/dnnl_conv.h"

static int l_clock(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec);
  return 1;
}

/* wall_clock() -> seconds since the epoch (CLOCK_REALTIME, the clock of
 * bash's EPOCHREALTIME): for timing a whole process from outside it. */
static int l_wall_clock(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  lua_pushnumber(L, (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec);
  return 1;
}

/* since_main() -> seconds since bin/strata's main() began, and before_main() -> seconds from the process's start
 * (exec of the first image, /proc/self/stat, in clock ticks of 10 ms) to that
 * point, or nil where unknown: for STRATA_STAGE_TIMES (lua/strata/stages.lua). */
static struct timespec main_mono, main_boot;
static int main_marked;

void lst_mark_main(void) {
  clock_gettime(CLOCK_MONOTONIC, &main_mono);
  clock_gettime(CLOCK_BOOTTIME, &main_boot);
  main_marked = 1;
}

static double seconds(struct timespec t) { return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec; }

static int l_since_main(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, main_marked ? seconds(ts) - seconds(main_mono) : 0.0);
  return 1;
}

static int l_before_main(lua_State *L) {
  FILE *f = main_marked ? fopen("/proc/self/stat", "r") : NULL;
  char buf[1024];
  size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
  if (f) fclose(f);
  buf[n] = '\0';
  /* Field 22, starttime, counted after the ")" that ends the command name. */
  char *p = n ? strrchr(buf, ')') : NULL;
  unsigned long long start = 0;
  int field = 2;
  for (; p && *p && field < 22; p++)
    if (*p == ' ') field++;
  long hz = sysconf(_SC_CLK_TCK);
  if (!p || field != 22 || sscanf(p, "%llu", &start) != 1 || hz <= 0) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushnumber(L, seconds(main_boot) - (double)start / (double)hz);
  return 1;
}

/* usage() -> process CPU seconds (user + system, all threads) and minor page
 * faults so far: STRATA_STAGE_TIMES shows where the page faults fall. */
static int l_usage(lua_State *L) {
  struct rusage u;
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  lua_pushnumber(L, seconds((struct timespec){u.ru_utime.tv_sec, u.ru_utime.tv_usec * 1000L}) +
                        seconds((struct timespec){u.ru_stime.tv_sec, u.ru_stime.tv_usec * 1000L}));
  lua_pushinteger(L, (lua_Integer)u.ru_minflt);
  return 2;
}

/* mkdir_p(path): creates path and its parents; an existing directory is fine. */
static int l_mkdir_p(lua_State *L) {
  if (st_fs_mkdir_p(luaL_checkstring(L, 1)) != 0) return lst_error(L);
  return 0;
}

static int l_exists(lua_State *L) {
  struct stat st;
  lua_pushboolean(L, stat(luaL_checkstring(L, 1), &st) == 0);
  return 1;
}

static int l_is_dir(lua_State *L) {
  struct stat st;
  lua_pushboolean(L, stat(luaL_checkstring(L, 1), &st) == 0 && S_ISDIR(st.st_mode));
  return 1;
}

/* list_dir(path): the entry names of a directory (no "." or ".."), sorted
 * (engine/io/fsops.c); so that Lua lists files without handing a path to a
 * shell. A missing or unreadable directory is an error naming it. */
static int l_list_dir(lua_State *L) {
  char **names;
  size_t n;
  if (st_fs_list_dir(luaL_checkstring(L, 1), &names, &n, NULL) != 0) return lst_error(L);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushstring(L, names[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  st_fs_free_list(names, n);
  return 1;
}

/* copy_file(from, to): a byte-for-byte copy (engine/io/fsops.c), so Lua
 * copies files without a shell. */
static int l_copy_file(lua_State *L) {
  if (st_fs_copy_file(luaL_checkstring(L, 1), luaL_checkstring(L, 2)) != 0) return lst_error(L);
  return 0;
}

/* write_atomic(path, text): temp file, fsync, rename, so readers never see half a file. */
static int l_write_atomic(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  size_t n;
  const char *text = luaL_checklstring(L, 2, &n);
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f) return luaL_error(L, "cannot write '%s': %s", path, strerror(errno));
  int ok = fwrite(text, 1, n, f) == n && fflush(f) == 0 && fsync(fileno(f)) == 0;
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp, path) != 0) {
    int e = errno;
    remove(tmp);
    return luaL_error(L, "cannot write '%s': %s", path, strerror(e));
  }
  return 0;
}

static int l_cuda_available(lua_State *L) {
  lua_pushboolean(L, st_gpu_count() > 0);
  lua_pushstring(L, st_gpu_unavailable_reason());
  return 2;
}

/* memory_stats(device) -> {in_use, cached, peak, system_allocs}: the caching
 * allocator's bytes and its count of malloc / cudaMalloc calls. */
static int l_memory_stats(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  st_device dev;
  if (st_device_parse(name, &dev) != 0) return lst_error(L);
  st_mem_stats s = st_mem_get_stats(dev);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, (lua_Integer)s.in_use);
  lua_setfield(L, -2, "in_use");
  lua_pushinteger(L, (lua_Integer)s.cached);
  lua_setfield(L, -2, "cached");
  lua_pushinteger(L, (lua_Integer)s.peak);
  lua_setfield(L, -2, "peak");
  lua_pushinteger(L, (lua_Integer)s.n_system_allocs);
  lua_setfield(L, -2, "system_allocs");
  return 1;
}

/* memory_reset_peak(device): the allocator's peak restarts from what is in
 * use now, so memory_stats(device).peak then measures what follows. */
static int l_memory_reset_peak(lua_State *L) {
  st_device dev;
  if (st_device_parse(luaL_checkstring(L, 1), &dev) != 0) return lst_error(L);
  st_mem_reset_peak(dev);
  return 0;
}

/* memory_lean(on) -> previous: the CPU allocator's lean mode (engine/memory.h). */
static int l_memory_lean(lua_State *L) {
  luaL_checkany(L, 1);
  lua_pushboolean(L, st_mem_set_lean(st_cpu(), lua_toboolean(L, 1)));
  return 1;
}

/* memory_ranges(on) -> previous: the CPU allocator's ranges mode (engine/memory.h). */
static int l_memory_ranges(lua_State *L) {
  luaL_checkany(L, 1);
  lua_pushboolean(L, st_mem_set_ranges(st_cpu(), lua_toboolean(L, 1)));
  return 1;
}

/* memory_release_ranges(background): ranges mode's free ranges back to the
 * system, from a background thread if asked (engine/memory.h). */
static int l_memory_release_ranges(lua_State *L) {
  st_mem_release_ranges(st_cpu(), lua_toboolean(L, 1));
  return 0;
}

/* memory_prefault(bytes) -> started: a free range of `bytes` for ranges
 * mode, its pages faulted in from a background thread (engine/memory.h);
 * false where that cannot be (STRATA_MEM_EXACT builds, too small, no memory). */
static int l_memory_prefault(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 0, 1, "expected a byte count >= 0");
  lua_pushboolean(L, st_mem_prefault(st_cpu(), (size_t)n));
  return 1;
}

/* memory_prefault_limit(bytes): the running prefault stops after its first
 * `bytes` (engine/memory.h). */
static int l_memory_prefault_limit(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 0, 1, "expected a byte count >= 0");
  st_mem_prefault_limit((size_t)n);
  return 0;
}

/* memory_prefault_wait(): until memory_prefault's pages are all in. */
static int l_memory_prefault_wait(lua_State *L) {
  (void)L;
  st_mem_prefault_wait();
  return 0;
}

/* conv_bands(above, bytes) -> previous above, bytes: CPU forward convs with
 * a src or dst over `above` bytes run in row bands of about `bytes` each
 * (kernels/cpu/dnnl_conv.h); tests lower them to band small images. */
static int l_conv_bands(lua_State *L) {
  lua_Integer above = luaL_checkinteger(L, 1), bytes = luaL_checkinteger(L, 2);
  luaL_argcheck(L, above >= 0, 1, "expected a byte count >= 0");
  luaL_argcheck(L, bytes > 0, 2, "expected a byte count > 0");
  size_t old_above, old_bytes;
  st_dnnl_set_bands((size_t)above, (size_t)bytes, &old_above, &old_bytes);
  lua_pushinteger(L, (lua_Integer)old_above);
  lua_pushinteger(L, (lua_Integer)old_bytes);
  return 2;
}

/* memory_empty_cache(device): the caching allocator's free blocks go back
 * to the OS (after a set-up whose transient sizes will not come again). */
static int l_memory_empty_cache(lua_State *L) {
  st_device dev;
  if (st_device_parse(luaL_checkstring(L, 1), &dev) != 0) return lst_error(L);
  st_mem_empty_cache(dev);
  return 0;
}

/* set_tf32(on): TF32 tensor-core math for GPU convolutions and GEMMs from now
 * on (no effect in a CPU-only build). */
static int l_set_tf32(lua_State *L) {
  luaL_checkany(L, 1);
  if (st_gpu_set_tf32(lua_toboolean(L, 1)) != 0) return lst_error(L);
  return 0;
}

/* The core clock in GHz, measured: a chain of dependent integer adds (one
 * cycle each on every x86-64 core) timed in this thread's CPU time, the best
 * of 5 runs of ~10^8 adds. Under a hypervisor /proc/cpuinfo shows the nominal
 * clock, not the boost clock the cores run at; the bench's peak needs the latter. */
static double measured_ghz(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  double best = 0.0;
  for (int r = 0; r < 5; r++) {
    struct timespec a, b;
    const long iters = 12500000; /* 8 adds each */
    long x = 0;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    for (long i = 0; i < iters; i++)
      __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                       "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0"
                       : "+r"(x));
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    const double s = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
    const double ghz = s > 0 ? 8.0 * (double)iters / s * 1e-9 : 0.0;
    if (ghz > best) best = ghz;
  }
  return best;
#else
  return 0.0;
#endif
}

/* blas_threads() -> OpenBLAS's thread count now (1 until the first BLAS call
 * of a bin/strata run: engine/omp_env.c). */
static int l_blas_threads(lua_State *L) {
  lua_pushinteger(L, st_blas_threads());
  return 1;
}

/* cpu() -> {isa = "avx512"|"avx2"|"base" (strata's kernels' level, capped by
 * ONEDNN_MAX_CPU_ISA as oneDNN's are), lanes = floats per vector at that
 * level, ghz = the measured core clock (0 where not measurable)}. */
static int l_cpu(lua_State *L) {
  const st_cpu_isa_level l = st_cpu_isa();
  lua_createtable(L, 0, 3);
  lua_pushstring(L, st_cpu_isa_name(l));
  lua_setfield(L, -2, "isa");
  lua_pushinteger(L, l == ST_ISA_AVX512 ? 16 : l == ST_ISA_AVX2 ? 8 : 4);
  lua_setfield(L, -2, "lanes");
  lua_pushnumber(L, measured_ghz());
  lua_setfield(L, -2, "ghz");
  return 1;
}

static const luaL_Reg functions[] = {{"clock", l_clock},
                                     {"wall_clock", l_wall_clock},
                                     {"since_main", l_since_main},
                                     {"before_main", l_before_main},
                                     {"usage", l_usage},
                                     {"cpu", l_cpu},
                                     {"blas_threads", l_blas_threads},
                                     {"mkdir_p", l_mkdir_p},
                                     {"exists", l_exists},
                                     {"is_dir", l_is_dir},
                                     {"list_dir", l_list_dir},
                                     {"copy_file", l_copy_file},
                                     {"write_atomic", l_write_atomic},
                                     {"cuda_available", l_cuda_available},
                                     {"memory_stats", l_memory_stats},
                                     {"memory_reset_peak", l_memory_reset_peak},
                                     {"memory_lean", l_memory_lean},
                                     {"memory_ranges", l_memory_ranges},
                                     {"memory_release_ranges", l_memory_release_ranges},
                                     {"memory_prefault", l_memory_prefault},
                                     {"memory_prefault_wait", l_memory_prefault_wait},
                                     {"memory_prefault_limit", l_memory_prefault_limit},
                                     {"conv_bands", l_conv_bands},
                                     {"memory_empty_cache", l_memory_empty_cache},
                                     {"set_tf32", l_set_tf32},
                                     {NULL, NULL}};

void lst_open_sys(lua_State *L) {
  luaL_newlib(L, functions);
  lst_add_sys_run(L);
  lua_setfield(L, -2, "sys");
}
