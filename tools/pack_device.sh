#!/usr/bin/env bash
# Packs what a GPU machine needs to run a strata built here into .device/
# (gitignored), see docs/gpu.md:
#   .device/bin/strata          the binary (its Lua library is .device/lua)
#   .device/lib/libstrata_cuda.so  the CUDA backend, a plugin bin/strata loads
#                               on first use from <bin>/../lib (engine/gpu_plugin.c)
#   .device/lib/libstrata_omp_env.so  sets libgomp's spin count (engine/omp_env.c);
#                               bin/strata needs it, from <bin>/../lib
#   .device/lua/                the Lua tree
#   .device/tests/<kind>/test_* the C test programs built in $BUILD, if any
#   .device/lib.tar.xz          the shared libraries bin/strata and the plugin
#                               need (resolved with ldd), compressed to stay well under the
#                               device tool's 64 MiB transfer limit
#   .device/run.sh CMD ARGS...  runs CMD with those libraries where the machine
#                               lacks them, with the machine's own CUDA libraries,
#                               and STRATA_CUDA_PLUGIN naming the packed plugin
# Not packed: the C library family (libc, libm, libpthread, libdl, librt,
# ld-linux), which every Linux machine has in a version at least as new;
# libstdc++ and libgcc_s, whose older copies from here would shadow the newer
# ones the machine's cuDNN may need; the NVIDIA driver (libcuda); and the CUDA
# libraries (libcudart, libcublas, libcublasLt, libcudnn*), too large to carry
# (cuBLASLt alone is ~540 MB) and present there (CUDA toolkit, or PyTorch's
# nvidia-* wheels). CARRY_CUDA=1 packs them too, for a machine without them.
#
# usage: tools/pack_device.sh            (after `make`; BUILD=dir names the build dir of the tests)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=.device

PLUGIN=lib/libstrata_cuda.so
[ -x bin/strata ] || { echo "pack_device: bin/strata is missing; run make first" >&2; exit 1; }
if [ ! -f "$PLUGIN" ]; then
  echo "pack_device: note: no CUDA backend ($PLUGIN: built with CUDA=0 or without nvcc)" >&2
fi

rm -rf "$OUT"
mkdir -p "$OUT/bin" "$OUT/lib" "$OUT/stage"
cp bin/strata "$OUT/bin/"
cp lib/libstrata_omp_env.so "$OUT/lib/"
cp -r lua "$OUT/"
progs=(bin/strata)
if [ -f "$PLUGIN" ]; then
  cp "$PLUGIN" "$OUT/lib/"
  progs+=("$PLUGIN")
fi
for t in "$BUILD"/tests/*/test_*; do
  [ -f "$t" ] && [ -x "$t" ] || continue
  kind=$(basename "$(dirname "$t")")
  mkdir -p "$OUT/tests/$kind"
  cp "$t" "$OUT/tests/$kind/"
  progs+=("$t")
done

skip='^(libc|libm|libpthread|libdl|librt|libresolv|ld-linux[^ ]*|libstdc\+\+|libgcc_s|libcuda)\.so'
cuda='^(libcudart|libcublas|libcublasLt|libcudnn[a-z_]*|libnvrtc|libnvJitLink)\.so'
for p in "${progs[@]}"; do
  if ldd "$p" | grep -q 'not found'; then
    echo "pack_device: $p has unresolved libraries here:" >&2
    ldd "$p" | grep 'not found' >&2
    exit 1
  fi
  ldd "$p" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }'
done | sort -u | while read -r name path; do
  if [[ $name =~ $skip ]]; then continue; fi
  if [[ $name =~ $cuda ]] && [ "${CARRY_CUDA:-0}" != 1 ]; then continue; fi
  cp -L "$path" "$OUT/stage/$name"
done
if [ "${CARRY_CUDA:-0}" = 1 ]; then
  # cuDNN 9 loads its engines at run time (dlopen), so ldd does not list them.
  cudnn_dir=$(ldd "$PLUGIN" | awk '$1 ~ /^libcudnn\.so/ { print $3 }' | xargs -r dirname)
  [ -n "$cudnn_dir" ] && cp -L "$cudnn_dir"/libcudnn_*.so.9 "$OUT/stage/"
fi
tar -C "$OUT/stage" -cJf "$OUT/lib.tar.xz" .
nlibs=$(ls "$OUT/stage" | wc -l)
rm -rf "$OUT/stage"

cat >"$OUT/run.sh" <<'RUN'
#!/bin/sh
# .device/run.sh CMD ARGS...: runs CMD (bin/strata, a test program, a test
# script) with the libraries packed by tools/pack_device.sh where this
# machine lacks them, with this machine's CUDA libraries, and with
# STRATA_CUDA_PLUGIN naming the packed CUDA backend (so that test programs,
# and a copy of bin/strata elsewhere, load it).
# STRATA_CUDA_LIBS=dir1:dir2 adds directories to search for the CUDA libraries.
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }
libs=${TMPDIR:-/tmp}/strata-device-libs
if [ ! -f "$libs/.unpacked" ] || [ "$here/lib.tar.xz" -nt "$libs/.unpacked" ]; then
  rm -rf "$libs" && mkdir -p "$libs/all" "$libs/use" || exit 1
  tar -C "$libs/all" -xJf "$here/lib.tar.xz" || { echo "run.sh: cannot unpack $here/lib.tar.xz" >&2; exit 1; }
  touch "$libs/.unpacked"
fi
# The CUDA libraries: the toolkit, PyTorch's nvidia-* wheels, the loader's cache.
cuda=""
add() { case ":$cuda:" in *":$1:"*) ;; *) cuda=${cuda:+$cuda:}$1 ;; esac; }
for so in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcudnn.so.9; do
  found=""
  for d in $(echo "${STRATA_CUDA_LIBS:-}" | tr ':' ' ') /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
           /opt/*/.venv/lib/python3*/site-packages/nvidia/*/lib /usr/local/lib/python3*/dist-packages/nvidia/*/lib \
           /usr/lib/python3/dist-packages/nvidia/*/lib "$libs/all"; do
    if [ -e "$d/$so" ]; then found=$d; break; fi
  done
  if [ -z "$found" ]; then
    p=$(ldconfig -p 2>/dev/null | awk -v n="$so" '$1 == n { print $NF; exit }')
    [ -n "$p" ] && found=$(dirname "$p")
  fi
  [ -n "$found" ] && add "$found"
done
export LD_LIBRARY_PATH="$cuda${cuda:+:}$libs/use${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[ -f "$here/lib/libstrata_cuda.so" ] && export STRATA_CUDA_PLUGIN="$here/lib/libstrata_cuda.so"
progs="$here/bin/strata ${STRATA_CUDA_PLUGIN:-}"
# Link in a packed library only where nothing here provides it (repeat: a
# packed library can need others).
for _ in 1 2 3 4 5 6 7 8; do
  missing=$(for p in $progs; do ldd "$p" 2>/dev/null; done | awk '/not found/ { print $1 }' | sort -u)
  [ -n "$missing" ] || break
  added=0
  for m in $missing; do
    if [ -e "$libs/all/$m" ] && [ ! -e "$libs/use/$m" ]; then ln -s "$libs/all/$m" "$libs/use/$m"; added=1; fi
  done
  [ $added = 1 ] || break
done
for p in $progs; do
  if ldd "$p" 2>/dev/null | grep -q 'not found'; then
    echo "run.sh: libraries of $p still missing (set STRATA_CUDA_LIBS for CUDA ones):" >&2
    ldd "$p" | grep 'not found' >&2
    exit 1
  fi
done
exec "$@"
RUN
chmod +x "$OUT/run.sh"

echo "packed $OUT: bin/strata, $([ -f "$PLUGIN" ] && echo "$PLUGIN, ")lua/, $(find "$OUT/tests" -type f 2>/dev/null | wc -l) test programs, $nlibs libraries" \
     "($(du -sh "$OUT/lib.tar.xz" | cut -f1) compressed); $(du -sh "$OUT" | cut -f1) in all"
