"""Benchmark: random weight guesses evaluated per second (latchjax guess's inner loop).

    python benchmarks/bench_guess.py            # H&S's settings: 100 training sequences of length 500-600
    python benchmarks/bench_guess.py --batch 1024

One guess = draw every weight of a net, run it over all training sequences, check every output.
Prints guesses/s and sequence-steps/s per (task, net) and appends one JSON line to
``benchmarks/results.jsonl``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from pathlib import Path

import jax
import jax.numpy as jnp

from latchjax.studies.guessing import TASKS, Evaluator, make_arch, make_batch

CASES = [("latch1", "latch1"), ("latch2", "unit"), ("parity", "a1"), ("parity", "a2"),
         ("parity", "srnn:units=2"), ("parity", "gru:units=2"), ("parity", "lstm:units=2")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=4096, help="guesses per compiled call")
    parser.add_argument("--train", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).with_name("results.jsonl")))
    args = parser.parse_args()
    rows = {}
    for task_name, spec in CASES:
        task = TASKS[task_name]
        arch = make_arch(spec, task)
        data = make_batch(task, jax.random.key(0), args.train, 500, 600)
        evaluate = Evaluator(arch, task)
        ks = jnp.arange(args.batch, dtype=jnp.uint32)
        call = (jax.random.key(1), ks, data.x, data.start, data.target)
        jax.block_until_ready(evaluate(*call))  # compile
        t0 = time.perf_counter()
        for _ in range(args.repeats):
            jax.block_until_ready(evaluate(*call))
        seconds = (time.perf_counter() - t0) / args.repeats
        rate = args.batch / seconds
        steps = rate * float(data.lengths.sum())
        rows[f"{task_name}/{spec}"] = {"guesses_per_s": round(rate), "sequence_steps_per_s": steps}
        print(f"{task_name:8s} {spec:14s} {rate:10,.0f} guesses/s  {steps:.3g} sequence-steps/s")
    record = {"date": datetime.date.today().isoformat(), "bench": "guess",
              "machine": f"{platform.node() or 'host'} {platform.machine()} {os.cpu_count()} cores",
              "backend": jax.default_backend(), "devices": [str(d) for d in jax.devices()], "jax": jax.__version__,
              "settings": {"batch": args.batch, "train": args.train, "lengths": "500-600"}, "results": rows}
    with open(args.out, "a") as f:
        f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
