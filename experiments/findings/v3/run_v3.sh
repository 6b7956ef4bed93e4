#!/usr/bin/env bash
# FINDINGS v3, step 2: the new experiments (presets findings/v3/*), and `explain --dynamics` (d'0, attractors)
# of the re-run v2 experiments that the theory and the dynamics tables read. About 60 minutes on a 2-core CPU
# beside nothing else. Needs step 1 (experiments/findings/v3/rerun_v2.sh) for its last part; waits for it.
#   bash experiments/findings/v3/run_v3.sh [OUT=runs/v3] [V2=runs/v2]
# A finished run (its explain.csv exists) is skipped, so an interrupted call resumes.
set -euo pipefail
out=${1:-runs/v3}
v2=${2:-runs/v2}
mkdir -p "$out"
run() {  # run NAME EXPLAIN_ARGS SWEEP_ARGS... : one sweep and its explain, unless done
    local name=$1 explain=$2; shift 2
    if [[ -f "$out/$name/explain.csv" ]]; then echo "skip $name (done)"; return; fi
    local t0=$SECONDS
    if latchjax sweep "$@" --out "$out/$name" --quiet --force && latchjax explain "$out/$name" $explain > /dev/null; then
        echo "$name $((SECONDS - t0)) s" | tee -a "$out/timing.txt"
    else  # one failed run does not stop the others; the tables say it is missing
        echo "$name FAILED" | tee -a "$out/timing.txt"
    fi
}
dyn=--dynamics
run dynamics $dyn --preset findings/v3/dynamics
run random-labels $dyn --preset findings/v3/random-labels
run reversed-dynamics $dyn --preset findings/v3/reversed-dynamics
run torch-dynamics $dyn --preset findings/v3/torch-dynamics
run janet-chrono $dyn --preset findings/v3/janet-chrono
run shuffle-1000 "" --preset findings/v3/shuffle-only
run shuffle-2000 "" --preset findings/v3/shuffle-only --shuffle-seed 2000
run heads-d1 "" --preset findings/v3/heads-reversed
run heads-d1-x2 "" --preset findings/v3/heads-reversed --head-lr-scale 2
run heads-d2-half "" --preset findings/v3/heads-reversed --head softmax --head-lr-scale 0.5
run bit-relay-8 "" --preset findings/v3/bit-relay-8
for noise in 0.03 0.1 0.3; do
    for samples in 2000 10000 50000; do
        run "sigma-n/noise$noise-n$samples" $dyn --preset findings/v3/sigma-n --noise "$noise" --samples "$samples"
    done
done
run e2-sigmoid $dyn --preset findings/v3/e2-sigmoid
run head-only "" --preset findings/v3/head-only
run width "" --preset findings/v3/width
# d'0 and the trained models' attractors of the re-run v2 experiments (explain.csv gains their columns)
for p in e4-keras2 e4-keras3 e4-torch e3-aligned e3-reversed e5-latch e3-sgd e2-lambda; do
    [[ -f "$v2/$p/dynamics.done" ]] && continue
    until [[ -f "$v2/$p/explain.csv" ]]; do sleep 30; done
    t0=$SECONDS
    latchjax explain "$v2/$p" --dynamics > /dev/null && touch "$v2/$p/dynamics.done"
    echo "$p --dynamics $((SECONDS - t0)) s" | tee -a "$out/timing.txt"
done
