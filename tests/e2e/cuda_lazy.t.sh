#!/usr/bin/env bash
# The CUDA backend is a plugin loaded on first use (engine/gpu_plugin.c):
# bin/strata does not link the CUDA libraries, a CPU run does not map them,
# asking for a CUDA device without one gives the same clear message as
# before, and a plugin that cannot be loaded is named with the loader's reason.
. tests/tap.sh

# 1. No CUDA library among bin/strata's NEEDED entries.
readelf -d bin/strata >"$tmp/dyn" 2>&1
grep -q '(NEEDED)' "$tmp/dyn"; ok $? "readelf lists bin/strata's NEEDED libraries"
! grep -E '\(NEEDED\).*\[lib(cudart|cudnn|cublas|cublasLt)[.]' "$tmp/dyn"
ok $? "bin/strata does not link libcudart, libcudnn or libcublas"

# 2. A CPU run (a convolution and an image write) maps none of them; asking
# whether CUDA is there loads the plugin, where the build has one.
cat >"$tmp/maps.lua" <<'LUA'
local strata = require "strata"
local function cuda_maps()
  local hits, seen = {}, {}
  for line in io.lines("/proc/self/maps") do
    local lib = line:match("/(lib[%w_]+)[^/]*%.so[^/]*$")
    if lib and not seen[lib] and (lib:match("^libcud") or lib:match("^libcublas") or lib == "libstrata_cuda") then
      hits[#hits + 1], seen[lib] = lib, true
    end
  end
  return #hits > 0 and table.concat(hits, ",") or "none"
end
local x = strata.zeros({ 1, 3, 16, 16 })
local y = strata.ops.conv2d(x, strata.zeros({ 4, 3, 3, 3 }), nil, { stride = 1, pad = 1 })
strata.image.write(arg[1], strata.zeros({ 3, 8, 8 }))
print("cpu " .. cuda_maps() .. " " .. y:size(2))
local ok, why = strata.sys.cuda_available()
print("asked " .. cuda_maps())
print("available " .. tostring(ok))
print("reason " .. why)
local okz, err = pcall(strata.zeros, { 2 }, "cuda")
print("zeros " .. tostring(okz) .. " " .. tostring(err))
LUA
bin/strata run "$tmp/maps.lua" "$tmp/a.png" >"$tmp/out" 2>&1
ok $? "the CPU run works"
grep -qx 'cpu none 4' "$tmp/out"; ok $? "a CPU run maps no CUDA library and no plugin ($(grep '^cpu' "$tmp/out"))"

reason=$(sed -n 's/^reason //p' "$tmp/out")
if grep -qx 'available true' "$tmp/out"; then
  echo "# a CUDA device is present: the no-device messages are not checked here"
elif [ "$reason" = "this build of strata has no CUDA backend (built with CUDA=0 or without nvcc)" ]; then
  ok 0 "CPU-only build: cuda_available() says so"
  grep -qx "zeros false cannot create a tensor on cuda:0: $reason" "$tmp/out"
  ok $? "a CUDA tensor is refused with that reason"
else
  # A build with the plugin, on a machine without a GPU: the plugin loads
  # (the CUDA libraries are here) and the CUDA runtime says why there is no device.
  grep -q '^asked .*libstrata_cuda' "$tmp/out"; ok $? "asking for CUDA loaded the plugin ($(grep '^asked' "$tmp/out"))"
  [[ $reason == "no usable CUDA device ("*")" || $reason == "no CUDA device found" ]]
  ok $? "the reason is the CUDA runtime's, as before the plugin ($reason)"
  grep -qx "zeros false cannot create a tensor on cuda:0: $reason" "$tmp/out"
  ok $? "a CUDA tensor is refused with that reason"

  # The CLI falls back to the CPU with the same message.
  bin/strata weights import engstrom data/samples/reference/engstrom-wave "$tmp/t.h5" >/dev/null 2>&1
  bin/strata stylize --model "$tmp/t.h5" --device cuda --size 16x16 data/samples/content/chicago.jpg "$tmp/s.png" \
    >"$tmp/cli" 2>&1
  st=$?
  [ $st = 0 ] && [ -s "$tmp/s.png" ] && grep -qxF "strata: cuda requested but $reason; running on the CPU" "$tmp/cli"
  ok $? "stylize --device cuda says why and runs on the CPU (exit $st)"

  # 3. A plugin that cannot be loaded: the message names it and the loader's reason.
  STRATA_CUDA_PLUGIN=$tmp/missing/libstrata_cuda.so bin/strata run "$tmp/maps.lua" "$tmp/b.png" >"$tmp/missing.out" 2>&1
  grep -qxF "reason the CUDA backend $tmp/missing/libstrata_cuda.so cannot be loaded: $tmp/missing/libstrata_cuda.so: cannot open shared object file: No such file or directory" "$tmp/missing.out"
  ok $? "a missing plugin is named with dlerror's message"
  grep -q "^zeros false cannot create a tensor on cuda:0: the CUDA backend $tmp/missing/libstrata_cuda.so cannot be loaded" "$tmp/missing.out"
  ok $? "and a CUDA tensor is refused with it"
  printf 'not a shared object' >"$tmp/bad.so"
  STRATA_CUDA_PLUGIN=$tmp/bad.so bin/strata run "$tmp/maps.lua" "$tmp/c.png" >"$tmp/bad.out" 2>&1
  grep -q "^reason the CUDA backend $tmp/bad.so cannot be loaded: $tmp/bad.so: .*" "$tmp/bad.out"
  ok $? "a broken plugin file is named with dlerror's message ($(sed -n 's/^reason //p' "$tmp/bad.out"))"
fi
tap_end
