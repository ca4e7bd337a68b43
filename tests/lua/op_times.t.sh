# STRATA_OP_TIMES=1 (engine/lua/l_op_times.c): the ops a script calls are
# counted and timed, and the totals go to stderr at exit; unset, nothing is printed.
. tests/tap.sh
cat >"$tmp/ops.lua" <<'LUA'
local core = require "strata.core"
local x = core.full({ 1, 2, 4, 4 }, -1, "cpu")
for _ = 1, 3 do x = core.ops.relu(x) end
local y = core.ops.tanh(x)
print("done " .. y:shape()[4])
LUA
STRATA_OP_TIMES=1 bin/strata run "$tmp/ops.lua" >"$tmp/out" 2>"$tmp/err"
rc=$?
sed 's/^/# /' "$tmp/err"
ok $(( rc != 0 )) "the script runs with STRATA_OP_TIMES=1"
ok $(( $(grep -c '^done 4$' "$tmp/out") != 1 )) "the script's own output is unchanged"
ok $(( $(grep -cE '^relu +3 +[0-9.]+ +[0-9.]+$' "$tmp/err") != 1 )) "relu: 3 calls with their seconds and share"
ok $(( $(grep -cE '^tanh +1 ' "$tmp/err") != 1 )) "tanh: 1 call"
ok $(( $(grep -c '^conv2d ' "$tmp/err") != 0 )) "ops never called are not listed"
bin/strata run "$tmp/ops.lua" >/dev/null 2>"$tmp/err0"
ok $(( $(grep -c STRATA_OP_TIMES "$tmp/err0") != 0 )) "unset: no report"
tap_end
