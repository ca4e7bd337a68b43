#!/usr/bin/env bash
# The data loader says what it skipped (issue 11, section 10): with 7
# unreadable files among 15, met again in every epoch, the run counts 7
# files (not skip events), names the first few in its output, lists all 7
# in skipped_files.txt, and report.md and log.csv say 7.
. tests/tap.sh

bin/strata run tests/e2e/tiny_data.lua "$tmp" || { echo "1..0 # SKIP cannot make data"; exit 1; }
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 --seed 3 >/dev/null
for i in 1 2 3 4 5; do head -c 300 /dev/urandom >"$tmp/images/bad$i.jpg"; done
head -c 40 "$tmp/images/1.png" >"$tmp/images/cut.png"    # a truncated PNG
: >"$tmp/images/sub/empty.jpeg"                          # an empty file
show() { sed 's/^/#   /' "$1"; }
d=$tmp/results/tiny/s

# 15 files, batches of 2: 7 batches an epoch; 4 epochs meet every file.
bin/strata run tests/e2e/tiny.lua --set "data.train=$tmp/images" --set "style.image=$tmp/style.png" \
  --set "vgg.weights=$tmp/vgg.h5" --set "output.dir=$tmp/results" --set "sample.image=$tmp/images/1.png" \
  --set run=s --set schedule.iterations=28 >"$tmp/s.out" 2>&1
ok $? "a run over 8 readable and 7 unreadable images finishes" || show "$tmp/s.out"
grep -q "(15 images, batch 2" "$tmp/s.out"; ok $? "it lists 15 images"
[ "$(grep -c '^skipping unreadable training image ' "$tmp/s.out")" -eq 5 ] \
  && grep -q "further unreadable images are listed in skipped_files.txt only" "$tmp/s.out"
ok $? "its output names the first 5, then points at skipped_files.txt" || show "$tmp/s.out"
[ "$(wc -l <"$d/skipped_files.txt")" -eq 7 ] && [ "$(cut -f1 "$d/skipped_files.txt" | sort -u | wc -l)" -eq 7 ]
ok $? "skipped_files.txt lists 7 files, each once"
missing=0
for f in bad1.jpg bad2.jpg bad3.jpg bad4.jpg bad5.jpg cut.png sub/empty.jpeg; do
  grep -q "^$tmp/images/$f	." "$d/skipped_files.txt" || missing=1
done
[ $missing -eq 0 ]; ok $? "with every unreadable file's path and a reason" || show "$d/skipped_files.txt"
grep -q "15 images, 7 unreadable files skipped, listed in skipped_files.txt" "$d/report.md"
ok $? "report.md counts 7 files" || show "$d/report.md"
[ "$(awk -F, 'END { print $NF }' "$d/log.csv")" = 7 ]; ok $? "log.csv's last skipped count is 7"

tap_end
