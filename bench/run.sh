#!/usr/bin/env bash
# `make bench`: strata CPU vs PyTorch CPU on Engstrom's transformer forward
# pass, run alternately in rounds so both see the same machine state.
# Builds nothing (make bench depends on bin/strata).
#
# Env: ROUNDS (default 5), REPEAT (default 3; the first repetition of every
# process is a discarded warm-up), PYTHON (default /usr/bin/python3).
set -u
cd "$(dirname "$0")/.." || exit 2

DATA=../shared/data
WEIGHTS=$DATA/reference/engstrom-wave
IMAGE=$DATA/content/chicago.jpg
ROUNDS=${ROUNDS:-5}
REPEAT=${REPEAT:-3}
PYTHON=${PYTHON:-/usr/bin/python3}
CASES="256x256 712x474"
export OMP_NUM_THREADS=2
THREADS=2

if [ ! -d "$DATA" ]; then
    echo "bench: $DATA absent (reference weights and images); nothing to run"
    exit 0
fi
if [ ! -f "$WEIGHTS/manifest.json" ] || [ ! -f "$IMAGE" ]; then
    echo "bench: $WEIGHTS/manifest.json or $IMAGE missing; nothing to run"
    exit 0
fi
if [ "$REPEAT" -lt 2 ] 2>/dev/null; then
    echo "bench: REPEAT must be >= 2 (the first repetition is warm-up)" >&2
    exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# --- which sides can run ----------------------------------------------------
have_torch=1
if ! "$PYTHON" -c 'import torch, PIL, numpy' >/dev/null 2>&1; then
    have_torch=0
    echo "note: $PYTHON cannot import torch (Debian python3-torch); showing strata alone"
fi

have_strata=1
strata_note=""
if [ ! -x bin/strata ]; then
    have_strata=0; strata_note="bin/strata not built"
elif [ ! -f bench/stylize.lua ]; then
    have_strata=0; strata_note="bench/stylize.lua absent"
elif ! bin/strata weights import engstrom "$WEIGHTS" "$TMP/wave.h5" \
        >"$TMP/import.log" 2>&1; then
    have_strata=0; strata_note="weights import failed: $(tail -n 3 "$TMP/import.log")"
fi
[ $have_strata = 1 ] || echo "strata side missing ($strata_note)"

if [ $have_strata = 0 ] && [ $have_torch = 0 ]; then
    echo "bench: neither side can run"
    exit 0
fi
strata_failed=0

# --- helpers ----------------------------------------------------------------
# Conv FLOPs of the network for a W x H input: 2*K*C*kh*kw*OH*OW per conv;
# a transposed conv counts as the strided conv it is the adjoint of.
flops() {
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

median() {  # median of the numbers in file $1 (empty -> "-")
    sort -g "$1" | awk '{v[NR]=$1} END {
        if (NR == 0) { print "-"; exit }
        if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2] + v[NR/2+1]) / 2 }'
}

# run_side NAME SIZE OUTFILE: one process, keep its `seconds` lines after the first.
run_side() {
    local name=$1 size=$2 out=$3 log=$TMP/$1.log
    if [ "$name" = strata ]; then
        bin/strata run bench/stylize.lua --model "$TMP/wave.h5" --image "$IMAGE" \
            --size "$size" --repeat "$REPEAT" >"$log" 2>&1
    else
        "$PYTHON" bench/torch_transformer.py --weights "$WEIGHTS" --image "$IMAGE" \
            --size "$size" --repeat "$REPEAT" --threads "$THREADS" >"$log" 2>&1
    fi
    local rc=$?
    if [ $rc -ne 0 ] || [ "$(grep -c '^seconds ' "$log")" -ne "$REPEAT" ]; then
        echo "bench: $name at $size failed (exit $rc); last output:" >&2
        tail -n 5 "$log" >&2
        return 1
    fi
    grep '^seconds ' "$log" | tail -n +2 | awk '{print $2}' >>"$out"
}

# --- rounds -----------------------------------------------------------------
echo "strata vs PyTorch $("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo '-')" \
     "| $(nproc) cores, OMP_NUM_THREADS=$OMP_NUM_THREADS | $ROUNDS rounds x $REPEAT reps (first rep of each process discarded)"
for size in $CASES; do
    : >"$TMP/strata.$size"; : >"$TMP/torch.$size"
    for r in $(seq 1 "$ROUNDS"); do
        # Alternate who goes first so neither side always inherits a warm cache.
        if [ $((r % 2)) = 1 ]; then order="strata torch"; else order="torch strata"; fi
        for side in $order; do
            if [ "$side" = strata ] && [ $have_strata = 1 ]; then
                run_side strata "$size" "$TMP/strata.$size" || { have_strata=0; strata_failed=1; }
            elif [ "$side" = torch ] && [ $have_torch = 1 ]; then
                run_side torch "$size" "$TMP/torch.$size" || have_torch=0
            fi
        done
    done
done

# --- table ------------------------------------------------------------------
printf '\n%-9s %8s %15s %14s %15s %14s %14s\n' case samples "strata median s" \
       "torch median s" "torch/strata" "strata GFLOP/s" "torch GFLOP/s"
for size in $CASES; do
    ms=$(median "$TMP/strata.$size"); mt=$(median "$TMP/torch.$size")
    n=$(( $(wc -l <"$TMP/strata.$size") > $(wc -l <"$TMP/torch.$size") \
          ? $(wc -l <"$TMP/strata.$size") : $(wc -l <"$TMP/torch.$size") ))
    f=$(flops "${size%x*}" "${size#*x}")
    awk -v c="$size" -v n="$n" -v s="$ms" -v t="$mt" -v f="$f" 'BEGIN {
        ratio = (s != "-" && t != "-" && s > 0) ? sprintf("%.2f", t / s) : "-"
        gs = (s != "-" && s > 0) ? sprintf("%.1f", f / s / 1e9) : "-"
        gt = (t != "-" && t > 0) ? sprintf("%.1f", f / t / 1e9) : "-"
        ss = (s != "-") ? sprintf("%.4f", s) : "-"
        ts = (t != "-") ? sprintf("%.4f", t) : "-"
        printf "%-9s %8d %15s %14s %15s %14s %14s\n", c, n, ss, ts, ratio, gs, gt }'
done
echo "(conv GFLOP per forward: 256x256 $(awk -v f="$(flops 256 256)" 'BEGIN{printf "%.2f", f/1e9}')," \
     "712x474 $(awk -v f="$(flops 712 474)" 'BEGIN{printf "%.2f", f/1e9}'); torch/strata > 1 means strata is faster)"
[ $have_strata = 1 ] || [ $strata_failed = 1 ] || echo "strata side missing ($strata_note)"
[ $strata_failed = 0 ] || echo "strata side FAILED (see its output above); its column is incomplete"

# A strata crash is a real failure; a missing side is not.
exit $strata_failed
