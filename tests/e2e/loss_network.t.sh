#!/usr/bin/env bash
# Pluggable loss networks (strata.loss.networks): the depth loss pointed at
# another network by its Lua model file and HDF5 weights, here a two-layer
# network defined in this test. The run trains with it (its map is what the
# depth term reads: the same run with the network's weights scaled logs a
# different depth loss), the report names its weights, the depth-map
# evaluation uses it too (and reports each run's final loss per term); a missing model file and a layer the network lacks
# are one-line errors.
. tests/tap.sh

bin/strata run tests/e2e/tiny_data.lua "$tmp" >/dev/null
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 --seed 3 >/dev/null
cat >"$tmp/small_depth.lua" <<'LUA'
-- A small "depth network": conv 3->4, ReLU, conv 4->1, ReLU; its output is "depth".
local nn = require "strata.nn"
local Graph = require "strata.nn.graph"
return {
  build = function(opts)
    local g = Graph.new(nil, { type_name = "small_depth" })
    g:add(nn.Conv2d.new("c1", { cin = 3, cout = 4, k = 3, stride = 1, padding = 1, bias = true, device = opts.device }))
    g:add(Graph.ReLU.new("r1"))
    g:add(nn.Conv2d.new("c2", { cin = 4, cout = 1, k = 3, stride = 1, padding = 1, bias = true, device = opts.device }))
    g:add(Graph.ReLU.new("r2"))
    g:alias("depth", "r2")
    return g
  end,
}
LUA
cat >"$tmp/make_weights.lua" <<'LUA'
-- bin/strata run make_weights.lua MODEL.lua OUT.h5 SCALE: seeded random weights times SCALE.
local strata = require "strata"
local net = dofile(arg[1]).build({})
local rng = strata.rng(9)
local state = net:state()
for _, name in ipairs(state.order) do
  local t = state.params[name]
  rng:normal_(t, 0, 0.05)
  t:copy(t * tonumber(arg[3]))
end
state.attrs = { network = "small_depth", synthetic = "true", source = "test network, scale " .. arg[3] }
strata.weights.save(arg[2], state)
LUA
bin/strata run "$tmp/make_weights.lua" "$tmp/small_depth.lua" "$tmp/small.h5" 1 &&
  bin/strata run "$tmp/make_weights.lua" "$tmp/small_depth.lua" "$tmp/small2.h5" 2
ok $? "the test network's weights are written"
common=(--set "data.train=$tmp/images" --set "style.image=$tmp/style.png" --set "vgg.weights=$tmp/vgg.h5"
        --set "output.dir=$tmp/results" --set "sample.image=$tmp/images/1.png" --set schedule.iterations=10
        --set "depth.model=$tmp/small_depth.lua" --set loss.depth.weight=200)
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=a --set "depth.weights=$tmp/small.h5" >"$tmp/a.out" 2>&1
ok $? "a run with the depth loss on the test network"
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=b --set "depth.weights=$tmp/small2.h5" >"$tmp/b.out" 2>&1
ok $? "the same run with its weights doubled"
da=$(awk -F, 'NR == 2 {print $6}' "$tmp/results/tiny/a/log.csv"); db=$(awk -F, 'NR == 2 {print $6}' "$tmp/results/tiny/b/log.csv")
awk -v a="$da" -v b="$db" 'BEGIN { exit !(a > 0 && b > 0 && a != b) }'
ok $? "the depth loss comes from the test network (first logged: $da and $db)"
grep -q "^- depth weights: test network, scale 1$" "$tmp/results/tiny/a/report.md"; ok $? "the report names its weights"
grep -q "depth network ($tmp/small_depth.lua) weights are RANDOM" "$tmp/a.out"; ok $? "the run says they are random"
grep -q "model = \"$tmp/small_depth.lua\"" "$tmp/results/tiny/a/experiment.lua"; ok $? "experiment.lua records the model file"

bin/strata eval experiments/depth_l2.lua --set name=ev --set "images=$tmp/images" --set size=32 \
  --set "baseline=$tmp/results/tiny/a/model.h5" --set "depth_aware=$tmp/results/tiny/b/model.h5" \
  --set "depth.model=$tmp/small_depth.lua" --set "depth.weights=$tmp/small.h5" --set "output.dir=$tmp/results" \
  >"$tmp/eval.out" 2>&1
[ $? -eq 0 ] && [ -s "$tmp/results/ev/metrics.csv" ]; ok $? "the evaluation measures depth with the test network"
grep -q '^| model | content | style | tv | depth | total |$' "$tmp/results/ev/report.md" &&
  grep -Eq '^\| depth-aware \| [0-9.e+-]+ \| [0-9.e+-]+ \| [0-9.e+-]+ \| [0-9.e+-]+ \| [0-9.e+-]+ \|$' "$tmp/results/ev/report.md"
ok $? "its report gives each run's final loss per term"

bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=c --set "depth.weights=$tmp/small.h5" \
  --set "depth.model=$tmp/nope.lua" >"$tmp/c.out" 2>&1
[ $? -eq 1 ] && grep -q "^strata: depth.model: model file '$tmp/nope.lua' not found$" "$tmp/c.out"
ok $? "a missing model file is an error naming the key"
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=d --set "depth.weights=$tmp/small.h5" \
  --set loss.depth.layer=c3 >"$tmp/d.out" 2>&1
[ $? -eq 1 ] && grep -q "^strata: loss.depth: small_depth has no layer 'c3' (did you mean 'c1'?)$" "$tmp/d.out"
ok $? "a layer the network lacks is an error naming the term and the closest layer"

tap_end
