"""Benchmark: the time loop against the parallel scan (``--scan sequential`` / ``parallel``) for the cells linear in
their state, as a sweep trains them: one minibatch's loss and gradient (reverse mode), vmapped over ``--models``
models, ``--batch`` sequences of length T each, against T.

    python benchmarks/bench_scan.py                                  # lru, mingru, minlstm, s6; T = 10 ... 4000
    python benchmarks/bench_scan.py --cells mingru --lengths 100,1000 --units 8

Prints, per cell and T, compile seconds and the median milliseconds of a training step for both scans, their ratio,
and the dependent steps of one pass (T, or 2 ceil(log2 T)); appends one JSON line per run to
``benchmarks/results.jsonl``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import time
from pathlib import Path

import jax
import jax.numpy as jnp

from latchjax.core.cells import make_cell
from latchjax.core.model import init_head, model_loss
from latchjax.sweep.plan import scan_depth


def training_step(cell, scan: str, n_in: int):
    """One minibatch's loss and gradient of every model (vmapped), compiled."""
    def loss(params, x, y):
        return model_loss(cell, "softmax", params, x, y, jnp.ones(x.shape[0]), 0, 1, None, scan)[0]

    return jax.jit(jax.vmap(jax.value_and_grad(loss), in_axes=(0, None, None)))


def time_step(fn, params, x, y, repeats: int) -> tuple[float, float]:
    """(compile and first call seconds, median seconds of ``repeats`` further calls)."""
    t0 = time.perf_counter()
    jax.block_until_ready(fn(params, x, y))
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(params, x, y))
        times.append(time.perf_counter() - t0)
    return first, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="lru,mingru,minlstm,s6")
    parser.add_argument("--lengths", default="10,30,100,300,1000,4000")
    parser.add_argument("--units", type=int, default=1)
    parser.add_argument("--models", type=int, default=8, help="models vmapped side by side (seeds)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(Path(__file__).with_name("results.jsonl")))
    args = parser.parse_args()

    n_in = 1
    lengths = [int(t) for t in args.lengths.split(",")]
    record = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.node()} {platform.processor() or platform.machine()} {os.cpu_count()} cores",
        "backend": jax.default_backend(), "devices": [str(d) for d in jax.devices()], "jax": jax.__version__,
        "bench": "scan", "settings": {"units": args.units, "models": args.models, "batch": args.batch,
                                      "repeats": args.repeats, "step": "loss and gradient of one minibatch"},
        "rows": [],
    }
    print(f"{'cell':>8} {'T':>5} {'seq ms':>9} {'par ms':>9} {'par/seq':>8} {'compile s (seq, par)':>21} "
          f"{'depth (seq, par)':>17}")
    for spec in args.cells.split(","):
        cell = make_cell(spec, args.units, "keras2")
        keys = jax.random.split(jax.random.key(0), args.models)
        params = jax.vmap(lambda k: {"cell": cell.init(k, n_in), "head": init_head(k, cell, "softmax")})(keys)
        for length in lengths:
            x = jax.random.normal(jax.random.key(1), (args.batch, length, n_in))
            y = jnp.arange(args.batch) % 2
            row = {"cell": cell.name, "length": length}
            for scan in ("sequential", "parallel"):
                first, median = time_step(training_step(cell, scan, n_in), params, x, y, args.repeats)
                row[scan] = {"compile_s": round(first, 2), "step_ms": round(1e3 * median, 3),
                             "depth": scan_depth(length, 1, scan)}
            row["ratio"] = round(row["parallel"]["step_ms"] / row["sequential"]["step_ms"], 3)
            record["rows"].append(row)
            print(f"{cell.name:>8} {length:>5} {row['sequential']['step_ms']:>9.2f} {row['parallel']['step_ms']:>9.2f} "
                  f"{row['ratio']:>8.2f} {row['sequential']['compile_s']:>10.1f} {row['parallel']['compile_s']:>10.1f} "
                  f"{row['sequential']['depth']:>8} {row['parallel']['depth']:>8}", flush=True)
    with open(args.out, "a") as f:
        f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
