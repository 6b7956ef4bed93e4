"""FINDINGS v3, experiments 1 and 3: what training does to a one-unit cell's memory, read from two runs.

    latchjax sweep --preset findings/v3/dynamics --out runs/v3/dynamics
    latchjax explain runs/v3/dynamics --dynamics
    latchjax sweep --preset findings/v3/random-labels --out runs/v3/random-labels
    latchjax explain runs/v3/random-labels --dynamics
    python experiments/findings/v3/make_v3.py runs figures --doc docs/FINDINGS.md   # (with the other modules)

Prints markdown tables (with ``--doc``, writes them into that document between its ``<!-- v3-dynamics:begin -->``
and ``<!-- v3-dynamics:end -->`` markers) and draws ``figures/findings_v3_lambda_dynamics.png``:

1. **Where training ends.** Per cell, learning rate and length: successes (Wilson 95%), how many trained models
   have two stable zero-input fixed points (a latch) or a stable period-2 orbit (a latch by phase) among the
   successes and the failures, the saddle's largest
   |eigenvalue| between them, and for cells with a forget gate its value at rest after training (is the memory
   a latch, or a gate frozen open, f ~ 1?).
2. **λ through training.** Median rest-state λ after each epoch (0: initialisation), successes and failures apart.
3. **The random-label control.** Per cell at lr 0.1, T = 20: the change over training of the gates at rest
   (forget f, update z), of b_f / b_z and of the read-out's norm, with true labels and with shuffled ones; the same
   seeds start from the same parameters in both runs (mean [95% t interval] over seeds).
Nothing is trained here; every number is read from the runs' files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from latchjax.core.stats import wilson_interval  # noqa: E402
from latchjax.rundir.tables import replace_between  # noqa: E402

BISTABLE = 2
BEGIN, END = "<!-- v3-dynamics:begin -->", "<!-- v3-dynamics:end -->"


def frac(k: int, n: int) -> str:
    if n == 0:
        return "-"
    low, high = wilson_interval(np.asarray(k), np.asarray(n))
    return f"{k}/{n} [{float(low):.2f}, {float(high):.2f}]"


def median(values: pd.Series, digits: int = 3) -> str:
    values = values.dropna()
    return f"{values.median():.{digits}f}" if len(values) else "-"


def bias(frame: pd.DataFrame, block: str) -> pd.Series:
    """A one-unit cell's bias of ``block`` (the GRU's two bias rows summed, as they act)."""
    one, two = f"cell.bias[{block}]", [f"cell.bias[0,{block}]", f"cell.bias[1,{block}]"]
    if one in frame and frame[one].notna().any():
        return frame[one]
    if all(c in frame for c in two):
        return frame[two[0]] + frame[two[1]]
    return pd.Series(np.nan, index=frame.index)


def head_norm(frame: pd.DataFrame) -> pd.Series:
    cols = [c for c in frame if c.startswith("head.kernel")]
    return np.sqrt((frame[cols] ** 2).sum(axis=1))


def where_training_ends(explain: pd.DataFrame, dynamics: pd.DataFrame) -> list[str]:
    last = dynamics[dynamics["round"] == dynamics["round"].max()]
    keys = ["cell", "length", "lr", "seed"]
    table = explain.merge(last[[*keys, "gate_forget"]], on=keys, how="left")
    out = ["| cell | lr | T | success | successes with 2 stable points | with a stable 2-cycle | failures with "
           "either | saddle \\|λ\\|, successes (median) | f at rest after training, successes (median; >= 0.99) |",
           "|---|---|---|---|---|---|---|---|---|"]
    for (cell, lr, length), g in table.groupby(["cell", "lr", "length"], sort=False):
        ok = g["success"].astype(bool)
        latch = g["n_stable_final"] == BISTABLE
        cycle = g["n_cycles_final"] >= 1
        f = g.loc[ok, "gate_forget"]
        if f.notna().any() and (g["gate_forget"] == 1).all():
            f_text = "f = 1 (no forget gate)"
        elif f.notna().any():
            f_text = f"{f.median():.3f} ({int((f >= 0.99).sum())}/{int(ok.sum())})"
        else:
            f_text = "no gate" if g["gate_forget"].isna().all() else "-"
        out.append(f"| {cell} | {lr:g} | {length} | {frac(int(ok.sum()), len(g))} | "
                   f"{int((latch & ok).sum())}/{int(ok.sum())} | {int((cycle & ok).sum())}/{int(ok.sum())} | "
                   f"{int(((latch | cycle) & ~ok).sum())}/{int((~ok).sum())} | "
                   f"{median(g.loc[ok & latch, 'saddle_final'], 2)} | {f_text} |")
    return out


def lambda_through_training(explain: pd.DataFrame, dynamics: pd.DataFrame, figure: Path | None) -> list[str]:
    keys = ["cell", "length", "lr", "seed"]
    table = dynamics.merge(explain[[*keys, "success"]], on=keys)
    rounds = sorted(table["round"].unique())
    out = ["| cell | lr | T | models | " + " | ".join(f"epoch {r}" for r in rounds) + " |",
           "|---|---|---|---|" + "---|" * len(rounds)]
    groups = list(table.groupby(["cell", "lr", "length"], sort=False))
    for (cell, lr, length), g in groups:
        for ok, name in ((True, "successes"), (False, "failures")):
            part = g[g["success"].astype(bool) == ok]
            if part.empty:
                continue
            cells = [median(part.loc[part["round"] == r, "lambda"], 2) for r in rounds]
            out.append(f"| {cell} | {lr:g} | {length} | {name} ({part['seed'].nunique()}) | " + " | ".join(cells)
                       + " |")
    if figure is not None:
        cells = list(dict.fromkeys(table["cell"]))
        lrs = sorted(table["lr"].unique())
        fig, axes = plt.subplots(len(lrs), len(cells), figsize=(2.6 * len(cells), 2.6 * len(lrs)), sharex=True,
                                 sharey=True, squeeze=False)
        length = min(table["length"].unique())
        for i, lr in enumerate(lrs):
            for j, cell in enumerate(cells):
                ax = axes[i, j]
                g = table[(table["cell"] == cell) & (table["lr"] == lr) & (table["length"] == length)]
                for ok, color, name in ((True, "tab:blue", "successes"), (False, "tab:red", "failures")):
                    part = g[g["success"].astype(bool) == ok]
                    if part.empty:
                        continue
                    q = part.groupby("round")["lambda"].quantile([0.25, 0.5, 0.75]).unstack()
                    ax.plot(q.index, q[0.5], "o-", color=color, ms=3,
                            label=f"{name} ({part['seed'].nunique()})")
                    ax.fill_between(q.index, q[0.25], q[0.75], color=color, alpha=0.2)
                ax.axhline(1.0, color="gray", lw=0.8, ls=":")
                ax.set_xticks(rounds)
                ax.set_title(f"{cell}, lr {lr:g}", fontsize=9)
                ax.legend(fontsize=7, loc="best")
                if j == 0:
                    ax.set_ylabel("rest-state λ (median, IQR)")
                if i == len(lrs) - 1:
                    ax.set_xlabel("epoch")
        fig.suptitle(f"λ through training, one unit, latch T = {length} (keras3 flavour; epoch 0 = initialisation): the "
                     "slope at the state the zero-input map settles to from h = 0", fontsize=10)
        fig.tight_layout()
        figure.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(figure, dpi=120)
        plt.close(fig)
    return out


def mean_ci(values: pd.Series) -> str:
    values = values.dropna()
    if len(values) < 2:
        return "-"
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return f"{values.mean():+.3f} [{values.mean() - half:+.3f}, {values.mean() + half:+.3f}]"


def random_label_control(true: pd.DataFrame, shuffled: pd.DataFrame) -> list[str]:
    lr, length = shuffled["lr"].iloc[0], shuffled["length"].iloc[0]
    true = true[(true["lr"] == lr) & (true["length"] == length)]
    out = [f"lr {lr:g}, T = {length}; change from initialisation to the end of training, mean [95% t interval] "
           "over seeds.", "",
           "| cell | labels | forget gate f at rest | update gate z at rest | b_f | b_z | read-out norm | λ at rest |",
           "|---|---|---|---|---|---|---|---|"]
    for cell in dict.fromkeys(shuffled["cell"]):
        changes = {}
        for name, frame in (("true", true), ("shuffled", shuffled)):
            g = frame[frame["cell"] == cell]
            first = g[g["round"] == 0].set_index("seed")
            last = g[g["round"] == g["round"].max()].set_index("seed")
            changes[name] = {
                "f": last.get("gate_forget", np.nan) - first.get("gate_forget", np.nan),
                "z": last.get("gate_update", np.nan) - first.get("gate_update", np.nan),
                "bf": bias(last, "f") - bias(first, "f"),
                "bz": bias(last, "z") - bias(first, "z"),
                "head": head_norm(last) - head_norm(first),
                "lambda": last["lambda"] - first["lambda"],
            }
            out.append(f"| {cell} | {name} | " + " | ".join(mean_ci(pd.Series(v)) for v in changes[name].values())
                       + " |")
        # the same seeds start from the same parameters under both labels: the paired difference of the changes
        paired = {k: pd.Series(changes["shuffled"][k]) - pd.Series(changes["true"][k]) for k in changes["true"]}
        out.append(f"| {cell} | shuffled − true, paired | " + " | ".join(mean_ci(v) for v in paired.values()) + " |")
    return out


def render(runs: Path, figures: Path | None) -> str:
    explain = pd.read_csv(runs / "dynamics" / "explain.csv")
    dynamics = pd.read_csv(runs / "dynamics" / "dynamics.csv")
    lines = ["<!-- generated by experiments/findings/v3/dynamics_tables.py from the runs; do not edit by hand -->",
             "", "*Rebuilt from the runs of the presets `findings/v3/dynamics` and `findings/v3/random-labels` (with "
             "`latchjax explain DIR --dynamics`) by `python experiments/findings/v3/dynamics_tables.py runs/v3 figures "
             "--doc FILE`.*",
             "", "#### Where training ends", "", *where_training_ends(explain, dynamics), "",
             "#### λ through training", ""]
    figure = figures / "findings_v3_lambda_dynamics.png" if figures else None
    lines += lambda_through_training(explain, dynamics, figure)
    if (runs / "random-labels" / "dynamics.csv").is_file():
        shuffled = pd.read_csv(runs / "random-labels" / "dynamics.csv")
        lines += ["", "#### The random-label control", "", *random_label_control(dynamics, shuffled)]
    return "\n".join(lines) + "\n"


def blocks(runs: Path, figures: Path | None) -> dict[str, str]:
    """FINDINGS.md's three blocks from ``runs/v3`` (make_v3.py): where training ends, λ through training, and the
    random-label control; a missing run gives its note instead."""
    v3 = runs / "v3"
    if not (v3 / "dynamics" / "dynamics.csv").is_file():
        note = "*(run v3/dynamics missing: `bash experiments/findings/v3/run_v3.sh`)*\n"
        return {"v3-dynamics-ends": note, "v3-dynamics-lambda": note, "v3-random-labels": note}
    explain = pd.read_csv(v3 / "dynamics" / "explain.csv")
    dynamics = pd.read_csv(v3 / "dynamics" / "dynamics.csv")
    figure = figures / "findings_v3_lambda_dynamics.png" if figures else None
    out = {"v3-dynamics-ends": "\n".join(where_training_ends(explain, dynamics)) + "\n",
           "v3-dynamics-lambda": "\n".join(lambda_through_training(explain, dynamics, figure)) + "\n"}
    if (v3 / "random-labels" / "dynamics.csv").is_file():
        shuffled = pd.read_csv(v3 / "random-labels" / "dynamics.csv")
        out["v3-random-labels"] = "\n".join(random_label_control(dynamics, shuffled)) + "\n"
    else:
        out["v3-random-labels"] = "*(run v3/random-labels missing: `bash experiments/findings/v3/run_v3.sh`)*\n"
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, help="the folder holding the runs dynamics/ and random-labels/")
    parser.add_argument("figures", type=Path, nargs="?", help="where to draw the figure")
    parser.add_argument("--doc", type=Path, help="write the tables into this document, between its markers")
    args = parser.parse_args(argv)
    block = render(args.runs, args.figures)
    if args.doc:
        args.doc.write_text(replace_between(args.doc.read_text(), BEGIN, END, block, str(args.doc)))
        print(f"{args.doc}: tables rewritten")
    else:
        print(block, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
