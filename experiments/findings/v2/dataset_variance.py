"""FINDINGS v2: how much of a success frequency is the dataset's doing?

Every repeat of a point shares one dataset (drawn from ``data_seed``), as in the question's script. This
script holds the initialisations fixed (``seed``) and redraws only the dataset (``data_seed`` = 0..5), so
the same models meet six datasets. If the dataset did not matter, the six success counts would differ
by no more than binomial noise: Cochran's Q tests that (the same seeds in every column, so the samples
are related), and the between-dataset spread of the frequency is compared with the binomial spread.

    python experiments/findings/v2/dataset_variance.py runs/v2/dataset-variance

Writes ``DIR/dataset_variance.csv`` (one row per setting and dataset), ``DIR/dataset_variance_seeds.csv`` (one
row per model: setting, cell, length, dataset, seed, success) and prints a markdown table.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
from scipy import stats

from latchjax import SweepConfig, run_sweep

THRESHOLD = 0.9
DATASETS = range(6)
SETTINGS = {  # name: (config, lengths reported)
    "latch, srnn/lstm/gru(1), keras2, 5 epochs, 30 seeds": SweepConfig(
        task="latch", cells=("srnn", "lstm", "gru"), lengths=(20, 50), seeds=30, split="shuffled"),
    "bit_relay, gru(8), keras2, 10 epochs, 12 seeds": SweepConfig(
        task="bit_relay", cells=("gru",), units=8, lengths=(20,), seeds=12, epochs=10, split="shuffled"),
    # FINDINGS v3 (review item 20): the SimpleRNN(8)'s own dataset sensitivity, at T = 20 and 100
    "bit_relay, srnn(8), keras2, 10 epochs, 12 seeds": SweepConfig(
        task="bit_relay", cells=("srnn",), units=8, lengths=(20, 100), seeds=12, epochs=10, split="shuffled"),
}


def cochran_q(x: np.ndarray) -> tuple[float, float]:
    """Cochran's Q for a (subjects, treatments) 0/1 table: Q ~ chi^2(k - 1) when the treatments do not
    differ (Cochran 1950). Returns (Q, p); subjects that succeed or fail everywhere carry no information."""
    k = x.shape[1]
    col, row, total = x.sum(0), x.sum(1), x.sum()
    denom = k * total - np.sum(row**2)
    if denom == 0:
        return 0.0, 1.0
    q = (k - 1) * (k * np.sum(col**2) - total**2) / denom
    return float(q), float(stats.chi2.sf(q, k - 1))


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rows, per_seed, table = [], [], []
    for name, cfg in SETTINGS.items():
        success = {}
        for d in DATASETS:
            result = run_sweep(cfg.replace(data_seed=d))
            s = result.success(THRESHOLD)  # (cell, length, lr, forget_bias, seed)
            for ci, cell in enumerate(result.coords["cell"]):
                for li, length in enumerate(result.coords["length"]):
                    success.setdefault((cell, length), []).append(np.asarray(s[ci, li, 0, 0], int))
        for (cell, length), columns in success.items():
            x = np.stack(columns, axis=1)  # (seeds, datasets)
            counts = x.sum(0)
            q, p = cochran_q(x)
            freq = counts / x.shape[0]
            binomial_sd = np.sqrt(freq.mean() * (1 - freq.mean()) / x.shape[0])
            for d, k in zip(DATASETS, counts):
                rows.append([name, cell, length, d, int(k), x.shape[0]])
                per_seed.extend([name, cell, length, d, seed, int(x[seed, d])] for seed in range(x.shape[0]))
            table.append(f"| {name} | {cell} | {length} | {', '.join(map(str, counts))} (of {x.shape[0]}) | "
                         f"{freq.std(ddof=1):.3f} | {binomial_sd:.3f} | {q:.1f} | {p:.2g} |")
    with open(out / "dataset_variance.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["setting", "cell", "length", "data_seed", "successes", "n"])
        writer.writerows(rows)
    with open(out / "dataset_variance_seeds.csv", "w", newline="") as f:  # every model: Cochran's Q from the file
        writer = csv.writer(f)
        writer.writerow(["setting", "cell", "length", "data_seed", "seed", "success"])
        writer.writerows(per_seed)
    print("| setting | cell | T | successes on datasets 0-5 (same initialisations) | sd of frequency across "
          "datasets | binomial sd | Cochran's Q | p |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(table))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/v2/dataset-variance"))
