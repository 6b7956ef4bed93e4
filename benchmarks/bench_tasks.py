"""Benchmark: the speed of the tasks that ask more than one binary class at the end.

For each case — the copy task (9 classes at every step) at T = 100, H&S's adding (a regression) at T = 100 with
fixed and with H&S's varying lengths, temporal order (4 classes) at T = 100, each on offline and online data — train
``--seeds`` models per cell and print compile seconds, training seconds and model-sequences per second (models x
training sequences / training seconds, compile excluded). Appends one JSON line per case to
``benchmarks/results.jsonl`` (date, machine, backend, settings, numbers).

    python benchmarks/bench_tasks.py                       # every case, 8-unit GRU and LSTM, 10 seeds
    python benchmarks/bench_tasks.py --cases copy-online --seeds 4
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

from latchjax import SweepConfig, run_sweep

T = 100
OFFLINE = {"samples": 2000, "epochs": 2}  # 1600 training sequences, 2 epochs: 3200 sequences per model
ONLINE = {"data": "online", "budget": 3200, "eval_every": 25, "test_samples": 500, "stop_at_success": True}
CASES = {
    "copy-offline": {"task": "copy"} | OFFLINE,
    "copy-online": {"task": "copy"} | ONLINE,
    "adding-offline": {"task": "adding"} | OFFLINE,
    "adding-online": {"task": "adding"} | ONLINE,
    "adding-spread-online": {"task": "adding", "task_kwargs": {"spread": 0.1}} | ONLINE,
    "temporal_order-offline": {"task": "temporal_order"} | OFFLINE,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated: {', '.join(CASES)}")
    parser.add_argument("--cells", default="gru,lstm")
    parser.add_argument("--units", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--out", default=str(Path(__file__).with_name("results.jsonl")))
    args = parser.parse_args()
    for name in args.cases.split(","):
        cfg = SweepConfig(cells=tuple(args.cells.split(",")), units=args.units, flavor="keras3", lengths=(T,),
                          seeds=args.seeds, lrs=(1e-2,), **CASES[name])
        sequences = cfg.sequences_seen()[-1]
        timings: dict[str, dict] = {}

        def log(event: str, info: dict, timings: dict = timings) -> None:
            if event == "done":
                timings[info["cell"]] = {"compile_s": round(info["compile_s"], 2), "run_s": round(info["run_s"], 2),
                                         "models": info["models"]}

        t0 = time.perf_counter()
        result = run_sweep(cfg, progress=log)
        wall = time.perf_counter() - t0
        for cell, t in timings.items():
            t["model_sequences_per_s"] = round(t["models"] * sequences / t["run_s"])
            t["successes"] = int(result.success().sum(axis=-1)[result.coords["cell"].index(cell)].sum())
            print(f"{name:24s} {cell:5s} T={T}: {t['models']} models x {sequences} sequences, compile "
                  f"{t['compile_s']:.1f} s, run {t['run_s']:.1f} s, {t['model_sequences_per_s']:,} model-sequences/s, "
                  f"{t['successes']} successes")
        record = {
            "date": datetime.date.today().isoformat(),
            "machine": f"{platform.node()} {platform.processor() or platform.machine()} {os.cpu_count()} cores",
            "backend": jax.default_backend(), "devices": len(jax.local_devices()), "bench": "tasks", "case": name,
            "length": T, "cells": args.cells, "units": args.units, "seeds": args.seeds, "sequences": sequences,
            "wall_s": round(wall, 2), "per_cell": timings,
        }
        with open(args.out, "a") as f:
            f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
