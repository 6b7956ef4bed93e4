"""FINDINGS v3, experiment 1 for the SimpleRNN(1): the readout race and PyTorch's starts, through training.

    latchjax sweep --preset findings/v3/reversed-dynamics --out runs/v3/reversed-dynamics
    latchjax explain runs/v3/reversed-dynamics --dynamics
    latchjax sweep --preset findings/v3/torch-dynamics --out runs/v3/torch-dynamics
    latchjax explain runs/v3/torch-dynamics --dynamics

A one-unit tanh cell h' = tanh(w h + v x + b) holds a bit at zero input exactly when it has two stable fixed points:
w > 1 and |b| < b_c(w) = w·s − atanh(s) with s = √(1 − 1/w) (or a stable 2-cycle: w < −1, the same bound). Both
blocks read every model's parameters after every epoch (``dynamics.csv``, round 0 = the initialisation):

* ``v3-reversed-race``: Keras SimpleRNNs whose head starts reversed. Per cell, T and outcome: |w| through training,
  the share whose zero-input map holds a bit (|w| > 1 and |b| < b_c), the share whose readout has turned to agree
  with the latch (the sign of the class-1 logit difference times the + prototype's final state, v·sign(w)^(T−1)),
  and the median |b| against b_c at the end.
* ``v3-torch-srnn``: PyTorch SimpleRNNs (w ~ U(−1, 1)), successes by the first input's damping at rest λ0^T: how
  far |w| had to climb, and by when.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

W, V, B = "cell.recurrent_kernel[0,0]", "cell.kernel[0,0]", "cell.bias[0]"
KEYS = ["cell", "length", "seed"]


def missing(run: str, preset: str) -> str:
    return (f"*(run v3/{run} missing: `latchjax sweep --preset findings/v3/{preset} --out runs/v3/{run} && "
            f"latchjax explain runs/v3/{run} --dynamics`)*\n")


def critical_bias(w: np.ndarray) -> np.ndarray:
    """b_c(|w|): the largest |b| at which tanh(|w| h + b) keeps two stable fixed points (0 for |w| <= 1)."""
    w = np.abs(np.asarray(w, np.float64))
    s = np.sqrt(np.clip(1.0 - 1.0 / np.maximum(w, 1e-12), 0.0, None))
    return np.where(w > 1.0, w * s - np.arctanh(np.minimum(s, 1 - 1e-12)), 0.0)


def holds_a_bit(w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether h' = tanh(w h + b) has two stable fixed points (w > 1) or a stable 2-cycle (w < -1)."""
    return (np.abs(w) > 1.0) & (np.abs(b) < critical_bias(w))


def with_outcomes(run: Path) -> pd.DataFrame:
    d = pd.read_csv(run / "dynamics.csv")
    results = pd.read_csv(run / "results.csv")[[*KEYS, "success"]]
    d = d.merge(results, on=KEYS)
    if W not in d:  # PyTorch's names: weight_hh, weight_ih and two biases that act as their sum
        d[W], d[V] = d["cell.weight_hh[0,0]"], d["cell.weight_ih[0,0]"]
        d[B] = d["cell.bias_ih[0]"] + d["cell.bias_hh[0]"]
    d["absw"] = d[W].abs()
    d["latch"] = holds_a_bit(d[W].to_numpy(), d[B].to_numpy())
    proto = np.sign(d[V]) * np.sign(d[W]) ** (d["length"] - 1)
    d["aligned"] = (d["head.kernel[0,1]"] - d["head.kernel[0,0]"]) * proto > 0
    return d


def share(values: pd.Series) -> str:
    return f"{values.mean():.2f}" if len(values) else "-"


def reversed_race(runs: Path) -> str:
    run = runs / "v3" / "reversed-dynamics"
    if not (run / "dynamics.csv").is_file():
        return missing("reversed-dynamics", "reversed-dynamics")
    d = with_outcomes(run)
    rounds = sorted(d["round"].unique())
    shown = sorted({r for r in (0, 1, 2, rounds[-1]) if r in rounds})
    epochs = " → ".join(str(r) for r in shown)
    lines = [f"| cell | T | outcome | models | median \\|w\\|, epochs {epochs} | share holding a bit (\\|w\\| > 1, "
             f"\\|b\\| < b_c), epochs {epochs} | share whose readout agrees with the latch, epochs {epochs} "
             "| at the end: median \\|b\\| vs b_c |", "|---|---|---|---|---|---|---|---|"]
    for (cell, length), group in d.groupby(["cell", "length"], sort=False):
        for outcome, name in ((1, "successes"), (0, "failures")):
            g = group[group["success"] == outcome]
            n = g["seed"].nunique()
            if n == 0:
                continue
            by = {r: g[g["round"] == r] for r in shown}
            end = by[shown[-1]]
            bc = critical_bias(end[W].to_numpy())
            lines.append(f"| {cell} | {length} | {name} | {n} | "
                         + " → ".join(f"{by[r]['absw'].median():.2f}" for r in shown) + " | "
                         + " → ".join(share(by[r]["latch"]) for r in shown) + " | "
                         + " → ".join(share(by[r]["aligned"]) for r in shown)
                         + f" | {end[B].abs().median():.3f} vs {np.median(bc):.3f} |")
    return "\n".join(lines) + "\n"


def torch_srnn(runs: Path) -> str:
    run = runs / "v3" / "torch-dynamics"
    if not (run / "dynamics.csv").is_file():
        return missing("torch-dynamics", "torch-dynamics")
    d = with_outcomes(run)
    explain = pd.read_csv(run / "explain.csv")[[*KEYS, "lambda0"]]
    d = d.merge(explain, on=KEYS)
    d["memory0"] = d["length"] * np.log10(np.maximum(d["lambda0"], 1e-300))
    bins = [(-np.inf, -12), (-12, -5), (-5, -2), (-2, np.inf)]
    rounds = sorted(d["round"].unique())
    lines = ["| log10 λ0^T at initialisation | models | successes | successes: median \\|w\\| at epochs "
             + ", ".join(str(r) for r in rounds) + " | successes: median \\|b\\| at the start → the end | successes "
             "holding a bit after epoch 1 / at the end | failures: median \\|w\\|, \\|b\\| at the start | failures "
             "holding a bit at the end |", "|---|---|---|---|---|---|---|---|"]
    start = d[d["round"] == 0]
    for low, high in bins:
        seeds = start[(start["memory0"] > low) & (start["memory0"] <= high)][KEYS]
        g = d.merge(seeds, on=KEYS)
        first = g[g["round"] == 0]
        wins = g[g["success"] == 1]
        n, k = len(first), int(first["success"].sum())
        label = f"({'−∞' if low == -np.inf else int(low)}, {'∞' if high == np.inf else int(high)}]"
        if k:
            climb = ", ".join(f"{wins[wins['round'] == r]['absw'].median():.2f}" for r in rounds)
            tilt = (f"{wins[wins['round'] == 0][B].abs().median():.2f} → "
                    f"{wins[wins['round'] == rounds[-1]][B].abs().median():.2f}")
            after1 = share(wins[wins["round"] == 1]["latch"])
            at_end = share(wins[wins["round"] == rounds[-1]]["latch"])
        else:
            climb, tilt, after1, at_end = "-", "-", "-", "-"
        losers = g[(g["success"] == 0) & (g["round"] == rounds[-1])]
        lost0 = first[first["success"] == 0]
        lines.append(f"| {label} | {n} | {k} | {climb} | {tilt} | {after1} / {at_end} | "
                     f"{lost0['absw'].median():.2f}, {lost0[B].abs().median():.2f} | {share(losers['latch'])} |")
    return "\n".join(lines) + "\n"


def blocks(runs: Path, figures: Path | None) -> dict[str, str]:
    return {"v3-reversed-race": reversed_race(runs), "v3-torch-srnn": torch_srnn(runs)}
