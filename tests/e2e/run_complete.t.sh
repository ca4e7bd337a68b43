#!/usr/bin/env bash
# Complete means complete (issue 11, section 5): a run killed at any point
# while it writes its outputs (the test-only hook STRATA_TEST_KILL_AT=<stage>
# sends it SIGKILL right after that stage) is finished by a rerun: model.h5,
# report.md, the final sample and the completion marker, with the weights of
# an uninterrupted run, and without training again. A finished run that lost
# an output is not "complete" either.
. tests/tap.sh

bin/strata run tests/e2e/tiny_data.lua "$tmp" || { echo "1..0 # SKIP cannot make data"; exit 1; }
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 --seed 3 >/dev/null
common=(--set "data.train=$tmp/images" --set "style.image=$tmp/style.png" --set "vgg.weights=$tmp/vgg.h5"
        --set "output.dir=$tmp/results" --set "sample.image=$tmp/images/1.png" --set schedule.iterations=20)
show() { sed 's/^/#   /' "$1"; }
# killed OUT CMD...: runs CMD (output to OUT) in a child shell, so that the
# shell's own "Killed" notice stays out of the test's output; returns CMD's status
killed() { local out=$1; shift; OUT=$out bash -c '"$@" >"$OUT" 2>&1; exit $?' _ "$@" 2>/dev/null; }
whole() { # RUN: every output of a finished run is there
  local d=$tmp/results/tiny/$1
  [ -s "$d/model.h5" ] && [ -s "$d/report.md" ] && [ -s "$d/samples/iter_00000020.png" ] && [ -s "$d/complete" ]
}

bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=ref >"$tmp/ref.out" 2>&1
ok $? "an uninterrupted run"
whole ref; ok $? "writes model.h5, report.md, its final sample and the completion marker"

for stage in final_checkpoint model report sample; do
  d=$tmp/results/tiny/k_$stage
  STRATA_TEST_KILL_AT=$stage killed "$tmp/k1.out" bin/strata run tests/e2e/tiny.lua "${common[@]}" --set "run=k_$stage"
  rc=$?
  [ $rc -eq 137 ] && [ ! -e "$d/complete" ]; ok $? "killed right after '$stage' (exit $rc): no completion marker"
  bin/strata run tests/e2e/tiny.lua "${common[@]}" --set "run=k_$stage" >"$tmp/k2.out" 2>&1
  [ $? -eq 0 ] && ! grep -q "nothing to do" "$tmp/k2.out" && grep -q "resuming .* (iteration 20)" "$tmp/k2.out" \
    && ! grep -q "iter [0-9]*/20" "$tmp/k2.out"
  ok $? "the rerun finishes it from the final checkpoint without training" || show "$tmp/k2.out"
  whole "k_$stage"; ok $? "and every output is there"
  [ "$(bin/strata run tests/e2e/weights_maxdiff.lua "$tmp/results/tiny/ref/model.h5" "$d/model.h5")" = 0 ]
  ok $? "with the uninterrupted run's weights"
done
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=k_model >"$tmp/k3.out" 2>&1
[ $? -eq 0 ] && grep -q "complete; nothing to do" "$tmp/k3.out"; ok $? "a further rerun finds it complete"

# A finished run missing its report is finished again, not called complete.
rm "$tmp/results/tiny/ref/report.md"
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=ref >"$tmp/ref2.out" 2>&1
[ $? -eq 0 ] && ! grep -q "nothing to do" "$tmp/ref2.out" && whole ref
ok $? "a run whose report.md was lost writes it again" || show "$tmp/ref2.out"

tap_end
