#!/usr/bin/env bash
# Experiment values are checked once, up front (issue 11, section 7): each bad
# value, in `strata run`, `strata eval` and `strata sweep`, fails with exit
# status 1 and one error line "strata: ..." that names the key and what was
# expected, shows no position inside lua/strata/, and comes before anything
# is written. Also: a table error() in an experiment file prints readably; a
# --set table literal that never ends fails quickly; an internal error shows
# its position only at the end (the traceback with STRATA_DEBUG=1).
. tests/tap.sh

bin/strata run tests/e2e/tiny_data.lua "$tmp" >/dev/null || { echo "1..0 # SKIP cannot make data"; exit 1; }
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 --seed 3 >/dev/null
common=(--set "data.train=$tmp/images" --set "style.image=$tmp/style.png" --set "vgg.weights=$tmp/vgg.h5"
        --set "sample.image=$tmp/images/1.png" --set "output.dir=$tmp/results" --set schedule.iterations=2)
cat >"$tmp/small.lua" <<'LUA'
local strata = require "strata"
strata.image.write(arg[1], strata.zeros({ 3, 3, 3 }))
LUA
bin/strata run "$tmp/small.lua" "$tmp/small.png"
printf 'not an image\n' >"$tmp/text.png"

# bad DESCRIPTION KEY TEXT COMMAND...: exit 1 within 60 s, one stderr line
# starting "strata: " with KEY and TEXT in it and no lua/strata/ position,
# and no results folder. "tiny" as the command: the tiny experiment.
bad() {
  local desc=$1 key=$2 text=$3
  shift 3
  if [ "$1" = tiny ]; then shift; set -- bin/strata run tests/e2e/tiny.lua "${common[@]}" "$@"; fi
  rm -rf "$tmp/results"
  timeout 60 "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q '^strata: ' "$tmp/err" \
    && grep -qF -- "$key" "$tmp/err" && grep -qF -- "$text" "$tmp/err" && ! grep -q 'lua/strata/' "$tmp/err" \
    && [ ! -e "$tmp/results" ]
  local st=$?
  ok $st "$desc"
  [ $st -eq 0 ] || { echo "# exit $rc, stderr:"; sed 's/^/#   /' "$tmp/err" | head -5; }
}

# Integers, positive values, cadences, enumerations.
bad "negative iterations" schedule.iterations "expected an integer >= 0, got -1" tiny --set schedule.iterations=-1
bad "fractional iterations" schedule.iterations "got 2.5" tiny --set schedule.iterations=2.5
bad "log_every 0" schedule.log_every "expected an integer >= 1, got 0" tiny --set schedule.log_every=0
bad "checkpoint_every 0" schedule.checkpoint_every "expected an integer >= 1" tiny --set schedule.checkpoint_every=0
bad "fractional seed" seed "expected an integer, got 1.5" tiny --set seed=1.5
bad "lr 0" optim.lr "expected a number > 0" tiny --set optim.lr=0
bad "negative lr" optim.lr "got -1" tiny --set optim.lr=-1
bad "beta1 1" optim.beta1 "< 1" tiny --set optim.beta1=1
bad "negative blocks" model.blocks "expected an integer >= 0" tiny --set model.blocks=-1
bad "two channel widths" model.channels "a list of 3 entries, got 2" tiny --set 'model.channels={8,16}'
bad "batch 0" data.batch "expected an integer >= 1" tiny --set data.batch=0
bad "device tpu" device '"cpu", "cuda" or "cuda:N"' tiny --set device=tpu
bad "padding valid" model.padding 'one of "same", "reflect"' tiny --set model.padding=valid
bad "unknown VGG layer" loss.style.layers "did you mean 'relu1_1'" tiny --set 'loss.style.layers={"relu1_1","relu9_1"}'
bad "a value's origin: the file" schedule.log_every "(set in $tmp/bad_file.lua)" \
  bash -c "printf 'return { schedule = { log_every = -5 } }\n' >'$tmp/bad_file.lua'; bin/strata run '$tmp/bad_file.lua'"

# Images below the networks' minimum sizes: the minimum and the key. VGG-19
# has minima with floor pooling (vgg.pool = "floor"); "same" runs from 1x1.
bad "data.size not a multiple of 4" data.size "a multiple of 4, got 30" tiny --set data.size=30
bad "data.size below VGG-19's relu5_1" data.size "below the minimum 16" tiny --set data.size=8 \
  --set 'loss.style.layers={"relu1_1","relu5_1"}' --set vgg.pool=floor
bad "data.size below reflect padding's" data.size "below the minimum 8" tiny --set data.size=4 --set model.padding=reflect \
  --set 'loss.style.layers={"relu1_1"}' --set loss.content.layer=relu1_1
bad "style.scale shrinks the style image below relu3_1's" style.image "below the minimum 4x4" tiny --set style.scale=0.05 \
  --set vgg.pool=floor
bad "a 3x3 style image" style.image "is 3x3, below the minimum 4x4" tiny --set "style.image=$tmp/small.png" \
  --set vgg.pool=floor

# sample.image at start.
bad "missing sample.image" sample.image "cannot open '$tmp/nope.png'" tiny --set "sample.image=$tmp/nope.png"
bad "sample.image that is not an image" sample.image "cannot read '$tmp/text.png' as an image" tiny \
  --set "sample.image=$tmp/text.png"

# A table error() in an experiment file.
printf 'error({ reason = "no style chosen", code = 3 })\n' >"$tmp/tbl.lua"
bad "error({...}) in an experiment prints readably" "$tmp/tbl.lua:1:" 'error with a table value: { code = 3, reason = "no style chosen" }' \
  bin/strata run "$tmp/tbl.lua"

# A --set table literal runs under a budget.
start=$(date +%s)
bad "a --set table literal that loops forever" "--set loss.style.layers" "more than 1000000 Lua instructions" \
  tiny --set 'loss.style.layers={(function() while true do end end)()}'
[ $(($(date +%s) - start)) -lt 20 ]; ok $? "and fails quickly"

# strata eval and strata sweep check the same way.
bad "eval: size not a multiple of 4" size "a multiple of 4, got 30" bin/strata eval experiments/depth_l2.lua \
  --set "output.dir=$tmp/results" --set size=30
bad "eval: device tpu" device '"cpu", "cuda" or "cuda:N"' bin/strata eval experiments/depth_l2.lua \
  --set "output.dir=$tmp/results" --set device=tpu
bad "eval: unknown depth layer" depth.layer "did you mean 'depth'" bin/strata eval experiments/depth_l2.lua \
  --set "output.dir=$tmp/results" --set depth.layer=dpth
cat >"$tmp/sweep.lua" <<LUA
return { name = "sw", base = "tests/e2e/tiny.lua", grid = { ["schedule.log_every"] = { 5, 0 } },
  set = { ["data.train"] = "$tmp/images", ["style.image"] = "$tmp/style.png", ["vgg.weights"] = "$tmp/vgg.h5",
          ["output.dir"] = "$tmp/results", ["sample.image"] = "$tmp/images/1.png", ["schedule.iterations"] = 4 } }
LUA
bad "sweep: a bad grid value fails before any run starts" "run schedule.log_every=0: schedule.log_every" \
  "expected an integer >= 1, got 0" bin/strata sweep "$tmp/sweep.lua"
sed -i 's/{ 5, 0 }/{ 5, 10 }/' "$tmp/sweep.lua"
bad "sweep: a missing sample.image fails before any run starts" sample.image "cannot open '$tmp/nope.png'" \
  bin/strata sweep "$tmp/sweep.lua" --set "sample.image=$tmp/nope.png"

bad "stylize --device tpu" "--device 'tpu'" '"cpu", "cuda" or "cuda:N"' bin/strata stylize --device tpu \
  --model "$tmp/no_model.h5" "$tmp/images/1.png" "$tmp/results/out.png"

# A model file (a loss network's .lua model) raising a table error.
printf 'error({ why = "broken model" })\n' >"$tmp/model.lua"
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set "depth.model=$tmp/model.lua" --set "depth.weights=$tmp/vgg.h5" \
  --set loss.depth.weight=1 2>"$tmp/err"
[ $? -eq 1 ] && grep -qF "depth.model: $tmp/model.lua: error with a table value: { why = \"broken model\" }" "$tmp/err"
ok $? "a loss network's model file raising a table error prints it readably"

# An internal error (here a script's misuse of the library) ends with its
# position; STRATA_DEBUG=1 keeps the traceback.
printf 'require("strata.models.vgg19").build({ width_div = 64 }):features(nil, { "relu1_1" })\n' >"$tmp/misuse.lua"
bad "an internal error shows no lua/strata/ position" "(in strata/models/vgg19.lua:" "STRATA_DEBUG=1 shows the traceback" \
  bin/strata run "$tmp/misuse.lua"
STRATA_DEBUG=1 bin/strata run "$tmp/misuse.lua" 2>"$tmp/err"
grep -q 'lua/strata/models/vgg19.lua:[0-9]*: attempt' "$tmp/err" && grep -q 'stack traceback' "$tmp/err"
ok $? "with STRATA_DEBUG=1 the position and traceback stay"

# The good case still trains.
bin/strata run tests/e2e/tiny.lua "${common[@]}" >"$tmp/out" 2>&1
ok $? "the tiny experiment itself trains"
tap_end
