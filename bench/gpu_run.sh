#!/usr/bin/env bash
# `make bench-gpu`: training iterations per second on one GPU, strata vs
# PyTorch, batch 4 (BATCH), 256x256 (SIZE), without and with the FCRN depth
# loss: bench/train_step.lua --device cuda beside bench/torch_train.py
# --device cuda, run alternately in rounds; medians and ratios. Random images
# and random weights (bin/strata weights random vgg19|fcrn), float32 (no TF32
# on either side). Without a usable CUDA device on either side it says so and
# exits 0; a strata failure on a usable device exits 1.
#
# Env: ROUNDS (3) processes per side and case; ITERS (20) iterations per
# process, the first WARMUP (3) discarded (cuDNN's algorithm search, the
# allocators' warm-up); SIZE (256), BATCH (4); CASES ("none fcrn": the depth
# settings); PYTHON (the first of python3 and /opt/*/.venv/bin/python3 that
# imports torch); STRATA (bin/strata). On the device machine see bench/README.md.
set -u
cd "$(dirname "$0")/.." || exit 2

ROUNDS=${ROUNDS:-3}
ITERS=${ITERS:-20}
WARMUP=${WARMUP:-3}
SIZE=${SIZE:-256}
BATCH=${BATCH:-4}
CASES=${CASES:-none fcrn}
STRATA=${STRATA:-bin/strata}
if [ -z "${PYTHON:-}" ]; then
    for p in python3 /usr/bin/python3 /opt/*/.venv/bin/python3; do
        if "$p" -c 'import torch' >/dev/null 2>&1; then PYTHON=$p; break; fi
    done
    PYTHON=${PYTHON:-python3}
fi
if [ "$ITERS" -le "$WARMUP" ] 2>/dev/null; then
    echo "bench-gpu: ITERS must exceed WARMUP" >&2
    exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench-gpu.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# --- which sides can run --------------------------------------------------------
have_strata=1 have_torch=1
if [ ! -x "$STRATA" ]; then
    have_strata=0; echo "strata: $STRATA not built"
else
    probe=$("$STRATA" run bench/train_step.lua --device cuda --probe 1 2>&1 | tail -n 1)
    [ "$probe" = "device ok" ] || { have_strata=0; echo "strata: ${probe:-no answer}"; }
fi
probe=$("$PYTHON" bench/torch_train.py --device cuda --probe 2>&1 | tail -n 1)
[ "$probe" = "device ok" ] || { have_torch=0; echo "torch ($PYTHON): ${probe:-no answer}"; }
if [ $have_strata = 0 ] && [ $have_torch = 0 ]; then
    echo "bench-gpu: no CUDA device usable by either side; nothing to measure"
    exit 0
fi
if [ $have_strata = 1 ]; then
    for n in vgg19 fcrn; do
        if ! "$STRATA" weights random "$n" "$TMP/$n.h5" >"$TMP/$n.log" 2>&1; then
            echo "bench-gpu: random $n weights failed: $(tail -n 3 "$TMP/$n.log")" >&2
            exit 1
        fi
    done
fi

median() {  # median of the numbers in file $1 (empty -> "-")
    sort -g "$1" | awk '{v[NR]=$1} END {
        if (NR == 0) { print "-"; exit }
        if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2] + v[NR/2+1]) / 2 }'
}

# run_side NAME DEPTH OUTFILE: one process; keeps its `seconds` lines after the warm-up.
run_side() {
    local name=$1 depth=$2 out=$3 log=$TMP/$1.log
    if [ "$name" = strata ]; then
        "$STRATA" run bench/train_step.lua --device cuda --vgg "$TMP/vgg19.h5" --fcrn "$TMP/fcrn.h5" \
            --depth "$depth" --size "$SIZE" --batch "$BATCH" --steps "$ITERS" >"$log" 2>&1
    else
        "$PYTHON" bench/torch_train.py --device cuda --depth "$depth" --size "$SIZE" --batch "$BATCH" \
            --steps "$ITERS" >"$log" 2>&1
    fi
    local rc=$?
    if [ $rc -ne 0 ] || [ "$(grep -c '^seconds ' "$log")" -ne "$ITERS" ]; then
        echo "bench-gpu: $name depth=$depth failed (exit $rc); last output:" >&2
        tail -n 5 "$log" >&2
        return 1
    fi
    grep '^seconds ' "$log" | tail -n +$((WARMUP + 1)) | awk '{print $2}' >>"$out"
}

gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)
echo "strata vs PyTorch $("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo '-') on" \
     "${gpu:-a CUDA GPU} | batch $BATCH, ${SIZE}x$SIZE | $ROUNDS rounds x $ITERS iterations per process" \
     "(first $WARMUP discarded)"
strata_failed=0
for d in $CASES; do
    : >"$TMP/strata.$d"; : >"$TMP/torch.$d"
    for r in $(seq 1 "$ROUNDS"); do
        if [ $((r % 2)) = 1 ]; then order="strata torch"; else order="torch strata"; fi
        for side in $order; do
            if [ "$side" = strata ] && [ $have_strata = 1 ]; then
                run_side strata "$d" "$TMP/strata.$d" || { have_strata=0; strata_failed=1; }
            elif [ "$side" = torch ] && [ $have_torch = 1 ]; then
                run_side torch "$d" "$TMP/torch.$d" || have_torch=0
            fi
        done
    done
done

printf '\n%-26s %7s %15s %14s %10s %10s %13s\n' case samples "strata median s" "torch median s" \
       "strata it/s" "torch it/s" "torch/strata"
for d in $CASES; do
    label="train ${SIZE}x$SIZE b$BATCH$([ "$d" = none ] || echo " +depth")"
    ms=$(median "$TMP/strata.$d"); mt=$(median "$TMP/torch.$d")
    ns=$(wc -l <"$TMP/strata.$d"); nt=$(wc -l <"$TMP/torch.$d")
    awk -v c="$label" -v n="$(( ns > nt ? ns : nt ))" -v s="$ms" -v t="$mt" 'BEGIN {
        ss = (s != "-") ? sprintf("%.4f", s) : "-";  ts = (t != "-") ? sprintf("%.4f", t) : "-"
        is = (s != "-" && s > 0) ? sprintf("%.2f", 1 / s) : "-"
        it = (t != "-" && t > 0) ? sprintf("%.2f", 1 / t) : "-"
        ratio = (s != "-" && t != "-" && s > 0) ? sprintf("%.2f", t / s) : "-"
        printf "%-26s %7d %15s %14s %10s %10s %13s\n", c, n, ss, ts, is, it, ratio }'
done
echo "(torch/strata > 1 means strata is faster; strata picks deterministic cuDNN algorithms by default," \
     "STRATA_CUDNN_DETERMINISTIC=0 lifts that; PyTorch runs cudnn.benchmark)"
[ $strata_failed = 0 ] || echo "strata side FAILED (see its output above); its column is incomplete"
exit $strata_failed
