#!/usr/bin/env bash
# fuzz/run.sh DIR TARGET SECONDS: runs DIR/TARGET (a libFuzzer binary) for
# SECONDS from fuzz/corpus/TARGET, with new inputs in DIR/corpus/TARGET.
#
# A crash whose first frame outside the sanitizer runtime and libc lies in a
# third-party library (HDF5 1.10 has known crashes on corrupt files, e.g.
# freeing uninitialised pointers) is kept under DIR/third-party/ and reported,
# and fuzzing goes on for the time left; any other crash, leak or timeout
# fails the run (exit 1) with the report.
set -u
dir=$1 target=$2 seconds=$3
bin=$dir/$target
mkdir -p "$dir/corpus/$target" "$dir/third-party" "fuzz/corpus/$target"
log=$dir/$target.log
: >"$log"
start=$(date +%s)
third=0 execs=0 runs=0
while :; do
  left=$((seconds - ($(date +%s) - start)))
  [ "$left" -gt 0 ] || break
  runs=$((runs + 1))
  "$bin" -max_total_time="$left" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$dir/crash-$target-" "$dir/corpus/$target" "fuzz/corpus/$target" >"$log.run" 2>&1
  rc=$?
  cat "$log.run" >>"$log"
  execs=$((execs + $(awk '/^stat::number_of_executed_units/ {print $2}' "$log.run" | tail -1 | grep . || echo 0)))
  [ "$rc" -eq 0 ] && break
  artifact=$(sed -n "s/.*Test unit written to \(.*\)$/\1/p" "$log.run" | tail -1)
  # The first stack frame that is neither the sanitizer runtime, libc nor libFuzzer.
  frame=$(grep -E '^ +#[0-9]+ 0x' "$log.run" \
    | grep -vE ' in (__asan|__lsan|__ubsan|__sanitizer|__interceptor_|fuzzer::)| in (abort|raise|main|_start|__libc_start_call_main|__libc_start_main|__pthread_kill_implementation|pthread_kill) |libc\.so| (string|stdlib|nptl|signal|csu)/|sysdeps/' \
    | head -1)
  if [ -n "$artifact" ] && echo "$frame" | grep -qE '\((/usr)?/lib/[^ ]*(libhdf5|libpng|libjpeg|libcjson|liblua|libopenblas|libgomp|libomp)'; then
    third=$((third + 1))
    mv "$artifact" "$dir/third-party/"
    echo "fuzz: $target: a crash inside a third-party library (kept in $dir/third-party/$(basename "$artifact")):"
    echo "fuzz:   $(echo "$frame" | sed 's/^ *//' | cut -c1-160)"
    continue
  fi
  tail -80 "$log.run"
  echo "fuzz: $target FAILED (exit $rc; log $log${artifact:+; input $artifact})"
  exit 1
done
rm -f "$log.run"
echo "fuzz: $target: $execs inputs in ${seconds} s, no crash in strata's code$([ $third -gt 0 ] && echo "; $third inside third-party libraries (see above)")"
