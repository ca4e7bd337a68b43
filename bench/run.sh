#!/usr/bin/env bash
# `make bench`: strata CPU vs PyTorch CPU, run alternately in rounds so both
# see the same machine state:
#   - stylize WxH: Engstrom's transformer forward (pretrained wave weights,
#     chicago.jpg squashed to WxH; both in data/samples).
#   - train SxS: one training step of the baseline experiment (transformer +
#     VGG-19 to relu5_1 + content/style/TV losses + Adam), batch 4, random
#     images and random VGG weights; needs nothing but the two programs.
#   - train SxS +depth: the same plus the depth loss (FCRN on the content and
#     the stylized batch, MSE of its depth map, weight 200), random FCRN weights.
#   - stylize-big WxH: the stylize case on a large photo (2048x1360), for the
#     peak-memory goal (strata at most 0.6x PyTorch's peak RSS).
#   - e2e WxH: `strata stylize` end to end (process start to PNG written) vs
#     the PyTorch script doing the same; strata's goal is within 1.3x of its
#     own forward pass (the stylize case at the same size, same profile).
# Every case runs under each ISA profile (PROFILES, "native avx2"): native is
# the machine's own ISA; avx2 sets ONEDNN_MAX_CPU_ISA=AVX2 (oneDNN and
# strata's own kernels, kernels/cpu/cpu_isa.c) and ATEN_CPU_CAPABILITY=avx2
# (PyTorch) for both sides. Peak RSS of every process comes from /usr/bin/time.
# Builds nothing (make bench depends on bin/strata).
#
# Env: ROUNDS (default 5), REPEAT (default 3; forwards per stylize process),
# STEPS (default 3; training steps per process); the first repetition of every
# process is a discarded warm-up. STYLE_CASES ("256x256 712x474"),
# TRAIN_CASES ("128 256"), DEPTH_CASES ("128 256": sizes of the +depth cases),
# DEPTH_ROUNDS (3: rounds of the +depth cases at 256 and above, whose PyTorch
# steps take ~10 s), PYTHON (/usr/bin/python3), STRATA (bin/strata: another
# build to compare, e.g. one linked differently), PROFILES ("native avx2"),
# BIG_CASES ("2048x1360"), BIG_ROUNDS (1; each process runs 2 forwards),
# E2E_CASES ("712x474"), E2E_ROUNDS (7: one wall time per process, a few
# tenths of a second each, and the noisiest figure: page faults and library
# loading vary with the VM's state), FMA_UNITS (2: FMA pipes per core, for
# the peak).
set -u
cd "$(dirname "$0")/.." || exit 2

DATA=data/samples
WEIGHTS=$DATA/reference/engstrom-wave
IMAGE=$DATA/content/chicago.jpg
ROUNDS=${ROUNDS:-5}
REPEAT=${REPEAT:-3}
STEPS=${STEPS:-3}
PYTHON=${PYTHON:-/usr/bin/python3}
STRATA=${STRATA:-bin/strata}
STYLE_CASES=${STYLE_CASES-256x256 712x474}
TRAIN_CASES=${TRAIN_CASES-128 256}
DEPTH_CASES=${DEPTH_CASES-128 256}
DEPTH_ROUNDS=${DEPTH_ROUNDS:-3}
PROFILES=${PROFILES-native avx2}
BIG_CASES=${BIG_CASES-2048x1360}
BIG_ROUNDS=${BIG_ROUNDS:-1}
E2E_ROUNDS=${E2E_ROUNDS:-7}
E2E_CASES=${E2E_CASES-712x474}
FMA_UNITS=${FMA_UNITS:-2}
BATCH=4
export OMP_NUM_THREADS=2
THREADS=2

if [ "$REPEAT" -lt 2 ] 2>/dev/null || [ "$STEPS" -lt 2 ] 2>/dev/null; then
    echo "bench: REPEAT and STEPS must be >= 2 (the first repetition is warm-up)" >&2
    exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# --- which sides and cases can run --------------------------------------------
have_torch=1
if ! "$PYTHON" -c 'import torch, PIL, numpy' >/dev/null 2>&1; then
    have_torch=0
    echo "note: $PYTHON cannot import torch (Debian python3-torch); showing strata alone"
fi

have_strata=1
strata_note=""
[ -x "$STRATA" ] || { have_strata=0; strata_note="$STRATA not built"; }

CASES=""
if [ -n "$STYLE_CASES" ]; then
    if [ ! -f "$WEIGHTS/manifest.json" ] || [ ! -f "$IMAGE" ]; then
        echo "bench: $WEIGHTS/manifest.json or $IMAGE is missing (tracked in the repository: a broken checkout?)" >&2
        exit 2
    elif [ $have_strata = 1 ] && ! "$STRATA" weights import engstrom "$WEIGHTS" "$TMP/wave.h5" \
            >"$TMP/import.log" 2>&1; then
        have_strata=0; strata_note="weights import failed: $(tail -n 3 "$TMP/import.log")"
    else
        for s in $STYLE_CASES; do CASES="$CASES stylize:$s"; done
    fi
fi
if [ -f "$WEIGHTS/manifest.json" ] && [ -f "$IMAGE" ] && { [ $have_strata = 0 ] || [ -f "$TMP/wave.h5" ] ||
        "$STRATA" weights import engstrom "$WEIGHTS" "$TMP/wave.h5" >"$TMP/import.log" 2>&1; }; then
    for s in $BIG_CASES; do CASES="$CASES big:$s"; done
    for s in $E2E_CASES; do CASES="$CASES e2e:$s"; done
fi
have_time=1
if ! /usr/bin/time -f '%M' -o /dev/null true 2>/dev/null; then
    have_time=0
    echo "note: /usr/bin/time (Debian package 'time') is missing: no peak RSS columns"
fi
if [ -n "$TRAIN_CASES$DEPTH_CASES" ] && [ $have_strata = 1 ] &&
   ! "$STRATA" weights random vgg19 "$TMP/vgg.h5" >"$TMP/vgg.log" 2>&1; then
    have_strata=0; strata_note="random VGG-19 weights failed: $(tail -n 3 "$TMP/vgg.log")"
fi
if [ -n "$DEPTH_CASES" ] && [ $have_strata = 1 ] &&
   ! "$STRATA" weights random fcrn "$TMP/fcrn.h5" >"$TMP/fcrn.log" 2>&1; then
    have_strata=0; strata_note="random FCRN weights failed: $(tail -n 3 "$TMP/fcrn.log")"
fi
for s in $TRAIN_CASES; do CASES="$CASES train:$s"; done
for s in $DEPTH_CASES; do CASES="$CASES depth:$s"; done
[ $have_strata = 1 ] || echo "strata side missing ($strata_note)"

if [ $have_strata = 0 ] && [ $have_torch = 0 ]; then
    echo "bench: neither side can run"
    exit 0
fi
if [ -z "$CASES" ]; then
    echo "bench: no case can run"
    exit 0
fi
strata_failed=0

# --- FLOP counts --------------------------------------------------------------
# Conv FLOPs: 2*K*C*kh*kw*OH*OW per conv; a transposed conv counts as the
# strided conv it is the adjoint of. The transformer forward for a W x H input:
transformer_flops() {
    local w=$1 h=$2
    local w2=$(( (w + 1) / 2 )) h2=$(( (h + 1) / 2 ))
    local w4=$(( (w2 + 1) / 2 )) h4=$(( (h2 + 1) / 2 ))
    local uw1=$(( 2 * w4 )) uh1=$(( 2 * h4 ))
    local uw2=$(( 2 * uw1 )) uh2=$(( 2 * uh1 ))
    echo $(( 2*32*3*81*h*w                  \
           + 2*64*32*9*h2*w2                \
           + 2*128*64*9*h4*w4               \
           + 10*2*128*128*9*h4*w4           \
           + 2*128*64*9*h4*w4               \
           + 2*64*32*9*uh1*uw1              \
           + 2*3*32*81*uh2*uw2 ))
}

# VGG-19 forward for an S x S input, through conv1_1 .. the n-th conv.
vgg_flops() {
    local s=$1 n=$2 total=0 i=0 cin=3 block width reps k
    for block in 64:2 128:2 256:4 512:4 512:4; do
        width=${block%:*}; reps=${block#*:}
        for k in $(seq 1 "$reps"); do
            i=$((i + 1))
            [ $i -le "$n" ] && total=$(( total + 2*width*cin*9*s*s ))
            cin=$width
        done
        s=$(( s / 2 ))
    done
    echo $total
}

# One training step, batch B of S x S: the transformer forward, input and
# weight gradients (no input gradient for its first conv); VGG forward of the
# stylized batch to relu5_1 (conv 13) and of the content batch to relu4_2
# (conv 10); VGG input gradient from relu5_1 (its weights are frozen).
train_flops() {
    local s=$1 b=$2
    local t; t=$(transformer_flops "$s" "$s")
    echo $(( b * (3*t - 2*32*3*81*s*s + 2*$(vgg_flops "$s" 13) + $(vgg_flops "$s" 10)) ))
}

# FCRN forward for an S x S input (as lua/strata/models/fcrn.lua): conv1 7x7/2,
# pool 3x3/2, the ResNet-50 bottlenecks, layer1 1x1, four up-projections (two
# unpool-as-convs of 3x3+2x3+3x2+2x2 = 25 taps each, and a 3x3 at twice the
# size), ConvPred 3x3 -> 1.
fcrn_flops() {
    local h=$(( ($1 - 1) / 2 + 1 )) cin=64 total st blocks mid out stride k ho c
    total=$(( 2*64*3*49*h*h ))
    h=$(( (h + 1) / 2 ))
    for st in 3:64:256:1 4:128:512:2 6:256:1024:2 3:512:2048:2; do
        IFS=: read -r blocks mid out stride <<<"$st"
        for k in $(seq 1 "$blocks"); do
            ho=$h
            if [ "$k" = 1 ]; then
                [ "$stride" = 2 ] && ho=$(( (h + 1) / 2 ))
                total=$(( total + 2*out*cin*ho*ho ))
            fi
            total=$(( total + 2*mid*cin*ho*ho + 2*mid*mid*9*ho*ho + 2*out*mid*ho*ho ))
            h=$ho; cin=$out
        done
    done
    total=$(( total + 2*1024*2048*h*h )); cin=1024
    for c in 512 256 128 64; do
        total=$(( total + 2 * 2*c*cin*25*h*h + 2*c*c*9*(2*h)*(2*h) ))
        h=$(( 2 * h )); cin=$c
    done
    echo $(( total + 2*1*64*9*h*h ))
}

# The depth term adds FCRN forwards of the content and the stylized batch and
# FCRN's input gradient (its weights are frozen).
case_flops() {  # case_flops KIND:SIZE
    local kind=${1%%:*} size=${1#*:}
    if [ "$kind" = stylize ] || [ "$kind" = big ] || [ "$kind" = e2e ]; then transformer_flops "${size%x*}" "${size#*x}"
    elif [ "$kind" = train ]; then train_flops "$size" "$BATCH"
    else echo $(( $(train_flops "$size" "$BATCH") + BATCH * 3 * $(fcrn_flops "$size") )); fi
}

median() {  # median of the numbers in file $1 (empty -> "-")
    sort -g "$1" | awk '{v[NR]=$1} END {
        if (NR == 0) { print "-"; exit }
        if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2] + v[NR/2+1]) / 2 }'
}

# measured RSSFILE CMD...: runs CMD, appends its peak RSS (KiB) to RSSFILE.
measured() {
    local rss=$1 rc; shift
    if [ $have_time = 0 ]; then "$@"; return; fi
    : >"$TMP/rss.one" # a builtin: nothing else runs inside an e2e run's time
    /usr/bin/time -f '%M' -o "$TMP/rss.one" "$@"; rc=$?
    local line last=
    while IFS= read -r line; do last=$line; done <"$TMP/rss.one" # its last line; no `tail` process
    [ -n "$last" ] && echo "$last" >>"$rss"
    return $rc
}

# stamp VAR: the wall clock into VAR, read by the shell itself (bash 5's
# EPOCHREALTIME, no subshell) where it can: a `date` process on each side of
# an e2e run added ~2 ms to it.
stamp() {
    if [ -n "${EPOCHREALTIME:-}" ]; then printf -v "$1" '%s' "${EPOCHREALTIME/,/.}"
    else printf -v "$1" '%s' "$(date +%s.%N)"; fi
}

# run_side NAME KIND:SIZE OUTFILE: one process, keep its `seconds` lines after
# the first (e2e: the process's wall time), its peak RSS into OUTFILE.rss.
run_side() {
    local name=$1 kind=${2%%:*} size=${2#*:} out=$3 log=$TMP/$1.log n
    if [ "$kind" = stylize ] || [ "$kind" = big ]; then
        n=$REPEAT; [ "$kind" = big ] && n=2
        if [ "$name" = strata ]; then
            measured "$out.rss" "$STRATA" run bench/stylize.lua --model "$TMP/wave.h5" --image "$IMAGE" \
                --size "$size" --repeat "$n" >"$log" 2>&1
        else
            measured "$out.rss" "$PYTHON" bench/torch_transformer.py --weights "$WEIGHTS" --image "$IMAGE" \
                --size "$size" --repeat "$n" --threads "$THREADS" >"$log" 2>&1
        fi
    elif [ "$kind" = e2e ]; then
        # Process start to PNG written; one wall time per process, nothing discarded.
        local t0 t1 rc; stamp t0
        if [ "$name" = strata ]; then
            # Its stage report (a clock read and a getrusage per stage) gives
            # the wall clock when the PNG was written: the goal's end point.
            export STRATA_STAGE_TIMES=1
            measured "$out.rss" "$STRATA" stylize --model "$TMP/wave.h5" --size "$size" "$IMAGE" "$TMP/e2e.png" \
                >"$log" 2>&1
            rc=$?
            stamp t1
            unset STRATA_STAGE_TIMES
        else
            measured "$out.rss" "$PYTHON" bench/torch_transformer.py --weights "$WEIGHTS" --image "$IMAGE" \
                --size "$size" --repeat 1 --threads "$THREADS" --out "$TMP/e2e.png" >"$log" 2>&1
            rc=$?
            stamp t1
        fi
        if [ $rc -ne 0 ] || [ ! -s "$TMP/e2e.png" ]; then
            echo "bench: $name e2e $size failed (exit $rc); last output:" >&2
            tail -n 5 "$log" >&2
            return 1
        fi
        rm -f "$TMP/e2e.png"
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }' >>"$out"
        if [ "$name" = strata ]; then
            # Process start to PNG written; then, right after, this round's
            # forward pass (a bench/stylize.lua process, its warm passes'
            # median), so the ratio pairs two figures of the same minute.
            local written
            written=$(sed -n 's/^  (the last stage ended at \([0-9.]*\): wall clock.*/\1/p' "$log")
            if [ -z "$written" ]; then
                echo "bench: strata e2e $size printed no stage report (STRATA_STAGE_TIMES); last output:" >&2
                tail -n 5 "$log" >&2
                return 1
            fi
            awk -v a="$t0" -v w="$written" 'BEGIN { printf "%.6f\n", w - a }' >>"$out.written"
            "$STRATA" run bench/stylize.lua --model "$TMP/wave.h5" --image "$IMAGE" --size "$size" --repeat "$REPEAT" \
                >"$log.fwd" 2>&1 || { echo "bench: strata forward $size failed" >&2; tail -n 5 "$log.fwd" >&2; return 1; }
            grep '^seconds ' "$log.fwd" | tail -n +2 | awk '{print $2}' >"$TMP/fwd.one"
            median "$TMP/fwd.one" >>"$out.fwd"
        fi
        return 0
    else
        n=$STEPS
        local depth=none; [ "$kind" = depth ] && depth=fcrn
        if [ "$name" = strata ]; then
            measured "$out.rss" "$STRATA" run bench/train_step.lua --vgg "$TMP/vgg.h5" --fcrn "$TMP/fcrn.h5" --size "$size" \
                --batch "$BATCH" --steps "$STEPS" --depth "$depth" --device cpu >"$log" 2>&1
        else
            measured "$out.rss" "$PYTHON" bench/torch_train.py --size "$size" --batch "$BATCH" --steps "$STEPS" \
                --threads "$THREADS" --depth "$depth" --device cpu >"$log" 2>&1
        fi
    fi
    local rc=$?
    if [ $rc -ne 0 ] || [ "$(grep -c '^seconds ' "$log")" -ne "$n" ]; then
        echo "bench: $name $kind $size failed (exit $rc); last output:" >&2
        tail -n 5 "$log" >&2
        return 1
    fi
    grep '^seconds ' "$log" | tail -n +2 | awk '{print $2}' >>"$out"
}

# profile_env PROFILE: the environment of one ISA profile.
profile_env() {
    unset ONEDNN_MAX_CPU_ISA DNNL_MAX_CPU_ISA ATEN_CPU_CAPABILITY
    if [ "$1" = avx2 ]; then
        export ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2
    fi
}

label() {  # stylize:256x256 -> "stylize 256x256"; train:256 -> "train 256x256 b4"; depth:256 -> "... +depth"
    local kind=${1%%:*} size=${1#*:}
    if [ "$kind" = stylize ] || [ "$kind" = big ]; then echo "stylize $size"
    elif [ "$kind" = e2e ]; then echo "e2e stylize $size"
    else echo "train ${size}x$size b$BATCH$([ "$kind" = depth ] && echo " +depth")"; fi
}

# --- header: machine and FMA peak per profile ----------------------------------
cpu_model=$(lscpu 2>/dev/null | awk -F: '/^Model name/ {sub(/^ +/, "", $2); print $2; exit}')
cpu_family=$(lscpu 2>/dev/null | awk -F: '/^CPU family/ {sub(/^ +/, "", $2); print $2; exit}')
echo "strata vs PyTorch $("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo '-')" \
     "| CPU: ${cpu_model:-?} (family ${cpu_family:-?}), $(nproc) cores, OMP_NUM_THREADS=$OMP_NUM_THREADS" \
     "| $ROUNDS rounds ($DEPTH_ROUNDS for +depth at >= 256, $BIG_ROUNDS for big stylize, $E2E_ROUNDS for e2e); stylize $REPEAT reps," \
     "train $STEPS steps per process (first of each process discarded)"
echo "FMA peak = cores x clock (GHz, measured: dependent integer adds) x FMA units ($FMA_UNITS) x float lanes x 2 FLOP"
declare -A PEAK
for prof in $PROFILES; do
    profile_env "$prof"
    line=$([ $have_strata = 1 ] && "$STRATA" run bench/cpu_peak.lua "$THREADS" "$FMA_UNITS" 2>/dev/null)
    PEAK[$prof]=$(echo "$line" | awk '{print $12}')
    echo "  profile $prof${ONEDNN_MAX_CPU_ISA:+ (ONEDNN_MAX_CPU_ISA=$ONEDNN_MAX_CPU_ISA ATEN_CPU_CAPABILITY=$ATEN_CPU_CAPABILITY)}:" \
         "${line:-strata missing: no measurement}" \
         "$(echo "$line" | awk '{printf "= %s x %s x %s x %s x 2 GFLOP/s", $8, $6, $10, $4}')"
done

# --- rounds -------------------------------------------------------------------
for prof in $PROFILES; do
profile_env "$prof"
for c in $CASES; do
    f=${prof}_${c//[:x]/_}
    : >"$TMP/strata.$f"; : >"$TMP/torch.$f"; : >"$TMP/strata.$f.rss"; : >"$TMP/torch.$f.rss"
    : >"$TMP/strata.$f.written"; : >"$TMP/strata.$f.fwd"
    rounds=$ROUNDS
    [ "${c%%:*}" = depth ] && [ "${c#*:}" -ge 256 ] && rounds=$DEPTH_ROUNDS
    [ "${c%%:*}" = big ] && rounds=$BIG_ROUNDS
    [ "${c%%:*}" = e2e ] && rounds=$E2E_ROUNDS
    for r in $(seq 1 "$rounds"); do
        # Alternate who goes first so neither side always inherits a warm cache.
        if [ $((r % 2)) = 1 ]; then order="strata torch"; else order="torch strata"; fi
        for side in $order; do
            if [ "$side" = strata ] && [ $have_strata = 1 ]; then
                run_side strata "$c" "$TMP/strata.$f" || { have_strata=0; strata_failed=1; }
            elif [ "$side" = torch ] && [ $have_torch = 1 ]; then
                run_side torch "$c" "$TMP/torch.$f" || have_torch=0
            fi
        done
    done
    # Progress (the table comes at the end): medians so far, peak RSS in KiB.
    echo "  [$prof] $(label "$c"): strata $(median "$TMP/strata.$f") s, torch $(median "$TMP/torch.$f") s;" \
         "peak RSS KiB strata $(median "$TMP/strata.$f.rss"), torch $(median "$TMP/torch.$f.rss")"
done
done
profile_env none

# --- table --------------------------------------------------------------------
mib() {  # median KiB in file $1 -> MiB (or "-")
    local m; m=$(median "$1")
    [ "$m" = - ] && echo - || awk -v k="$m" 'BEGIN { printf "%.0f", k / 1024 }'
}
printf '\n%-24s %-6s %4s %10s %10s %8s %16s %16s %9s %9s %8s\n' case ISA n "strata s" "torch s" "torch/st" \
       "strata GFLOP/s" "torch GFLOP/s" "st RSS MB" "to RSS MB" "RSS st/to"
for prof in $PROFILES; do
for c in $CASES; do
    f=${prof}_${c//[:x]/_}
    ms=$(median "$TMP/strata.$f"); mt=$(median "$TMP/torch.$f")
    ns=$(wc -l <"$TMP/strata.$f"); nt=$(wc -l <"$TMP/torch.$f")
    rs=$(mib "$TMP/strata.$f.rss"); rt=$(mib "$TMP/torch.$f.rss")
    awk -v c="$(label "$c")" -v p="$prof" -v n="$(( ns > nt ? ns : nt ))" -v s="$ms" -v t="$mt" -v f="$(case_flops "$c")" \
        -v pk="${PEAK[$prof]:-}" -v rs="$rs" -v rt="$rt" 'BEGIN {
        ratio = (s != "-" && t != "-" && s > 0) ? sprintf("%.2f", t / s) : "-"
        gs = (s != "-" && s > 0) ? sprintf("%.1f", f / s / 1e9) : "-"
        gt = (t != "-" && t > 0) ? sprintf("%.1f", f / t / 1e9) : "-"
        if (pk != "" && pk > 0) {
            if (gs != "-") gs = gs sprintf(" (%.0f%%)", 100 * f / s / 1e9 / pk)
            if (gt != "-") gt = gt sprintf(" (%.0f%%)", 100 * f / t / 1e9 / pk)
        }
        ss = (s != "-") ? sprintf("%.4f", s) : "-"
        ts = (t != "-") ? sprintf("%.4f", t) : "-"
        rr = (rs != "-" && rt != "-" && rt > 0) ? sprintf("%.2f", rs / rt) : "-"
        printf "%-24s %-6s %4d %10s %10s %8s %16s %16s %9s %9s %8s\n", c, p, n, ss, ts, ratio, gs, gt, rs, rt, rr }'
done
done
printf '(conv GFLOP per forward / step:'
for c in $CASES; do
    case $c in e2e:*) continue ;; esac
    printf ' %s %s;' "$(label "$c")" "$(awk -v f="$(case_flops "$c")" 'BEGIN{printf "%.1f", f/1e9}')"
done
echo " torch/st > 1 means strata is faster; GFLOP/s count direct-convolution FLOPs, so Winograd can pass the peak;" \
     "(%) is of the profile's FMA peak above; RSS: peak resident set of the whole process, median; e2e rows: wall" \
     "time of the whole process, GFLOP/s of its one forward)"
# Goals of issue 14 that compare rows.
for prof in $PROFILES; do
    for s in $E2E_CASES; do
        # Each round's figures against the forward pass measured right after
        # it (same minute, same VM state); the medians of those ratios.
        f=$TMP/strata.${prof}_e2e_${s//x/_}
        [ -s "$f.written" ] && [ -s "$f.fwd" ] || continue
        paste "$f.written" "$f.fwd" | awk '$2 > 0 { print $1 / $2 }' >"$f.r_written"
        paste "$f" "$f.fwd" | awk '$2 > 0 { print $1 / $2 }' >"$f.r_exit"
        awk -v w="$(median "$f.written")" -v e="$(median "$f")" -v fw="$(median "$f.fwd")" -v rw="$(median "$f.r_written")" \
            -v re="$(median "$f.r_exit")" -v n="$(wc -l <"$f.fwd")" -v p="$prof" -v s="$s" 'BEGIN {
            printf "goal e2e (%s, %s): strata stylize from process start to PNG written %.3f s = %.2fx its forward pass %.3f s" \
                   " (goal <= 1.3x; median of %d rounds, each against a forward pass measured right after it);" \
                   " to the process reaped %.3f s = %.2fx\n", p, s, w, rw, fw, n, e, re }'
    done
    for s in $BIG_CASES; do
        rs=$(mib "$TMP/strata.${prof}_big_${s//x/_}.rss" 2>/dev/null); rt=$(mib "$TMP/torch.${prof}_big_${s//x/_}.rss" 2>/dev/null)
        [ -n "$rs" ] && [ -n "$rt" ] && [ "$rs" != - ] && [ "$rt" != - ] &&
            awk -v a="$rs" -v b="$rt" -v p="$prof" -v s="$s" 'BEGIN { printf "goal memory (%s, stylize %s): strata peak RSS %d MB = %.2fx PyTorch'"'"'s %d MB (goal <= 0.6x)\n", p, s, a, a / b, b }'
    done
done
[ $have_strata = 1 ] || [ $strata_failed = 1 ] || echo "strata side missing ($strata_note)"
[ $strata_failed = 0 ] || echo "strata side FAILED (see its output above); its column is incomplete"

# A strata crash is a real failure; a missing side is not.
exit $strata_failed
