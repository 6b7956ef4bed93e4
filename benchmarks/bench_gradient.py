"""Benchmark: one minibatch gradient by forward mode (latchjax.core.forward, exact RTRL) against reverse mode (BPTT).

    python benchmarks/bench_gradient.py                          # srnn, lstm, gru at 1 unit; 240 models
    python benchmarks/bench_gradient.py --cells lstm --units 1,2,4,8 --models 240

For each cell: a set of ``--models`` models vmapped (as a sweep trains them), one shared batch of ``--batch``
sequences of length ``--length``; times one jitted call computing every model's loss and gradient (after a
warm-up call; median of ``--repeats``), and prints the critical path in sequential loop iterations: reverse
mode runs the time scan forward then backward (2T), forward mode once (T). Prints a table; with ``--out``,
appends one JSON line.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import time

import jax
import jax.numpy as jnp

from latchjax.core.cells import RNNCell
from latchjax.core.forward import forward_value_and_grad, n_cell_params
from latchjax.core.model import init_head, model_loss
from latchjax.sweep.compiler import compile_lowered


def timed(fn, args, repeats: int) -> float:
    compiled = compile_lowered(jax.jit(fn).lower(*args))
    jax.block_until_ready(compiled(*args))  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(kind: str, units: int, flavor: str, head: str, models: int, batch: int, length: int,
            repeats: int) -> dict:
    cell = RNNCell(kind, units, flavor)
    keys = jax.random.split(jax.random.key(0), models)
    params = jax.vmap(lambda k: {"cell": cell.init(k, 1), "head": init_head(k, cell, head)})(keys)
    k_x, k_y = jax.random.split(jax.random.key(1))
    x = jax.random.normal(k_x, (batch, length, 1))
    y = jax.random.bernoulli(k_y, 0.5, (batch,)).astype(jnp.int32)
    weight = jnp.ones(batch)
    start = length // 10  # some left padding, as in a mixed-length program

    def reverse(p, x, y, w):
        return jax.value_and_grad(lambda q: model_loss(cell, head, q, x, y, w, start), has_aux=True)(p)

    def forward(p, x, y, w):
        return forward_value_and_grad(cell, head, p, x, y, w, start)

    args = (params, x, y, weight)
    over_models = (0, None, None, None)
    t_rev = timed(jax.vmap(reverse, over_models), args, repeats)
    t_fwd = timed(jax.vmap(forward, over_models), args, repeats)
    return {"cell": kind, "units": units, "n_params": n_cell_params(cell, 1), "reverse_ms": 1e3 * t_rev,
            "forward_ms": 1e3 * t_fwd, "reverse_steps": 2 * length, "forward_steps": length}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="srnn,lstm,gru")
    parser.add_argument("--units", default="1", help="comma-separated unit counts")
    parser.add_argument("--flavor", default="keras2")
    parser.add_argument("--head", default="softmax")
    parser.add_argument("--models", type=int, default=240)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", default=None, help="append a JSON line here (e.g. benchmarks/results.jsonl)")
    args = parser.parse_args()
    print(f"{args.models} vmapped models, batch {args.batch}, T={args.length}, {args.flavor}, {args.head} head, "
          f"{jax.default_backend()} ({os.cpu_count()} cores); median of {args.repeats}")
    print(f"{'cell':5s} {'units':>5s} {'params':>6s} {'reverse ms':>11s} {'forward ms':>11s} {'fwd/rev':>8s} "
          f"{'steps rev':>9s} {'steps fwd':>9s}")
    rows = []
    for kind in args.cells.split(","):
        for units in (int(u) for u in args.units.split(",")):
            r = measure(kind, units, args.flavor, args.head, args.models, args.batch, args.length, args.repeats)
            rows.append(r)
            print(f"{kind:5s} {units:5d} {r['n_params']:6d} {r['reverse_ms']:11.2f} {r['forward_ms']:11.2f} "
                  f"{r['forward_ms'] / r['reverse_ms']:8.2f} {r['reverse_steps']:9d} {r['forward_steps']:9d}",
                  flush=True)
    if args.out:
        record = {"date": datetime.date.today().isoformat(), "bench": "gradient",
                  "machine": f"{platform.node() or 'host'} {platform.machine()} {os.cpu_count()} cores",
                  "backend": jax.default_backend(), "jax": jax.__version__,
                  "settings": {k: v for k, v in vars(args).items() if k != "out"}, "results": rows}
        with open(args.out, "a") as f:
            f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
