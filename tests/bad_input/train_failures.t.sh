#!/usr/bin/env bash
# Training failures end a run cleanly: exit status 1 and one error line that
# says what went wrong and where, with the last good checkpoint intact.
#  a. a NaN/Inf loss names the iteration, the term and the last good checkpoint
#     (a real one from a huge learning rate; an injected one with
#     STRATA_INJECT_NAN_AT), and a rerun resumes from that checkpoint;
#  b. a full disk while writing a checkpoint (STRATA_FAIL_WRITE_AFTER_BYTES,
#     and a real small tmpfs when this runs as root and may mount one) leaves
#     the previous checkpoint loadable, no temporary file behind, and a rerun
#     resumes from it;
#  c. running out of memory (STRATA_FAIL_ALLOC_AFTER) names the tensor's
#     shape and size.
set -u

tmp=$(mktemp -d)
mnt=
cleanup() { [ -n "$mnt" ] && umount "$mnt" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
n=0; fail=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
show() { sed 's/^/#   /' "$1"; }

bin/strata run tests/e2e/tiny_data.lua "$tmp" || { echo "1..0 # SKIP cannot make data"; exit 1; }
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 --seed 3 >/dev/null
common=(--set "data.train=$tmp/images" --set "style.image=$tmp/style.png" --set "vgg.weights=$tmp/vgg.h5"
        --set "sample.image=$tmp/images/1.png")
# tiny RUN [OUTPUT_DIR] [--set ...]: a tiny run; stdout to $tmp/RUN.out, stderr to $tmp/RUN.err
tiny() {
  local run=$1 out=${2:-$tmp/results}
  shift 2
  bin/strata run tests/e2e/tiny.lua "${common[@]}" --set "output.dir=$out" --set "run=$run" "$@" \
    >"$tmp/$run.out" 2>"$tmp/$run.err"
}
# one_error RUN PATTERN: exit status was 1 and stderr is one line matching PATTERN
one_error() { [ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/$1.err")" -eq 1 ] && grep -Eq -- "$2" "$tmp/$1.err"; }
cat >"$tmp/load.lua" <<'LUA'
local w = require("strata").weights.load(arg[1])
print(w.attrs.kind, w.attrs.iteration, #w.order)
LUA

# a1. A real NaN: a learning rate of 1e30 blows the network up at once.
tiny nan "" --set optim.lr=1e30; rc=$?
one_error nan "^strata: iteration [0-9]+: the (content|style|tv) loss is -?(nan|inf); stopping \(last good checkpoint: none yet\)$"
ok $? "a NaN loss from lr=1e30 stops with one line naming the iteration and the term" || show "$tmp/nan.err"
[ ! -e "$tmp/results/tiny/nan/model.h5" ]; ok $? "and writes no model.h5"

# a2. An injected NaN at iteration 15, after the checkpoint at 10.
STRATA_INJECT_NAN_AT=15 tiny inj ""; rc=$?
ckpt=$tmp/results/tiny/inj/checkpoints/ckpt_00000010.h5
one_error inj "^strata: iteration 15: the tv loss is -?nan; stopping \(last good checkpoint: $ckpt\)$"
ok $? "an injected NaN at iteration 15 names iteration 15, the tv term and ckpt_00000010.h5" || show "$tmp/inj.err"
[ "$(bin/strata run "$tmp/load.lua" "$ckpt")" = "$(printf 'checkpoint\t10\t')$(bin/strata run "$tmp/load.lua" "$ckpt" | cut -f3)" ] \
  && ! ls "$tmp/results/tiny/inj/checkpoints" | grep -qv '^ckpt_00000010.h5$'
ok $? "the named checkpoint loads (iteration 10) and is the only one"
tiny inj ""; rc=$?
[ "$rc" -eq 0 ] && grep -q "resuming .* from $ckpt" "$tmp/inj.out" && [ -s "$tmp/results/tiny/inj/model.h5" ]
ok $? "a rerun resumes from it and finishes"

# a3. A precision that does not exist; TF32 asked of a CPU run.
tiny prec "" --set precision=fp16 --set schedule.iterations=2; rc=$?
one_error prec '^strata: precision: expected one of "fp32", "tf32", got "fp16"'
ok $? "precision = fp16 is an error naming the choices" || show "$tmp/prec.err"
tiny tf32cpu "" --set precision=tf32 --set schedule.iterations=2; rc=$?
[ "$rc" -eq 0 ] && grep -q 'applies to GPUs only' "$tmp/tf32cpu.out" && grep -q 'on cpu (fp32)' "$tmp/tf32cpu.out"
ok $? "precision = tf32 on the CPU trains in float32 and says so"

# a4. A VGG pooling that does not exist (vgg.pool: "same" | "floor").
tiny pool "" --set vgg.pool=ceil --set schedule.iterations=2; rc=$?
one_error pool '^strata: vgg.pool: expected one of "same", "floor", got "ceil"'
ok $? "vgg.pool = ceil is an error naming the key and the choices" || show "$tmp/pool.err"

# b1. The disk fills up while the second checkpoint is written.
# (ref keeps all its checkpoints, to compare; the count is not part of a checkpoint.)
tiny ref "" --set schedule.keep_checkpoints=10; rc=$?
size=$(stat -c %s "$tmp/results/tiny/ref/checkpoints/ckpt_00000010.h5")
STRATA_FAIL_WRITE_AFTER_BYTES=$((size + size / 2)) tiny full ""; rc=$?
c=$tmp/results/tiny/full/checkpoints
one_error full "^strata: $c/ckpt_00000020.h5: cannot write [0-9]+ bytes to '$c/ckpt_00000020.h5.tmp.[0-9]+': No space left on device$"
ok $? "a full disk while writing a checkpoint fails with one line naming the file and the cause" || show "$tmp/full.err"
[ "$(ls "$c")" = ckpt_00000010.h5 ]; ok $? "the previous checkpoint is there and no temporary file is left"
cmp -s "$c/ckpt_00000010.h5" "$tmp/results/tiny/ref/checkpoints/ckpt_00000010.h5"
ok $? "the previous checkpoint is intact (the same bytes as an undisturbed run's)"
bin/strata run "$tmp/load.lua" "$c/ckpt_00000010.h5" | grep -q "^checkpoint	10	"; ok $? "and loads"
tiny full ""; rc=$?
[ "$rc" -eq 0 ] && grep -q "resuming .* from $c/ckpt_00000010.h5" "$tmp/full.out"; ok $? "a rerun resumes from it"
d=$(bin/strata run tests/e2e/weights_maxdiff.lua "$tmp/results/tiny/ref/model.h5" "$tmp/results/tiny/full/model.h5")
awk -v d="$d" 'BEGIN { exit !(d != "" && d + 0 == 0) }'; ok $? "and ends with the weights of the undisturbed run (max difference $d)"

# b2. The same on a real full filesystem: a tmpfs just big enough for one checkpoint.
if [ "$(id -u)" = 0 ] && mkdir "$tmp/mnt" && mount -t tmpfs -o size=$(( (size * 3 / 2 + 65536) / 4096 * 4096 )) tmpfs "$tmp/mnt" 2>/dev/null; then
  mnt=$tmp/mnt
  tiny disk "$mnt"; rc=$?
  c=$mnt/tiny/disk/checkpoints
  one_error disk "^strata: $c/ckpt_000000[0-9]0.h5: cannot write [0-9]+ bytes to .*: No space left on device$"
  ok $? "on a full tmpfs: one line naming the checkpoint and 'No space left on device'" || show "$tmp/disk.err"
  last=$(ls "$c" | tail -1)
  [ -n "$last" ] && ! ls "$c" | grep -q tmp && bin/strata run "$tmp/load.lua" "$c/$last" | grep -q "^checkpoint	"
  ok $? "the previous checkpoint ($last) loads and no temporary file is left"
  mount -o remount,size=16m "$mnt"
  tiny disk "$mnt"; rc=$?
  [ "$rc" -eq 0 ] && grep -q "resuming .* from $c/$last" "$tmp/disk.out"; ok $? "with space again, a rerun resumes from it"
else
  skip "cannot mount a tmpfs here (needs root): the real full-disk case"
  skip "cannot mount a tmpfs here"
  skip "cannot mount a tmpfs here"
fi

# c. Out of memory, early (the first tensor) and in the middle of training.
# The first allocation is a tensor; mid-training it may be a kernel's scratch
# buffer, which the message names instead of a shape. The tiny run makes about
# 300 system allocations in all (the caching allocator reuses the rest), a
# count that moves by a few with the Lua collector's timing: 200 is safely
# after setup and before the end.
for at in 1 200; do
  STRATA_FAIL_ALLOC_AFTER=$at tiny "oom$at" ""; rc=$?
  what='a tensor of shape \[[0-9, ]+\]'
  [ "$at" -eq 1 ] || what="($what|[a-zA-Z][^()]*)"
  one_error "oom$at" "^strata: (.*: )?out of memory on cpu allocating [0-9.]+ [KMG]?i?B for $what \([0-9.]+ [KMG]?i?B already in use\)$"
  ok $? "running out of memory at allocation $at names what was allocated and its size: $(cat "$tmp/oom$at.err")"
done

echo "1..$n"
exit $fail
