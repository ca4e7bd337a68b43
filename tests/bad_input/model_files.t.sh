#!/usr/bin/env bash
# Model files whose values or attributes are not a usable network (issue 11,
# section 6): each must stop `strata stylize` (and the other loaders) with
# exit status 1 and one error line naming the file and the parameter or
# attribute at fault, before any large allocation.
set -u
bin=bin/strata
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0

# A tiny transformer (channels 2,2,2, one block) saved with attributes and
# parameters changed as each case asks; and a small input image.
cat >"$tmp/make.lua" <<'LUA'
local strata = require "strata"
local transformer = require "strata.models.transformer"
strata.image.write(arg[1], strata.full({ 3, 12, 12 }, 100))
for i = 2, #arg, 2 do
  local out, case = arg[i], arg[i + 1]
  local cfg = { channels = { 2, 2, 2 }, blocks = 1, padding = "same", eps = 1e-3 }
  local net = transformer.build(cfg)
  local state = net:state()
  state.attrs = transformer.attrs(net.config)
  state.attrs.input_scale = "0.00392156862745098"
  if case == "nan_all" then
    for _, name in ipairs(state.order) do state.params[name]:fill(0 / 0) end
  elseif case == "nan_one" then
    state.params["res1.conv2.weight"]:set(0 / 0, 1, 1, 1, 1)
  elseif case == "inf_one" then
    state.params["in3.bias"]:set(1 / 0, 2)
  elseif case ~= "good" then
    local key, value = case:match("^([%w_]+)=(.*)$")
    state.attrs[key] = value
  end
  strata.weights.save(out, state)
end
LUA

# expect_error DESCRIPTION PATTERN... -- COMMAND...
expect_error() {
  local desc=$1
  shift
  local patterns=()
  while [ "$1" != "--" ]; do patterns+=("$1"); shift; done
  shift
  n=$((n + 1))
  local t0 t1
  t0=$(date +%s%N)
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  t1=$(date +%s%N)
  last_ms=$(( (t1 - t0) / 1000000 ))
  local ok=1 lines
  lines=$(wc -l <"$tmp/err")
  [ "$rc" -eq 1 ] && [ "$lines" -eq 1 ] || ok=0
  for p in "${patterns[@]}"; do grep -qF -- "$p" "$tmp/err" || ok=0; done
  if [ $ok -eq 1 ]; then
    echo "ok $n - $desc: $(cut -c1-200 "$tmp/err")"
  else
    echo "not ok $n - $desc"
    echo "# exit $rc, $lines stderr lines:"
    sed 's/^/#   /' "$tmp/err" | head -5
    fail=1
  fi
}

# Attribute cases (KEY=VALUE|expected text), checked below.
cases=(
  "blocks=100000|from 0 to 100"
  "blocks=-1|from 0 to 100"
  "blocks=1.5|from 0 to 100"
  "channels=2,2|three integers from 1 to 4096"
  "channels=0,2,2|three integers from 1 to 4096"
  "channels=2,100000,2|three integers from 1 to 4096"
  'padding=zeros|"same" or "reflect"'
  "eps=0|greater than 0 and at most 1"
  "eps=nan|greater than 0 and at most 1"
  "eps=-1e-3|greater than 0 and at most 1"
  "input_scale=1e999|greater than 0 and at most 1"
  "input_scale=0|greater than 0 and at most 1"
)
make_args=("$tmp/in.png")
for c in good nan_all nan_one inf_one; do make_args+=("$tmp/$c.h5" "$c"); done
for i in "${!cases[@]}"; do make_args+=("$tmp/attr$i.h5" "${cases[$i]%%|*}"); done
$bin run "$tmp/make.lua" "${make_args[@]}" >/dev/null 2>"$tmp/make.err" || {
  echo "# making the models failed:"; sed 's/^/#   /' "$tmp/make.err"; }

n=$((n + 1))
if $bin stylize --model "$tmp/good.h5" "$tmp/in.png" "$tmp/out.png" >/dev/null 2>"$tmp/err"; then
  echo "ok $n - the unbroken model stylizes"
else
  echo "not ok $n - the unbroken model stylizes"; sed 's/^/#   /' "$tmp/err"; fail=1
fi

expect_error "a transformer whose weights are all NaN does not stylize" \
  "$tmp/nan_all.h5" "parameter 'conv1.weight'" "non-finite" -- \
  $bin stylize --model "$tmp/nan_all.h5" "$tmp/in.png" "$tmp/out.png"
[ -e "$tmp/out.png" ] && rm -f "$tmp/out.png"
expect_error "one NaN in a residual block's weight" "$tmp/nan_one.h5" "'res1.conv2.weight'" "NaN" -- \
  $bin stylize --model "$tmp/nan_one.h5" "$tmp/in.png" "$tmp/out.png"
expect_error "one +inf in a norm's bias" "$tmp/inf_one.h5" "'in3.bias'" "+inf" -- \
  $bin stylize --model "$tmp/inf_one.h5" "$tmp/in.png" "$tmp/out.png"

# Attributes: the value, the key, the file and the allowed range, checked
# in one process through stylize.load_model (the CLI's loader) to keep the
# test short; one through the CLI.
cat >"$tmp/attrs.lua" <<'LUA'
local stylize = require "strata.stylize"
for i = 1, #arg, 3 do
  local path, key, want = arg[i], arg[i + 1], arg[i + 2]
  local ok, err = pcall(stylize.load_model, path)
  err = tostring(err)
  local good = not ok and not err:find("\n") and err:find(path, 1, true) and err:find("attribute '" .. key .. "'", 1, true)
    and err:find(want, 1, true)
  print(string.format("%s - attribute %s: %s", good and "ok" or "not ok", key, err))
end
LUA
args=()
for i in "${!cases[@]}"; do
  c=${cases[$i]}
  key=${c%%=*}
  args+=("$tmp/attr$i.h5" "$key" "${c#*|}")
done
while read -r line; do
  n=$((n + 1))
  case $line in ok*) echo "ok $n ${line#ok }" ;; *) echo "not ok $n ${line#not ok }"; fail=1 ;; esac
done < <($bin run "$tmp/attrs.lua" "${args[@]}" 2>&1)

# Through the CLI: blocks = 100000 must fail at once, not after building
# 100000 blocks (22 s and 3 GB before the check).
expect_error "stylize with blocks = 100000" "$tmp/attr0.h5" "attribute 'blocks'" "from 0 to 100" -- \
  $bin stylize --model "$tmp/attr0.h5" "$tmp/in.png" "$tmp/out.png"
n=$((n + 1))
if [ "$last_ms" -lt 10000 ]; then echo "ok $n - and fails in $last_ms ms"
else echo "not ok $n - blocks = 100000 took $last_ms ms to fail"; fail=1; fi

# A VGG-19 file whose first layer's width does not divide 64.
cat >"$tmp/vgg.lua" <<'LUA'
local strata = require "strata"
strata.weights.save(arg[1], { params = { ["conv1_1.weight"] = strata.zeros({ 3, 3, 3, 3 }) },
  attrs = { network = "vgg19" } })
require("strata.models.vgg19").from_file(arg[1])
LUA
expect_error "a VGG-19 file with 3 channels in conv1_1" "$tmp/vgg3.h5" "'conv1_1.weight'" "[3, 3, 3, 3]" -- \
  $bin run "$tmp/vgg.lua" "$tmp/vgg3.h5"

# VGG-19 and FCRN weights with one NaN (the loss networks): the file and the
# parameter are named when the network is loaded, not "the tv loss is nan"
# later.
cat >"$tmp/lossnets.lua" <<'LUA'
local strata = require "strata"
local dir = arg[1]
for _, name in ipairs({ "vgg19", "fcrn" }) do
  local model = require("strata.models." .. name)
  local net = model.build({ width_div = 64 })
  local state = net:state()
  state.attrs = { network = name }
  local victim = state.order[#state.order - 1]
  state.params[victim]:fill(0 / 0)
  local path = dir .. "/" .. name .. "_nan.h5"
  strata.weights.save(path, state)
  local ok, err = pcall(model.from_file, path)
  err = tostring(err)
  local good = not ok and err:find(path, 1, true) and err:find("'" .. victim .. "'", 1, true) and err:find("non-finite", 1, true)
  print(string.format("%s - %s weights with NaN in %s: %s", good and "ok" or "not ok", name, victim, err))
end
LUA
while read -r line; do
  n=$((n + 1))
  case $line in ok*) echo "ok $n ${line#ok }" ;; *) echo "not ok $n ${line#not ok }"; fail=1 ;; esac
done < <($bin run "$tmp/lossnets.lua" "$tmp" 2>&1)

# A file that crashes libhdf5 itself (found by fuzz_weights; issue 11,
# section 8) through every path that reads weights: one error, exit 1.
crash=tests/bad_input/fuzz/weights_hdf5_crash_dense_links.h5
expect_error "stylize --model with a file that crashes libhdf5" "$crash" "crashed the HDF5 library" -- \
  $bin stylize --model "$crash" "$tmp/in.png" "$tmp/out.png"
expect_error "weights import keras-vgg19 of that file (a clean error)" "$crash" -- \
  $bin weights import keras-vgg19 "$crash" "$tmp/k.h5"
printf 'require("strata.models.%s").from_file(arg[1])\n' vgg19 >"$tmp/vggload.lua"
expect_error "VGG-19 weights (vgg.weights) from that file" "$crash" "crashed the HDF5 library" -- \
  $bin run "$tmp/vggload.lua" "$crash"
printf 'require("strata.models.%s").from_file(arg[1])\n' fcrn >"$tmp/fcrnload.lua"
expect_error "FCRN weights (depth.weights) from that file" "$crash" "crashed the HDF5 library" -- \
  $bin run "$tmp/fcrnload.lua" "$crash"

echo "1..$n"
exit $fail
