"""Rewrite the tables of docs/SUITE.md from finished suite runs (nothing in them is pasted by hand).

    for p in hs97-adding hs97-temporal-order hs97-two-sequence-3a copy digits-row memory-capacity \\
             hs97-adding-torch; do
        latchjax sweep --preset suite/$p --out runs/suite/$p
    done
    python experiments/suite/make_suite.py runs/suite            # rewrites docs/SUITE.md
    python experiments/suite/make_suite.py runs/suite --doc FILE  # another file with the same markers

Every finished sweep directly under the runs directory (``config.json``, ``meta.json``, ``summary.csv``,
``results.csv``) is read; whatever lies between ``<!-- suite:begin -->`` and ``<!-- suite:end -->`` in the document
is replaced, everything outside the markers is kept. Per task: the paper's reported result (with where it is in
the paper and whether the number was checked against a source, [src], or is from memory, [mem]) beside latchjax's
rows at the paper's length (success k/n with Wilson and Clopper–Pearson 95% intervals, the Kaplan–Meier median of
training sequences to success with its 95% interval, test errors), then one horizon table (T50 [95%] per cell and
flavour, a column per task) and the compute each run took (``meta.json``).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from latchjax.core.tasks.digits import NOT_SMNIST
from latchjax.core.tasks.jaeger01 import DELAYS
from latchjax.rundir.tables import replace_between

BEGIN, END = "<!-- suite:begin -->", "<!-- suite:end -->"
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Paper:
    """What a paper reports for one task, and how latchjax's setting differs from it."""

    title: str
    length: int | None  # the paper's T, the length of latchjax's rows (None: the run's longest)
    reported: str
    differs: str


PAPERS = {
    "adding": Paper(
        "H&S 1997 Exp. 4, adding (section 5.4, Table 7)", 100,
        "LSTM without forget gate (`lstm97`; 2 memory cell blocks of size 2, 93 weights), online SGD at lr 0.5, "
        "stopped when the average training error was below 0.01 and the 2000 most recent sequences were right: at "
        "T = 100 after **74,000** sequences, **1 of 2560** test sequences wrong (means of 10 trials; never more "
        "than 3 wrong); T = 500: 209,000 sequences, 0 of 2560; T = 1000: 853,000, 1 of 2560 [src: Tables 7, 10, "
        "section 5.4].",
        "Adam at lr 0.01 in minibatches of 32 instead of online SGD; 8 units of every cell instead of 2 blocks of "
        "2 cells; success = **zero** errors on the test set (H&S stop on the training error and report the test "
        "errors after); every run's budget (below) is a fraction of the 74,000 sequences H&S needed."),
    "temporal_order": Paper(
        "H&S 1997 Exp. 6a, temporal order (section 5.6, Table 9)", 100,
        "LSTM without forget gate, 2 memory cell blocks of size 2 (156 weights), lr 0.5, stopped when the average "
        "training error was below 0.1 and the 2000 most recent sequences were right: **31,390** sequences on "
        "average over 20 trials, **1 of 2560** test sequences wrong [src: Tables 9, 10, section 5.6].",
        "Adam at lr 0.01, minibatches of 32, 8 units; success = test accuracy >= 0.99 of a softmax read-out (H&S: "
        "every output's final error < 0.3 [src]); every run's budget (below) is under H&S's average."),
    "two_sequence_3a": Paper(
        "H&S 1997 Exp. 3a, 2-sequence problem with noise (section 5.3, Table 4)", 100,
        "LSTM (3 memory cell blocks of size 1, 102 weights, lr 1.0), means of 10 trials: at T = 100, N = 3, "
        "**27,380** sequences until none of 256 test sequences was misclassified (ST1) and 39,850 until also the "
        "mean absolute test error was below 0.01 (ST2); T = 100, N = 1: 58,370 / 64,330; T = 1000, N = 3: "
        "446,850 / 452,460; then 0.000195 of 2560 test sequences wrong at T = 100, N = 3 [src: Table 4, section "
        "5.3].",
        "Adam at lr 0.01, minibatches of 32, 8 units; success = zero errors (|error| >= 0.2) on the test set of "
        "1000 (H&S's ST1: none wrong of 256 [src]); T up to 100 only."),
    "copy": Paper(
        "Arjovsky, Shah & Bengio 2016, copy (section 5.1, Figure 1, of the authors' draft)", 100,
        "No success rule: cross-entropy curves against the memoryless baseline 10 log 8 / (T + 20); RMSProp, lr "
        "1e-3, decay 0.9; hidden sizes 80 (tanh RNN), 80 (IRNN), 40 (LSTM) and 128 (uRNN), about 6,500 "
        "parameters each; the LSTM beats the baseline only at T = 100, slowly, and the uRNN falls to near zero "
        "there within about 20,000 training examples [src: the authors' December 2015 draft, "
        "amarshah/complex_RNN paper/uRNN/uRNN.tex and its Figure 1; the ICML text not checked].",
        "16 units instead of 40 (LSTM) / 128 (uRNN); Adam at lr 0.01, batch 32 (theirs: RMSProp, lr 1e-3; batch "
        "20 in the authors' code); latchjax's success = every recalled symbol of every test sequence right."),
    "digits_row": Paper(
        "none: scikit-learn's 8x8 digits, not sequential MNIST", 8,
        f"No published benchmark uses this task ({NOT_SMNIST}).",
        "Not applicable: a small stand-in that needs no download."),
    "memory_capacity": Paper(
        "Jaeger 2001, memory capacity (GMD Report 152)", None,
        "MC <= N for N linear units [src]; Jaeger trains only the linear read-out of a fixed echo state "
        "network. No number is compared here: the paper's networks and K are not verified [mem].",
        "The whole network is trained by gradient (Adam, lr 0.01), 32 units, K = 40 delays; MC is bounded from "
        "below by 40 (1 - loss ratio), since for any read-out r^2 >= 1 - MSE / Var u."),
}
TASK_ORDER = list(PAPERS)


@dataclass
class SuiteRun:
    """One finished sweep, as make_suite reads it."""

    name: str
    config: dict
    meta: dict
    summary: pd.DataFrame
    results: pd.DataFrame
    horizons: pd.DataFrame | None

    @property
    def task(self) -> str:
        return self.config["task"]

    @property
    def flavor(self) -> str:
        return self.config["flavor"]


def read_runs(runs_dir: Path) -> list[SuiteRun]:
    """Every finished sweep directly under ``runs_dir``, in :data:`TASK_ORDER` (then by name)."""
    found = []
    for path in sorted(p for p in runs_dir.iterdir() if p.is_dir()):
        if not all((path / f).is_file() for f in ("config.json", "meta.json", "summary.csv", "results.csv")):
            continue
        horizons = pd.read_csv(path / "horizons.csv") if (path / "horizons.csv").is_file() else None
        found.append(SuiteRun(path.name, json.loads((path / "config.json").read_text()),
                              json.loads((path / "meta.json").read_text()), pd.read_csv(path / "summary.csv"),
                              pd.read_csv(path / "results.csv"), horizons))
    order = {task: i for i, task in enumerate(TASK_ORDER)}
    return sorted(found, key=lambda r: (order.get(r.task, len(order)), r.name))


def _num(x: float, digits: int = 2) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _sequences(x: float) -> str:
    """A count of training sequences: ``inf`` is 'not reached' (censored at the budget)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return "not reached" if math.isinf(x) else f"{x:,.0f}"


def _median_ci(row: pd.Series) -> str:
    if "median_sequences" not in row or pd.isna(row["median_sequences"]):
        return "- (not timed)"
    if math.isinf(row["median_sequences"]) and math.isinf(row["median_low"]):
        return "not reached"
    return f"{_sequences(row['median_sequences'])} [{_sequences(row['median_low'])}, " \
           f"{_sequences(row['median_high'])}]"


def _test_sample_count(cfg: dict) -> int:
    if "test_samples" in cfg and cfg.get("data", "").startswith("online"):
        return int(cfg["test_samples"])
    return round(cfg["samples"] * cfg["val_fraction"])


def _errors(run: SuiteRun, seeds: pd.DataFrame) -> str:
    """The task's own error measure over the seeds at one length: test errors (median, best) out of the test
    set, or for memory capacity the lower bound on MC (median, best)."""
    n_test = _test_sample_count(run.config)
    if run.task == "memory_capacity" and "loss_ratio" in seeds:
        mc = DELAYS * (1.0 - seeds["loss_ratio"].to_numpy(float))
        return f"MC >= {np.nanmedian(mc):.1f} (best {np.nanmax(mc):.1f}); K = {DELAYS}, N = {run.config['units']}"
    if "test_errors" in seeds:
        errors = seeds["test_errors"].to_numpy(float)
    elif "val_acc" in seeds:
        errors = np.round((1.0 - seeds["val_acc"].to_numpy(float)) * n_test)
    else:
        return "-"
    if np.all(np.isnan(errors)):
        return "- (diverged)"
    return f"{np.nanmedian(errors):.0f} (best {np.nanmin(errors):.0f}) of {n_test}"


def _loss_vs_baseline(row: pd.Series, seeds: pd.DataFrame) -> str:
    """The seeds' mean validation loss, and its ratio to the task's memoryless baseline where it has one."""
    loss = float(np.nanmean(seeds["val_loss"].to_numpy(float))) if len(seeds) else float("nan")
    if "baseline" not in row or pd.isna(row["baseline"]) or not row["baseline"]:
        return _num(loss, 4)
    return f"{loss:.4f} ({loss / row['baseline']:.2f}x)"


def task_rows(run: SuiteRun, length: int) -> list[str]:
    """latchjax's rows of one run at ``length``: one per cell (and lr, forget bias where the run varies them)."""
    rows = []
    summary = run.summary[run.summary["length"] == length]
    for _, row in summary.iterrows():
        seeds = run.results[(run.results["cell"] == row["cell"]) & (run.results["length"] == length)
                            & np.isclose(run.results["lr"], row["lr"])]
        k, n = int(row["successes"]), int(row["n"])
        rows.append(f"| `{run.name}` | {row['cell']} | {run.flavor} | {length} | {k}/{n} | [{row['ci_low']:.2f}, "
                    f"{row['ci_high']:.2f}] | [{row['cp_low']:.2f}, {row['cp_high']:.2f}] | {_median_ci(row)} | "
                    f"{_errors(run, seeds)} | {_loss_vs_baseline(row, seeds)} |")
    return rows


def _settings(run: SuiteRun) -> str:
    cfg = run.config
    if cfg.get("data", "").startswith("online"):
        training = f"budget {cfg['budget']:,} sequences, test set {cfg['test_samples']}, checked every " \
                   f"{cfg['eval_every'] * cfg['batch_size']:,} sequences" + \
                   (", stopped at success" if cfg.get("stop_at_success") else "")
    else:
        training = f"{cfg['epochs']} epochs of {cfg['samples']} samples ({cfg['val_fraction']:g} held out)"
    lrs = ", ".join(f"{v:g}" for v in cfg["lr"])
    return f"{cfg['seeds']} seeds, {cfg['units']} units, {cfg['flavor']} flavour, lr {lrs}, batch " \
           f"{cfg['batch_size']}, {training}"


def task_section(task: str, runs: list[SuiteRun]) -> list[str]:
    paper = PAPERS.get(task)
    title = paper.title if paper else task
    length = paper.length if paper and paper.length else max(max(r.config["lengths"]) for r in runs)
    out = [f"### {task}: {title}", ""]
    if task.startswith("digits"):
        out += [f"**{NOT_SMNIST}.**", ""]
    if paper:
        out += [f"**Paper:** {paper.reported}", "", f"**latchjax differs:** {paper.differs}", ""]
    for run in runs:
        out.append(f"- `{run.name}` (`{run.config.get('preset', 'custom')}`): {_settings(run)}.")
    last = "MC lower bound: median (best)" if task == "memory_capacity" else "held-out errors: median (best)"
    out += ["", f"| run | cell | flavour | T | success | Wilson 95% | Clopper–Pearson 95% | median sequences to "
                f"success [KM 95%] | {last} | val loss (/ baseline) |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        at = length if length in run.config["lengths"] else max(run.config["lengths"])
        out += task_rows(run, at)
    return out + [""]


def horizon_text(row: pd.Series, lengths: list[int]) -> str:
    """``T50 [low, high]``, or what the note says when the horizon is not identified (a step: successes only up to
    one of the trained ``lengths``, none at the next, so T50 is below that next length)."""
    note = "" if pd.isna(row.get("note", "")) else str(row.get("note", ""))
    if not pd.isna(row["t50"]):
        low, high = _num(row["t50_low"], 0), _num(row["t50_high"], 0)
        marks = ("*" if "resamples not identified" in note else "") + ("†" if "T50 extrapolated" in note else "")
        return f"{row['t50']:.0f} [{low}, {high}]{marks}"
    below = re.search(r"below T = (\d+)", note)
    beyond = re.search(r"beyond T = (\d+)", note)
    if below:
        return f"< {below.group(1)}"
    if beyond:
        return f"> {beyond.group(1)}"
    separated = re.search(r"every success at T <= (\d+)", note)
    if separated:
        last = int(separated.group(1))
        after = [t for t in sorted(lengths) if t > last]
        return f"step: < {after[0]}" if after else "n.i."
    return "n.i."


def _horizon_column(run: SuiteRun) -> str:
    """A horizon column: the task, its lengths and, for online data, the training budget (two runs of one task
    with different budgets are two columns)."""
    cfg = run.config
    budget = f"; {cfg['budget']:,} seq." if cfg.get("data", "").startswith("online") else ""
    return f"{run.task} (T = {', '.join(str(t) for t in cfg['lengths'])}{budget})"


def horizon_table(runs: list[SuiteRun]) -> list[str]:
    """T50 [95%] per (cell, flavour), one column per task (and budget) of a run with horizons."""
    with_h = [r for r in runs if r.horizons is not None and len(r.horizons)]
    if not with_h:
        return ["No run has three lengths or more: no horizons."]
    columns = list(dict.fromkeys(_horizon_column(r) for r in with_h))
    table: dict[tuple[str, str], dict[str, str]] = {}
    for run in with_h:
        for _, row in run.horizons.iterrows():
            table.setdefault((row["cell"], run.flavor), {})[_horizon_column(run)] = \
                horizon_text(row, run.config["lengths"])
    out = ["| cell | flavour | " + " | ".join(columns) + " |", "|---|---|" + "---|" * len(columns)]
    for (cell, flavor), values in table.items():
        out.append(f"| {cell} | {flavor} | " + " | ".join(values.get(c, "not run") for c in columns) + " |")
    return out


def compute_table(runs: list[SuiteRun]) -> list[str]:
    out = ["| run | models | compile s | training s | wall (start to end) | backend |", "|---|---|---|---|---|---|"]
    total = [0.0, 0.0, 0.0]
    for run in runs:
        m, cfg = run.meta, run.config
        models = len(cfg["cells"]) * len(cfg["lengths"]) * len(cfg["lr"]) * len(cfg.get("forget_bias", [1])) \
            * cfg["seeds"]
        start, end = pd.Timestamp(m["start"]), pd.Timestamp(m["end"])
        wall = (end - start).total_seconds()
        total = [total[0] + m["compile_s"], total[1] + m["run_s"], total[2] + wall]
        out.append(f"| `{run.name}` | {models} | {m['compile_s']:.0f} | {m['run_s']:.0f} | {wall:.0f} s | "
                   f"{m['backend']} ({len(m['devices'])} devices), latchjax {m['versions']['latchjax']}, jax "
                   f"{m['versions']['jax']} |")
    out.append(f"| total | | {total[0]:.0f} | {total[1]:.0f} | {total[2]:.0f} s ({total[2] / 60:.1f} min) | |")
    return out


def render(runs: list[SuiteRun]) -> str:
    """The generated block (without the markers)."""
    out = ["<!-- generated by experiments/suite/make_suite.py from the runs below; do not edit by hand -->", "",
           "## The leaderboard", ""]
    by_task: dict[str, list[SuiteRun]] = {}
    for run in runs:
        by_task.setdefault(run.task, []).append(run)
    for task, task_runs in by_task.items():
        out += task_section(task, task_runs)
    out += ["## Memory horizons: T50 [95%] per cell and flavour", "",
            "The length at which the fitted success frequency falls to 50% (logistic fit in log T; 95% bootstrap "
            "interval), from `horizons.csv`. `< T`: no seed succeeded at any length (the horizon lies below the "
            "shortest); `> T`: every seed succeeded at every length; `step: < b`: successes only at "
            "the lengths below b, none from b on (too steep a fall for a logistic fit; T50 is below b); `n.i.`: not "
            "identified (see the run's `horizons.csv`). `*`: some "
            "bootstrap resamples could not be fitted and are left out of the interval (read it with care); `†`: "
            "T50 extrapolated beyond the trained lengths.", ""]
    out += horizon_table(runs) + ["", "## Compute", ""] + compute_table(runs)
    return "\n".join(out) + "\n"


def rewrite(doc: Path, block: str) -> str:
    """``doc``'s text with the part between the markers replaced by ``block``."""
    try:
        return replace_between(doc.read_text(), BEGIN, END, block, str(doc))
    except ValueError as err:
        raise SystemExit(str(err)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, help="directory holding the finished suite runs, one per folder")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "SUITE.md", help="document to rewrite")
    args = parser.parse_args(argv)
    runs = read_runs(args.runs)
    if not runs:
        print(f"{args.runs}: no finished runs", file=sys.stderr)
        return 2
    args.doc.write_text(rewrite(args.doc, render(runs)))
    print(f"{args.doc}: {len(runs)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
