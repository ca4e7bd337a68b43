#!/usr/bin/env bash
# libgomp's spin count is set before libgomp reads it, without a re-exec
# (engine/omp_env.c, lib/libstrata_omp_env.so): libgomp reports what it read
# (OMP_DISPLAY_ENV=verbose, printed by its constructor), a user's own
# setting wins, and the process is never replaced by a second image.
# OpenBLAS starts with one thread (no idle worker spinning through a short
# run) and gets its usual count at the first BLAS call; a user's
# OPENBLAS_NUM_THREADS wins; children see only the user's variables.
. tests/tap.sh

is() { [ "$1" = "$2" ]; ok $? "$3 (got '$1')"; }
spin() { grep -o "GOMP_SPINCOUNT = '[0-9]*'" "$1" | grep -o "[0-9]\+"; }
echo 'return 0' >"$tmp/noop.lua"

env -u GOMP_SPINCOUNT -u OMP_WAIT_POLICY OMP_DISPLAY_ENV=verbose bin/strata run "$tmp/noop.lua" >"$tmp/a" 2>&1
ok $? "a no-op run with OMP_DISPLAY_ENV works"
is "$(spin "$tmp/a")" 1000 "libgomp read GOMP_SPINCOUNT=1000, set by strata before libgomp loaded"

env -u OMP_WAIT_POLICY GOMP_SPINCOUNT=77 OMP_DISPLAY_ENV=verbose bin/strata run "$tmp/noop.lua" >"$tmp/b" 2>&1
is "$(spin "$tmp/b")" 77 "the user's GOMP_SPINCOUNT wins"

env -u GOMP_SPINCOUNT OMP_WAIT_POLICY=passive OMP_DISPLAY_ENV=verbose bin/strata run "$tmp/noop.lua" >"$tmp/c" 2>&1
is "$(spin "$tmp/c")" 0 "the user's OMP_WAIT_POLICY=passive wins (no spinning)"

# The library is found next to the binary and listed after libgomp (the
# constructors of unrelated libraries run in the reverse of that order).
readelf -d bin/strata >"$tmp/dyn" 2>&1
order=$(grep -o '\[lib\(gomp\|strata_omp_env\)[^]]*\]' "$tmp/dyn" | tr '\n' ' ')
is "$order" "[libgomp.so.1] [libstrata_omp_env.so] " "bin/strata needs libgomp, then libstrata_omp_env"

# No re-exec: the dynamic loader starts one image (LD_DEBUG=statistics
# prints its start-up line once per exec), and children inherit the setting.
cat >"$tmp/env.lua" <<'LUA'
print(os.getenv("GOMP_SPINCOUNT"))
LUA
env -u GOMP_SPINCOUNT -u OMP_WAIT_POLICY LD_DEBUG=statistics bin/strata run "$tmp/env.lua" >"$tmp/d" 2>"$tmp/ld"
ok $? "a run under LD_DEBUG=statistics works"
is "$(grep -c 'total startup time in dynamic loader' "$tmp/ld")" 1 "one image started: bin/strata does not re-execute itself"
is "$(cat "$tmp/d")" 1000 "the variable is in the environment children inherit"
# OpenBLAS: one thread at the start, its usual count (OMP_NUM_THREADS, else
# the CPUs) after the first BLAS call (a Gram matrix), and the variables
# that held it back gone from the environment.
cat >"$tmp/blas.lua" <<'LUA'
local core = require "strata.core"
local function threads()
  for l in io.lines("/proc/self/status") do
    local n = l:match("^Threads:%s*(%d+)")
    if n then return n end
  end
end
local before, tasks = core.sys.blas_threads(), threads()
core.ops.gram(core.zeros({ 1, 8, 16, 16 }))
print(before, tasks, core.sys.blas_threads(), os.getenv("OPENBLAS_NUM_THREADS") or "-",
  os.getenv("STRATA_BLAS_DEFERRED") or "-")
LUA
cpus=$(nproc)
env -u OPENBLAS_NUM_THREADS -u GOTO_NUM_THREADS -u OMP_NUM_THREADS bin/strata run "$tmp/blas.lua" >"$tmp/e" 2>&1
is "$(cat "$tmp/e")" "$(printf '1\t1\t%s\t-\t-' "$cpus")" \
  "OpenBLAS: 1 thread and no worker at the start, $cpus (the CPUs) after its first call, nothing left in the environment"
env -u OPENBLAS_NUM_THREADS -u GOTO_NUM_THREADS OMP_NUM_THREADS=1 bin/strata run "$tmp/blas.lua" >"$tmp/f" 2>&1
is "$(cut -f3 "$tmp/f")" 1 "OpenBLAS follows OMP_NUM_THREADS=1, as it would by itself"
env -u GOTO_NUM_THREADS -u OMP_NUM_THREADS OPENBLAS_NUM_THREADS=1 bin/strata run "$tmp/blas.lua" >"$tmp/g" 2>&1
is "$(cut -f3- "$tmp/g")" "$(printf '1\t1\t-')" "the user's OPENBLAS_NUM_THREADS=1 wins and stays in the environment"
tap_end
