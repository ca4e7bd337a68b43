#!/usr/bin/env bash
# fuzz/run.sh DIR TARGET SECONDS: runs DIR/TARGET (a libFuzzer binary) for
# SECONDS from fuzz/corpus/TARGET, with new inputs in DIR/corpus/TARGET.
#
# Any crash, sanitizer report, leak, timeout or out-of-memory fails the run
# (exit 1) with the report and the input, whichever library's frame is on
# top: every target enters through strata's own entry points, so a crash
# there is a crash of strata (libhdf5's own crashes on corrupt files are
# contained by parsing in a child process, engine/io/isolate.c).
set -u
target=$2 seconds=$3
mkdir -p "$1/corpus/$target" "fuzz/corpus/$target"
dir=$(cd "$1" && pwd) # absolute: a target may change its working folder while it runs
bin=$dir/$target
log=$dir/$target.log
"$bin" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
  -artifact_prefix="$dir/crash-$target-" "$dir/corpus/$target" "$PWD/fuzz/corpus/$target" >"$log" 2>&1
rc=$?
execs=$(awk '/^stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
if [ "$rc" -ne 0 ]; then
  artifact=$(sed -n "s/.*Test unit written to \(.*\)$/\1/p" "$log" | tail -1)
  grep -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|INITED)' "$log" | tail -80
  echo "fuzz: $target FAILED after ${execs:-?} inputs (exit $rc; log $log${artifact:+; input $artifact})"
  echo "fuzz: replay with $bin ${artifact:-INPUT}; once fixed, add the input to tests/bad_input/fuzz/"
  exit 1
fi
echo "fuzz: $target: ${execs:-?} inputs in $seconds s, no crash"
