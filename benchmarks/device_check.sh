#!/usr/bin/env bash
# The GPU checks, in one short script (about 5 minutes on one H100; written on a CPU-only machine, not yet run on a
# GPU): run it from the repository root on a machine with an accelerator and an installed latchjax,
#
#     bash benchmarks/device_check.sh
#
# It prints and appends to benchmarks/RESULTS.md (a dated section with the device's name) and benchmarks/results.jsonl:
#   1. Q1 (the question's sweep) with the accelerator defaults (one length bucket, unroll 8);
#   2. Q1 with three buckets, the CPU's choice, to check that one bucket is the better configuration there;
#   3. the time loop against the parallel scan for lru and mingru at T = 100 and 1000 (what --scan auto should pick
#      on accelerators: latchjax.core.model.PARALLEL_SCAN_FASTER is False until these numbers say otherwise).
# Each step is bounded by `timeout`, so a slow step is cut short and the rest still run.
set -u
cd "$(dirname "$0")/.."
out=$(mktemp)
device=$(python -c "import jax; d = jax.devices()[0]; print(d.platform, getattr(d, 'device_kind', ''))")
{
  echo "device: $device; $(date -u +%Y-%m-%d) $(hostname)"
  echo "--- 1. Q1, accelerator defaults"
  timeout 150 python benchmarks/bench_sweep.py
  echo "--- 2. Q1, three length buckets"
  timeout 150 python benchmarks/bench_sweep.py --buckets 3
  echo "--- 3. sequential vs parallel scan"
  timeout 120 python benchmarks/bench_scan.py --cells lru,mingru --lengths 100,1000 --models 64
} 2>&1 | tee "$out"
{
  echo
  echo "## Device check ($(date -u +%Y-%m-%d), $device)"
  echo
  echo "\`bash benchmarks/device_check.sh\`, printed as it ran (raw lines also in \`benchmarks/results.jsonl\`):"
  echo
  echo '```text'
  cat "$out"
  echo '```'
} >> benchmarks/RESULTS.md
rm -f "$out"
