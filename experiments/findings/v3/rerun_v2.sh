#!/usr/bin/env bash
# FINDINGS v3, step 1: every v2 experiment re-run with today's code (the v2 numbers could not be
# reproduced exactly: see FINDINGS.md, "What changed from v2"). About 85 minutes on a 2-core CPU.
#   bash experiments/findings/v3/rerun_v2.sh [OUT=runs/v2]
# A run that is already complete (its summary.csv exists) is skipped, so an interrupted call resumes.
set -euo pipefail
out=${1:-runs/v2}
mkdir -p "$out"
run() {  # run NAME ARGS... : one sweep and its explain, unless done
    local name=$1; shift
    if [[ -f "$out/$name/explain.csv" ]]; then echo "skip $name (done)"; return; fi
    local t0=$SECONDS
    latchjax sweep "$@" --out "$out/$name" --quiet
    latchjax explain "$out/$name" > /dev/null
    echo "$name $((SECONDS - t0)) s" | tee -a "$out/timing.txt"
}
for p in e2-lambda e3-aligned e3-reversed e4-keras2 e4-keras3 e4-torch e5-latch e5-bit-relay \
         e7-controls e7-wide e3-head-sigmoid e3-sgd; do
    run "$p" --preset "findings/v2/$p"
done
for f in keras2 keras3 torch; do
    run "e4-$f-perseed" --preset "findings/v2/e4-$f" --data per-seed
done
[[ -f "$out/dataset-variance/done" ]] || {
    python experiments/findings/v2/dataset_variance.py "$out/dataset-variance" && touch "$out/dataset-variance/done"; }
[[ -f "$out/e6/done" ]] || { bash experiments/findings/v2/e6_update_bit_relay.sh "$out/e6" && touch "$out/e6/done"; }
[[ -f "$out/e6-update-latch/summary.csv" ]] || latchjax sweep --preset update-latch --out "$out/e6-update-latch" --quiet
