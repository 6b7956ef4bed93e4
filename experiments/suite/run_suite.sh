#!/bin/sh
# The suite's runs as docs/SUITE.md reports them: each preset of latchjax/presets/suite, cut further to fit about
# 30 minutes of the shared 2-core CPU VM (10 seeds, 10,000 training sequences, 1000 test sequences, fewer cells);
# the presets alone (`latchjax sweep --preset suite/NAME`) run their fuller settings. One run after another, each
# timed into OUT/timing.txt; then `python experiments/suite/make_suite.py OUT` rewrites docs/SUITE.md.
# Usage: sh experiments/suite/run_suite.sh [OUT]   (default runs/suite)
OUT=${1:-runs/suite}
mkdir -p "$OUT"
CLASSIC4=srnn,lstm,gru,lstm97
CLASSIC6=srnn,lstm,gru,lstm97,cifg,janet
ONLINE="--seeds 10 --budget 10000 --test-samples 1000"
run() {  # name preset flags...
  name=$1; preset=$2; shift 2
  start=$(date +%s)
  latchjax sweep --preset "suite/$preset" --out "$OUT/$name" --force --quiet "$@" > "$OUT/$name.log" 2>&1
  echo "$name rc=$? wall=$(( $(date +%s) - start ))s" >> "$OUT/timing.txt"
}
run hs97-adding hs97-adding --cells $CLASSIC6 $ONLINE
run hs97-temporal-order hs97-temporal-order --cells $CLASSIC4 $ONLINE
run hs97-two-sequence-3a hs97-two-sequence-3a --cells $CLASSIC4 $ONLINE
run digits-row digits-row --cells $CLASSIC6 --seeds 10
run copy copy --cells $CLASSIC4 $ONLINE
run memory-capacity memory-capacity --cells $CLASSIC4 --units 16 --lengths 140 --seeds 10 --budget 5000
run hs97-adding-torch-zoo hs97-adding-torch --cells lstm,mingru,minlstm,cornn,lem $ONLINE
run hs97-adding-keras-zoo hs97-adding --cells irnn,indrnn,lru $ONLINE
echo done >> "$OUT/timing.txt"
