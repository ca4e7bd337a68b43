#!/usr/bin/env bash
# End to end on a tiny problem: training lowers the loss; a run killed with
# SIGKILL and rerun resumes from its last checkpoint and ends with exactly the
# weights of an uninterrupted run; the outputs are all there.
# STRATA_TEST_DEVICE=cuda runs it all on the GPU (tests/gpu/train_resume_gpu.t.sh).
dev=${STRATA_TEST_DEVICE:-cpu}
. tests/tap.sh

bin/strata run tests/e2e/tiny_data.lua "$tmp" || { echo "1..0 # SKIP cannot make data"; exit 1; }
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 --seed 3 >/dev/null
common=(--set "data.train=$tmp/images" --set "style.image=$tmp/style.png" --set "vgg.weights=$tmp/vgg.h5"
        --set "output.dir=$tmp/results" --set "sample.image=$tmp/images/1.png" --set "device=$dev")

# 1. An uninterrupted run.
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=a >"$tmp/a.out" 2>&1
ok $? "uninterrupted tiny run exits 0"
a=$tmp/results/tiny/a
for f in experiment.lua log.csv model.h5 report.md; do
  [ -s "$a/$f" ]; ok $? "run writes $f"
done
grep -q "training tiny/a on $dev" "$tmp/a.out"; ok $? "it trains on $dev"
grep -q "RANDOM" "$a/report.md"; ok $? "report says the VGG weights are random"
grep -q "RANDOM" "$tmp/a.out"; ok $? "progress output says the VGG weights are random"
grep -q "it/s | ETA" "$tmp/a.out"; ok $? "progress lines show it/s and ETA"
first=$(awk -F, 'NR==2 {print $7}' "$a/log.csv"); last=$(awk -F, 'END {print $7}' "$a/log.csv")
awk -v f="$first" -v l="$last" 'BEGIN { exit !(l < 0.5 * f) }'
ok $? "total loss falls by more than half (from $first to $last)"
ls "$a/checkpoints" | grep -q ckpt_00000030.h5; ok $? "checkpoints are written"

# 2. The same run, killed (SIGKILL) after its first checkpoint, then rerun.
b=$tmp/results/tiny/b
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=b >"$tmp/b1.out" 2>&1 &
pid=$!
for _ in $(seq 1 3000); do  # up to 150 s: slow builds (sanitizers, the CUDA emulator)
  [ -e "$b/checkpoints/ckpt_00000010.h5" ] && break
  sleep 0.05
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
[ ! -e "$b/model.h5" ]; ok $? "the killed run did not finish"
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=b >"$tmp/b2.out" 2>&1
ok $? "rerunning the killed run exits 0"
grep -q "resuming" "$tmp/b2.out"; ok $? "the rerun resumes from a checkpoint"
diff=$(bin/strata run tests/e2e/weights_maxdiff.lua "$a/model.h5" "$b/model.h5")
awk -v d="$diff" 'BEGIN { exit !(d + 0 == 0) }'
ok $? "resumed run's weights equal the uninterrupted run's (max difference $diff)"
cmp -s <(cut -d, -f1-7 "$a/log.csv") <(cut -d, -f1-7 "$b/log.csv"); ok $? "resumed log.csv has the same losses"
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=b >"$tmp/b3.out" 2>&1
grep -q "complete" "$tmp/b3.out"; ok $? "rerunning a finished run does nothing"

# 3. The trained model stylizes.
bin/strata stylize --model "$a/model.h5" "$tmp/images/1.png" "$tmp/out.png" >/dev/null
ok $? "strata stylize uses the trained model.h5"

# 4. Experiment mistakes are one-line errors naming the key.
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set loss.tv.wieght=3 >"$tmp/e.out" 2>&1
[ $? -eq 1 ] && grep -q "unknown experiment key 'loss.tv.wieght' (did you mean 'loss.tv.weight'?)" "$tmp/e.out"
ok $? "a misspelt --set key names the closest valid key"
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set loss.content.layer=relu9_9 >"$tmp/e2.out" 2>&1
[ $? -eq 1 ] && grep -q "loss.content.layer: expected a layer of vgg (vgg.model = \"vgg19\") (did you mean 'relu1_1'?), got \"relu9_9\"" "$tmp/e2.out"
ok $? "a missing layer name is an error naming it"

tap_end
