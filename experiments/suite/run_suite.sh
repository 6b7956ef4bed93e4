#!/bin/sh
# The suite's runs as docs/SUITE.md reports them: the presets of latchjax/presets/suite, cut further to fit about
# about an hour of the shared 2-core CPU VM (SEEDS seeds, default 30, of the classic cells and 10 of the zoo's;
# 10,000 training sequences, 1000 test sequences, fewer cells);
# the presets alone (`latchjax sweep --preset suite/NAME`) run their fuller settings. One run after another, each
# timed into OUT/timing.txt; then `python experiments/suite/make_suite.py OUT` rewrites docs/SUITE.md.
# The zoo's cells run on H&S's 2-sequence problem 3a, adding and temporal order; lstm and lstm97 get 40,000
# sequences on adding too, and 80,000 (H&S needed 74,000) at T = 100 alone.
# Usage: [SEEDS=30] sh experiments/suite/run_suite.sh [OUT] [FIRST] [LAST]   (default runs/suite; steps FIRST to
# LAST only, of 1-17)
OUT=${1:-runs/suite}
FIRST=${2:-1}
LAST=${3:-99}
mkdir -p "$OUT"
CLASSIC4=srnn,lstm,gru,lstm97
CLASSIC6=srnn,lstm,gru,lstm97,cifg,janet
KERAS_ZOO=irnn,indrnn,lru
TORCH_ZOO=mingru,minlstm,cornn,lem,asrnn,lipschitz,exprnn,s6
SEEDS=${SEEDS:-30}
ONLINE="--seeds $SEEDS --budget 10000 --test-samples 1000"
ZOO="--seeds 10 --budget 10000 --test-samples 1000"
step=0
run() {  # name preset flags...
  step=$((step + 1))
  { [ "$step" -lt "$FIRST" ] || [ "$step" -gt "$LAST" ]; } && return
  name=$1; preset=$2; shift 2
  start=$(date +%s)
  latchjax sweep --preset "suite/$preset" --out "$OUT/$name" --force --quiet "$@" > "$OUT/$name.log" 2>&1
  echo "$name rc=$? wall=$(( $(date +%s) - start ))s" >> "$OUT/timing.txt"
}
run hs97-adding hs97-adding --cells $CLASSIC6 $ONLINE
run hs97-temporal-order hs97-temporal-order --cells $CLASSIC4 $ONLINE
run hs97-two-sequence-3a hs97-two-sequence-3a --cells $CLASSIC4 $ONLINE
run digits-row digits-row --cells $CLASSIC6 --seeds $SEEDS
run copy copy --cells $CLASSIC4 $ONLINE
run memory-capacity memory-capacity --cells $CLASSIC4 --units 16 --lengths 140 --seeds $SEEDS --budget 5000
run hs97-temporal-order-cifg-janet hs97-temporal-order --cells cifg,janet $ONLINE
run hs97-two-sequence-3a-cifg-janet hs97-two-sequence-3a --cells cifg,janet $ONLINE
run hs97-two-sequence-3a-torch hs97-two-sequence-3a --flavor torch --cells lstm,lstm97 $ONLINE
run hs97-adding-40k hs97-adding --cells lstm,lstm97 --seeds $SEEDS --budget 40000 --test-samples 1000
run hs97-adding-80k hs97-adding --cells lstm,lstm97 --lengths 100 --seeds $SEEDS --budget 80000 --test-samples 1000
# the zoo: 10 seeds each, its Keras/JAX-sourced cells in the keras3 flavour, its PyTorch-sourced ones in torch
for task in hs97-two-sequence-3a hs97-adding hs97-temporal-order; do
  run $task-keras-zoo $task --cells $KERAS_ZOO $ZOO
  run $task-torch-zoo $task --flavor torch --cells $TORCH_ZOO $ZOO
done
echo done >> "$OUT/timing.txt"
