#!/usr/bin/env bash
# Paths never go through a shell (issue 11, section 1):
#  - no os.execute / io.popen anywhere in the Lua library, no system()/popen() in C;
#  - a run named with a quote, spaces and UTF-8 trains, resumes and prunes;
#  - a run name written as a shell command runs no command;
#  - `name` and `run` must be single folder names, `output.dir` not empty;
#  - --fresh removes only the run folder: never a folder outside the results
#    tree, never through a symbolic link.
. tests/tap.sh
root=$PWD

bin/strata run tests/e2e/tiny_data.lua "$tmp" || { echo "1..0 # SKIP cannot make data"; exit 1; }
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 --seed 3 >/dev/null
common=(--set "data.train=$tmp/images" --set "style.image=$tmp/style.png" --set "vgg.weights=$tmp/vgg.h5"
        --set "output.dir=$tmp/results" --set "sample.image=$tmp/images/1.png")
show() { sed 's/^/#   /' "$1"; }

# 1. The library never hands a string to a shell.
hits=$(grep -rnE 'os\.execute|io\.popen' lua/)
[ -z "$hits" ]; ok $? "no os.execute or io.popen in lua/ ${hits:+(found: $hits)}"
hits=$(grep -rnE '\b(system|popen)\(' engine/ kernels/cpu)
[ -z "$hits" ]; ok $? "no system() or popen() in engine/ or kernels/cpu ${hits:+(found: $hits)}"

# 2. A quote, spaces and UTF-8 in the run name: the run is interrupted after
# two checkpoints (an injected NaN at 25), resumes from the newer one and prunes.
odd="it's a ré sumé"
d="$tmp/results/tiny/$odd"
STRATA_INJECT_NAN_AT=25 bin/strata run tests/e2e/tiny.lua "${common[@]}" --set "run=$odd" >"$tmp/odd1.out" 2>&1
[ $? -eq 1 ] && [ -e "$d/checkpoints/ckpt_00000020.h5" ]; ok $? "a run named \"$odd\" writes its checkpoints in a folder of that name" || show "$tmp/odd1.out"
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set "run=$odd" >"$tmp/odd2.out" 2>&1
[ $? -eq 0 ] && grep -qF "resuming $d from $d/checkpoints/ckpt_00000020.h5 (iteration 20)" "$tmp/odd2.out"
ok $? "its rerun resumes from iteration 20" || show "$tmp/odd2.out"
[ "$(ls "$d/checkpoints" | tr '\n' ' ')" = "ckpt_00000020.h5 ckpt_00000030.h5 ckpt_00000040.h5 " ] && [ -s "$d/model.h5" ]
ok $? "and finishes, keeping the newest 3 checkpoints (pruning works): $(ls "$d/checkpoints" | tr '\n' ' ')"
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set "run=$odd" >"$tmp/odd3.out" 2>&1
[ $? -eq 0 ] && grep -q "complete; nothing to do" "$tmp/odd3.out"; ok $? "a third run finds it complete"

# 3. A run name that is a shell command is only a name.
evil="x'; touch pwned; echo '"
(cd "$tmp" && "$root/bin/strata" run "$root/tests/e2e/tiny.lua" "${common[@]}" --set "run=$evil" \
   --set schedule.iterations=10 >"$tmp/evil.out" 2>&1)
[ $? -eq 0 ] && [ -s "$tmp/results/tiny/$evil/model.h5" ]; ok $? "a run named \"$evil\" trains in a folder of that name" || show "$tmp/evil.out"
[ ! -e "$tmp/pwned" ] && [ ! -e "$root/pwned" ]; ok $? "and runs no command (no file 'pwned')"
rm -f "$root/pwned"

# 4. Names that are not one folder name, and an empty output.dir.
bad() { # KEY VALUE PATTERN
  bin/strata run tests/e2e/tiny.lua "${common[@]}" --set "$1=$2" --set schedule.iterations=2 >"$tmp/bad.out" 2>&1
  [ $? -eq 1 ] && grep -q -- "$3" "$tmp/bad.out"
}
bad run "../../victim" "^strata: run: \"../../victim\" may not contain '/'"; ok $? "run = ../../victim is refused, naming the key"
bad run ".." "^strata: run: \"..\" may not be '..'"; ok $? "run = .. is refused"
bad run "." "^strata: run: \".\" may not be '.'"; ok $? "run = . is refused"
bad run "" "^strata: run: \"\" may not be empty"; ok $? "an empty run is refused"
bad name "a/b" "^strata: name: \"a/b\" may not contain '/'"; ok $? "name = a/b is refused"
bad run "$(printf 'a\tb')" "^strata: run: .* may not contain control characters (byte 9)"; ok $? "a tab in run is refused"
bad run "$(printf 'a\nb')" "may not contain control characters (byte 10)"; ok $? "a line break in run is refused"
bad output.dir "" "^strata: output.dir: may not be empty"; ok $? "an empty output.dir is refused"

# 5. --fresh removes the run folder only.
mkdir -p "$tmp/victim" && echo keep >"$tmp/victim/precious"
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set "run=../../victim" --fresh >"$tmp/f1.out" 2>&1
[ $? -eq 1 ] && [ -e "$tmp/victim/precious" ]; ok $? "--fresh with run = ../../victim deletes nothing outside the results tree"
mkdir -p "$tmp/results/tiny" && ln -s "$tmp/victim" "$tmp/results/tiny/link"
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=link --fresh >"$tmp/f2.out" 2>&1
[ $? -eq 1 ] && grep -q "is a symbolic link; --fresh will not delete what it points to" "$tmp/f2.out" && [ -e "$tmp/victim/precious" ]
ok $? "--fresh on a run folder that is a symbolic link refuses and leaves its target alone" || show "$tmp/f2.out"
mkdir -p "$tmp/results/tiny/other" && echo x >"$tmp/results/tiny/other/keep"
ln -s "$tmp/victim" "$d/outside"
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set "run=$odd" --set schedule.iterations=10 --fresh >"$tmp/f3.out" 2>&1
[ $? -eq 0 ] && [ -e "$tmp/victim/precious" ] && [ -e "$tmp/results/tiny/other/keep" ] && [ ! -e "$d/outside" ] \
  && [ ! -e "$d/checkpoints/ckpt_00000040.h5" ] && grep -q "^training tiny/$odd" "$tmp/f3.out"
ok $? "--fresh empties the run folder (a link inside is removed, not followed), leaves other runs, and retrains" || show "$tmp/f3.out"

tap_end
