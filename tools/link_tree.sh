#!/bin/sh
# link_tree.sh DIR [SKIP...]: a test tree for an alternative build (make asan,
# make test-cuda-emu). Tests call bin/strata by that name, so such a build runs
# them in DIR/root: links to this checkout's top-level entries, except its
# own bin/, lib/ (the CUDA plugin) and results/, build folders and the SKIP names. Run from the
# repository root.
set -eu
dir=$1; shift
rm -rf "$dir/root"
mkdir -p "$dir/root/bin" "$dir/root/lib" "$dir/root/results" "$dir/obj"
for f in $(ls -A); do
  case " bin lib results .git $* " in *" $f "*) continue ;; esac
  case "$f" in build*) continue ;; esac
  ln -s "$PWD/$f" "$dir/root/$f"
done
