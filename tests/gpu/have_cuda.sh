# Sourced by the GPU shell tests: ends the test with a TAP skip unless
# bin/strata sees a CUDA device (a real one, or the emulator's).
probe=$(mktemp "${TMPDIR:-/tmp}/strata-cuda-probe.XXXXXX.lua")
echo 'print(require("strata").sys.cuda_available() and "yes" or "no")' >"$probe"
answer=$(bin/strata run "$probe" 2>/dev/null)
rm -f "$probe"
if [ "$answer" != yes ]; then
  echo "1..0 # SKIP no CUDA device"
  exit 0
fi
