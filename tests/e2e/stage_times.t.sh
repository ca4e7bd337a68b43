#!/usr/bin/env bash
# STRATA_STAGE_TIMES=1 (lua/strata/stages.lua): `strata stylize` reports on
# stderr where its wall time went, stage by stage, in order, with times that
# add up; without the variable it prints nothing of the kind.
. tests/tap.sh

bin/strata weights import engstrom data/samples/reference/engstrom-wave "$tmp/wave.h5" >/dev/null 2>&1
ok $? "the wave model imports"

before=$(date +%s.%N)
STRATA_STAGE_TIMES=1 bin/strata stylize --model "$tmp/wave.h5" --size 64x48 data/samples/content/chicago.jpg \
  "$tmp/a.png" >"$tmp/out" 2>"$tmp/err"
st=$?
after=$(date +%s.%N)
[ $st = 0 ] && [ -s "$tmp/a.png" ]; ok $? "stylize with STRATA_STAGE_TIMES=1 works (exit $st)"
grep -q '^strata stage times (stylize)' "$tmp/err"; ok $? "the report's title is on stderr"
! grep -q 'stage times' "$tmp/out"; ok $? "nothing of it on stdout"

# The stages in order: each line "  NAME  DURATION  SINCE_MAIN  CPU  FAULTS".
names=$(sed -n 's/^  \([A-Za-z][A-Za-z ()]*[a-z)]\)  *[0-9.]*  *[0-9.]*  *[0-9.]*  *[0-9]*$/\1/p' "$tmp/err" | tr '\n' '|')
[ "$names" = "Lua modules and arguments|model loaded (cpu)|image read|image resized|forward pass|output written|" ]
ok $? "the stages in order ($names)"
awk '/^  [A-Za-z].*  [0-9.]+  +[0-9.]+  +[0-9.]+ +[0-9]+$/ { d = $(NF-3); t = $(NF-2); sum += d
       if (d < 0 || t + 1e-9 < prev || (sum - t) > 0.004 || (t - sum) > 0.004) bad = 1; prev = t; n++ }
     END { exit !(n == 6 && !bad) }' "$tmp/err"
ok $? "durations are >= 0 and add up to the time since main() (within rounding)"
# CPU seconds and page faults per stage (getrusage): the forward pass and the
# first stage (which includes loading the libraries) both take some of each.
awk '/^  (Lua modules and arguments|forward pass)  .*[0-9]$/ { if ($(NF-1) > 0 && $NF > 0) n++ } END { exit n != 2 }' "$tmp/err"
ok $? "the CPU seconds and page faults of the first stage and the forward pass are positive"
grep -q '^  exec and dynamic loading  *[0-9.]*  (process start to main' "$tmp/err"
ok $? "the time before main() is reported from /proc/self/stat"

# The last line: the wall clock (seconds since the epoch) when the last stage
# ended, for timing the command from outside (bench/run.sh): inside the run.
ended=$(sed -n 's/^  (the last stage ended at \([0-9.]*\): wall clock, seconds since the epoch)$/\1/p' "$tmp/err")
[ -n "$ended" ] && awk -v a="$before" -v e="$ended" -v b="$after" 'BEGIN { exit !(a < e && e < b) }'
ok $? "the last stage's end on the wall clock lies within the run ($before < ${ended:-none} < $after)"

bin/strata stylize --model "$tmp/wave.h5" --size 64x48 data/samples/content/chicago.jpg "$tmp/b.png" >"$tmp/out2" 2>"$tmp/err2"
! grep -q 'stage times' "$tmp/out2" "$tmp/err2"; ok $? "without the variable, no report"
tap_end
