"""Check that a change leaves results unchanged: run seven small sweeps and save every metric and parameter, then
compare two such files.

    PYTHONPATH=OLD_CHECKOUT python benchmarks/same_results.py run before.npz   # latchjax from that checkout
    python benchmarks/same_results.py run after.npz
    python benchmarks/same_results.py compare before.npz after.npz              # prints max |diff| (0: bit-identical)

The sweeps: keras2 with Keras's split; keras3 srnn/lstm/gru x 2 lrs x 2 forget biases; torch lstm/gru/janet;
bit_relay per-seed with aligned heads and batch 7; H&S adding; temporal order; parity with a sigmoid head and SGD.
"""

from __future__ import annotations

import sys

import jax
import numpy as np

CONFIGS = {
    "q": dict(lengths=(2, 5, 20, 50), seeds=6, samples=1000, epochs=3, flavor="keras2", split="keras"),
    "k3": dict(cells=("srnn", "lstm", "gru"), flavor="keras3", lengths=(5, 20), seeds=4, samples=800, epochs=2,
               lrs=(1e-3, 1e-2), forget_biases=(1.0, 2.0)),
    "torch": dict(cells=("lstm", "gru", "janet"), flavor="torch", lengths=(10,), seeds=4, samples=800, epochs=2),
    "relay": dict(task="bit_relay", data="per-seed", units=4, head_init="aligned", lengths=(6, 12), seeds=4,
                  samples=600, epochs=2, batch_size=7),
    "adding": dict(task="adding", cells=("gru",), units=8, flavor="keras3", lengths=(10,), seeds=3, samples=1000,
                   epochs=3, lrs=(1e-2,)),
    "temporal": dict(task="temporal_order", cells=("lstm",), units=8, flavor="keras3", lengths=(10, 12), seeds=3,
                     samples=1000, epochs=2, lrs=(1e-2,)),
    "sigmoid": dict(task="parity", head="sigmoid", optimizer="sgd", lengths=(4,), seeds=4, samples=500, epochs=2),
}


def run(path: str) -> None:
    from latchjax.sweep.config import SweepConfig
    from latchjax.sweep.runner import run_sweep

    out = {}
    for name, kw in CONFIGS.items():
        result = run_sweep(SweepConfig(**kw))
        out |= {f"{name}/{k}": v for k, v in result.metrics.items()}
        for cell, params in result.params.items():
            out |= {f"{name}/params/{cell}/{i}": np.asarray(leaf) for i, leaf in enumerate(jax.tree.leaves(params))}
    np.savez(path, **out)


def compare(a_path: str, b_path: str) -> None:
    a, b = np.load(a_path), np.load(b_path)
    if set(a.files) != set(b.files):
        print("different arrays:", sorted(set(a.files) ^ set(b.files)))
    worst = 0.0
    for k in sorted(set(a.files) & set(b.files)):
        x, y = a[k].astype(np.float64), b[k].astype(np.float64)
        if x.shape != y.shape or not np.array_equal(np.isnan(x), np.isnan(y)):
            print(f"{k}: shapes or NaNs differ")
            continue
        diff = float(np.nanmax(np.abs(x - y))) if x.size and not np.isnan(x).all() else 0.0
        worst = max(worst, diff)
        if diff:
            print(f"{k}: max |diff| {diff:.3g}")
    print(f"{len(a.files)} arrays, max |diff| {worst:.3g}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["run"] and len(sys.argv) == 3:
        run(sys.argv[2])
    elif sys.argv[1:2] == ["compare"] and len(sys.argv) == 4:
        compare(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
