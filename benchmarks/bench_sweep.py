"""Benchmark: the question's full sweep (Q1) trained by latchjax.

Q1 = SimpleRNN(1) and LSTM(1), Keras 2.1 flavour, the question's 25 distinct lengths
(2 ... 200), 30 seeds, 5 epochs, N=10000, batch 16, Adam, Keras's validation split.

    python benchmarks/bench_sweep.py                      # the full Q1 sweep
    python benchmarks/bench_sweep.py --buckets 1 --seeds 4 # smaller variants

Prints compile time, run time and model-epochs per second per cell, and appends one JSON
line per run to ``benchmarks/results.jsonl`` (date, machine, backend, settings, numbers).
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

from latchjax import QUESTION_LENGTHS, SweepConfig, run_sweep
from latchjax.sweep.plan import plan_sweep, sequential_steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="srnn,lstm")
    parser.add_argument("--flavor", default="keras2", help="keras2, keras3 or torch")
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--lengths", default=",".join(map(str, QUESTION_LENGTHS)))
    parser.add_argument("--buckets", type=int, default=None, help="length buckets (default: latchjax's choice)")
    parser.add_argument("--unroll", type=int, default=None, help="time steps per loop iteration (default: latchjax's)")
    parser.add_argument("--gradient", default="auto", help="auto, reverse or forward")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results.jsonl")))
    args = parser.parse_args()

    changes = {} if args.buckets is None else {"length_buckets": args.buckets}
    cfg = SweepConfig(
        cells=tuple(args.cells.split(",")), flavor=args.flavor, split="keras", seeds=args.seeds, epochs=args.epochs,
        samples=args.samples, lengths=tuple(int(n) for n in args.lengths.split(",")), unroll=args.unroll,
        gradient=args.gradient, **changes,
    )
    steps = sequential_steps(cfg, plan_sweep(cfg))
    t0 = time.perf_counter()
    def log(event: str, info: dict) -> None:
        if event == "done":
            print(f"{info['cell']}: lengths {info['lengths'][0]}..{info['lengths'][-1]} (T={info['max_length']}, "
                  f"{info['models']} models): compile {info['compile_s']:.1f} s, run {info['run_s']:.1f} s")

    result = run_sweep(cfg, progress=log)
    wall = time.perf_counter() - t0
    record = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.node()} {platform.processor() or platform.machine()} {os.cpu_count()} cores",
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "jax": jax.__version__,
        "settings": {"cells": cfg.cells, "flavor": cfg.flavor, "lengths": len(cfg.lengths), "seeds": cfg.seeds, "epochs": cfg.epochs,
                     "samples": cfg.samples, "length_buckets": cfg.length_buckets, "unroll": cfg.unroll,
                     "gradient": cfg.gradient},
        "sequential_steps": steps,
        "wall_s": round(wall, 2),
        "cells": {},
    }
    n_models = len(cfg.lengths) * cfg.seeds
    for cell, timing in result.timing.items():
        rate = n_models * cfg.epochs / timing["run_s"]
        record["cells"][cell] = {"models": n_models, "compile_s": round(timing["compile_s"], 2),
                                 "run_s": round(timing["run_s"], 2), "model_epochs_per_s": round(rate, 1)}
        print(f"{cell:>6}: {n_models} models, compile {timing['compile_s']:.1f} s, run {timing['run_s']:.1f} s, "
              f"{rate:.1f} model-epochs/s")
    print(f"wall (data, compile and training, all cells): {wall:.1f} s; critical path {steps:,} sequential loop "
          f"iterations ({len(jax.devices())} device(s))")
    with open(args.out, "a") as f:
        f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
