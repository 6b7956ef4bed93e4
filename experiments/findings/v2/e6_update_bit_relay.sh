#!/usr/bin/env bash
# FINDINGS v2, E6: which setup difference reproduces the asker's Q5 picture ("GRU better; SimpleRNN and
# LSTM equally bad" on bit relay, 8 units, 10 repeats, 10 epochs)? The update-bit-relay preset at lengths
# 5/20/50/100, once as is and once per changed setting.
#   bash experiments/findings/v2/e6_update_bit_relay.sh runs/v2/e6
set -euo pipefail
out=${1:-runs/v2/e6}
common=(--preset update-bit-relay --lengths 5,20,50,100 --quiet --force)
latchjax sweep "${common[@]}" --out "$out/base"
latchjax sweep "${common[@]}" --flavor keras3 --out "$out/keras3"
latchjax sweep "${common[@]}" --split keras --out "$out/keras-split"
latchjax sweep "${common[@]}" --lr 0.01 --out "$out/lr0.01"
latchjax sweep "${common[@]}" --head sigmoid --out "$out/head-sigmoid"
latchjax sweep "${common[@]}" --noise 0.5 --out "$out/noise0.5"
for d in base keras3 keras-split lr0.01 head-sigmoid noise0.5; do latchjax summary "$out/$d"; done
