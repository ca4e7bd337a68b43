#!/usr/bin/env bash
# experiments/depth_edges.lua, a loss term defined in an experiment file, at
# tiny size (random width/16 networks): it trains, its column is in log.csv,
# the progress lines and report.md; the resolved experiment.lua records the
# term's functions and reloads to the same experiment; an unknown layer is
# an error naming the closest.
. tests/tap.sh

bin/strata run tests/e2e/tiny_data.lua "$tmp" >/dev/null
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 --seed 3 >/dev/null
bin/strata weights random fcrn "$tmp/fcrn.h5" --width-div 16 --seed 4 >/dev/null
# tests/e2e/tiny.lua's sizes on depth_edges.lua (also as a sweep's fixed settings).
common=(--set "data.train=$tmp/images" --set "style.image=$tmp/style.png" --set "vgg.weights=$tmp/vgg.h5"
        --set "depth.weights=$tmp/fcrn.h5" --set "output.dir=$tmp/results" --set "sample.image=$tmp/images/1.png"
        --set data.size=32 --set data.batch=2 --set 'model.channels={8,16,16}' --set model.blocks=1
        --set 'loss.style.layers={"relu1_1","relu2_1","relu3_1"}' --set loss.content.layer=relu3_1
        --set optim.lr=0.01 --set schedule.iterations=30 --set schedule.log_every=5
        --set schedule.checkpoint_every=1000 --set sample.size=32)
bin/strata run experiments/depth_edges.lua "${common[@]}" >"$tmp/run.out" 2>&1
ok $? "depth_edges.lua trains"
r=$tmp/results/depth_edges/default
head -n 1 "$r/log.csv" | grep -q '^iteration,epoch,content,style,tv,depth,depth_edges,total,'
ok $? "log.csv has a depth_edges column after the registered terms"
col=$(head -n 1 "$r/log.csv" | tr , '\n' | grep -nx depth_edges | cut -d: -f1)
first=$(awk -F, -v c="$col" 'NR == 2 {print $c}' "$r/log.csv"); last=$(awk -F, -v c="$col" 'END {print $c}' "$r/log.csv")
awk -v f="$first" -v l="$last" 'BEGIN { exit !(f > 0 && l > 0 && l < f) }'
ok $? "its logged value is positive and falls ($first -> $last)"
grep -q "depth_edges [0-9]" "$tmp/run.out"; ok $? "progress lines show it"
grep -q "^- final losses: content .*, depth [^,]*, depth_edges [0-9.e+-]*, total " "$r/report.md"
ok $? "report.md gives its final value"

cat >"$tmp/reload.lua" <<'LUA'
-- Resolving the recorded experiment.lua and writing it again gives the same text.
local experiment = require "strata.experiment"
local path = arg[1]
local f = io.open(path) local text = f:read("a") f:close()
local exp = experiment.resolve(dofile(path), path)
io.write(("return " .. experiment.serialize(exp) .. "\n") == text and "same" or "different", " ",
  type(exp.loss.depth_edges.value), "\n")
LUA
[ "$(bin/strata run "$tmp/reload.lua" "$r/experiment.lua")" = "same function" ]
ok $? "experiment.lua records the term's functions and reloads to the same experiment"

bin/strata run experiments/depth_edges.lua "${common[@]}" --set run=bad --set 'loss.depth_edges.layers={"dept"}' \
  >"$tmp/bad.out" 2>&1
[ $? -eq 1 ] && grep -q "^strata: loss.depth_edges.layers: expected a layer of depth (depth.model = \"fcrn\") (did you mean 'depth'?), got \"dept\"" "$tmp/bad.out"
ok $? "an unknown layer in the term is an error naming the key and the closest layer"

# A sweep over the term's weight: its column joins the summary, with a plot.
sets=()
for ((i = 1; i < ${#common[@]}; i += 2)); do sets+=("${common[$i]}"); done
{ echo 'return { name = "edges_sweep", base = "experiments/depth_edges.lua",'
  echo '  grid = { ["loss.depth_edges.weight"] = { 0, 100 } }, set = {'
  for a in "${sets[@]}" schedule.iterations=3; do echo "    [==[$a]==],"; done
  echo '} }'; } >"$tmp/sweep.lua"
bin/strata sweep "$tmp/sweep.lua" >"$tmp/sweep.out" 2>&1
ok $? "a sweep over loss.depth_edges.weight runs" || sed 's/^/#   /' "$tmp/sweep.out"
s=$tmp/results/edges_sweep
head -n 1 "$s/summary.csv" | grep -q ',iteration,content,style,tv,depth,depth_edges,total'
ok $? "summary.csv has the term's column"
awk -F, 'NR == 2 && $9 == 0 { z = 1 } NR == 3 && $9 > 0 { p = 1 } END { exit !(z && p) }' "$s/summary.csv"
ok $? "which is 0 for the run with weight 0 and positive for the other"
[ -s "$s/plot_depth_edges.png" ] && grep -q 'plot_depth_edges.png' "$s/summary.md"; ok $? "and is plotted"

tap_end
