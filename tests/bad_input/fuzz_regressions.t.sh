#!/usr/bin/env bash
# Inputs found by `make fuzz` (fuzz/), kept once their bug was fixed: each
# must now fail with exit status 1 and one error line containing the expected
# text. tests/bad_input/fuzz/<name>.<ext> is loaded by its extension:
#   .h5 as weights, .png/.jpg as an image, .json as an Engstrom manifest;
#   .lua is an experiment file whose keys must merge, and serialize to Lua
#   that loads back to the same values (exit 0, "round trip").
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0; fail=0

# file -> text its error line must contain
declare -A expect=(
  # a 2 KiB file whose float type claims 4 GiB values: the loader allocated
  # 12 GiB for H5Dread's conversion buffer (out of memory)
  [weights_huge_value_type.h5]="declares 12884901129 bytes but the file holds 12"
  [experiment_odd_keys.lua]="round trip"
  # 2 KiB whose nested group's link storage points libhdf5 1.10 at a NULL
  # copy (SIGSEGV in H5F__accum_read, listing the group): the file is now
  # parsed in a child process (engine/io/isolate.c)
  [weights_hdf5_crash_dense_links.h5]="crashed the HDF5 library"
)

cat >"$tmp/load.lua" <<'LUA'
local strata = require "strata"
local path, kind = arg[1], arg[2]
if kind == "lua" then
  local experiment = require "strata.experiment"
  local exp = experiment.merge_all(dofile(path), path, {}) -- keys checked, values not: serialize any table
  local back = load("return " .. experiment.serialize(exp), "=serialized", "t", {})()
  local function same(a, b)
    if type(a) ~= "table" then return a == b or (a ~= a and b ~= b) end
    for k, v in pairs(a) do if not same(v, b[k]) then return false end end
    for k in pairs(b) do if a[k] == nil then return false end end
    return true
  end
  assert(same(exp, back), "serialized experiment loads back different")
  print("round trip")
elseif kind == "h5" then strata.weights.load(path)
elseif kind == "json" then strata.weights.import_engstrom(path)
else strata.image.read(path) end
LUA

for f in tests/bad_input/fuzz/*; do
  name=$(basename "$f")
  kind=${name##*.}
  arg=$f
  if [ "$kind" = json ]; then mkdir -p "$tmp/$name.d"; cp "$f" "$tmp/$name.d/manifest.json"; arg=$tmp/$name.d; fi
  bin/strata run "$tmp/load.lua" "$arg" "$kind" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  n=$((n + 1))
  want=${expect[$name]:-}
  if [ "$kind" = lua ]; then
    if [ "$rc" -eq 0 ] && grep -qF -- "$want" "$tmp/out"; then echo "ok $n - $name: $want"
    else echo "not ok $n - $name (exit $rc)"; sed 's/^/#   /' "$tmp/err" | head -5; fail=1; fi
    continue
  fi
  if [ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && [ -n "$want" ] && grep -qF -- "$want" "$tmp/err"; then
    echo "ok $n - $name: $(cut -c1-150 "$tmp/err")"
  else
    echo "not ok $n - $name (exit $rc; expected one line with '$want')"
    sed 's/^/#   /' "$tmp/err" | head -5
    fail=1
  fi
done
echo "1..$n"
exit $fail
