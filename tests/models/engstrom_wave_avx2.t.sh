# The AVX2 profile end to end: with ONEDNN_MAX_CPU_ISA=AVX2 (oneDNN and
# strata's own kernels, kernels/cpu/cpu_isa.c, the few-channel conv then in
# its AVX2 version) the published 'wave' network still reproduces Engstrom's
# chicago example (engstrom_wave.t.lua's checks, run under the cap).
. tests/tap.sh
isa=$(printf 'print(require("strata").sys.cpu().isa)\n' >"$tmp/isa.lua" && ONEDNN_MAX_CPU_ISA=AVX2 bin/strata run "$tmp/isa.lua")
if [ "$isa" != avx2 ]; then
  echo "1..0 # SKIP this CPU has no AVX2 + FMA (level under the cap: $isa)"
  exit 0
fi
ok 0 "ONEDNN_MAX_CPU_ISA=AVX2 caps strata's kernels at avx2"
ONEDNN_MAX_CPU_ISA=AVX2 bin/strata run tests/models/engstrom_wave.t.lua >"$tmp/out" 2>&1
rc=$?
sed 's/^/# /' "$tmp/out"
ok $(( rc != 0 || $(grep -c '^not ok' "$tmp/out") != 0 || $(grep -c '^ok' "$tmp/out") < 5 )) \
  "engstrom_wave.t.lua passes under the AVX2 cap ($(grep -c '^ok' "$tmp/out") checks)"
tap_end
