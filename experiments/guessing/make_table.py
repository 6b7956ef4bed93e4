"""Run every random-guessing row of docs/GUESSING.md and rewrite its table from the saved results.

    python experiments/guessing/make_table.py            # runs what is missing under runs/guessing/
    python experiments/guessing/make_table.py --rerun    # runs everything again

Guessing rows run ``latchjax guess`` (results in ``runs/guessing/rg/<row>/``). Gradient rows are read
from the sweeps ``latchjax sweep --preset guessing/gd-two-sequence --out runs/guessing/gd-two-sequence``
and ``... guessing/gd-parity --out runs/guessing/gd-parity`` (run those first).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

from latchjax.cli import run
from latchjax.rundir.load import load_result

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "runs" / "guessing"
DOC = ROOT / "docs" / "GUESSING.md"

# name, H&S's reported mean trials (or a note), latchjax guess arguments
KERAS = ["--simulations", "20", "--max-trials", "200000"]  # slower nets: fewer simulations
HARD = ["--simulations", "5", "--max-trials", "50000"]  # searches that may never succeed
ROWS = [
    ("latch1", "6", ["--task", "latch1"]),
    ("latch1-400", "6", ["--task", "latch1", "--simulations", "400"]),
    ("latch2", "22", ["--task", "latch2"]),
    ("latch2-400", "22", ["--task", "latch2", "--simulations", "400"]),
    ("latch2-var0.04", "22", ["--task", "latch2", "--task-option", "noise_var=0.04"]),
    ("latch2-srnn", "", ["--task", "latch2", "--arch", "srnn"]),
    ("latch2-lstm", "", ["--task", "latch2", "--arch", "lstm", *KERAS]),
    ("latch2-gru", "", ["--task", "latch2", "--arch", "gru", *KERAS]),
    ("two_sequence-N1", "faster than LSTM", ["--task", "two_sequence", "--task-option", "N=1"]),
    ("two_sequence-N3", "faster than LSTM", ["--task", "two_sequence", "--task-option", "N=3"]),
    ("two_sequence-N1-srnn", "", ["--task", "two_sequence", "--arch", "srnn", *KERAS]),
    ("two_sequence-N1-lstm", "", ["--task", "two_sequence", "--arch", "lstm", *KERAS]),
    ("two_sequence-N1-gru", "", ["--task", "two_sequence", "--arch", "gru", *KERAS]),
    ("parity-a1", "2906", ["--task", "parity", "--arch", "a1"]),
    ("parity-a2", "2797", ["--task", "parity", "--arch", "a2", "--simulations", "10"]),
    ("parity-srnn2", "", ["--task", "parity", "--arch", "srnn:units=2", *HARD]),
    ("parity-lstm2", "", ["--task", "parity", "--arch", "lstm:units=2", *HARD]),
    ("parity-gru2", "", ["--task", "parity", "--arch", "gru:units=2", *HARD]),
    ("adding-a1", "not solvable by guessing", ["--task", "adding", *HARD]),
    ("adding-lstm2", "not solvable by guessing", ["--task", "adding", "--arch", "lstm:units=2", *HARD]),
]


def guessing_rows(rerun: bool) -> list[str]:
    lines = ["| task | lengths | net (weights) | H&S mean trials | latchjax mean trials (median) | solved | "
             "sequences evaluated to success | test acc | guesses/s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, theirs, argv in ROWS:
        out = RUNS / "rg" / name
        if rerun or not (out / "summary.json").is_file():
            assert run(["guess", *argv, "--out", str(out), "--force", "--quiet"]) == 0, name
        s = json.loads((out / "summary.json").read_text())
        options = ", ".join(f"{k}={v:g}" for k, v in s["options"].items())
        task = s["task"] + (f" ({options})" if options else "")
        if s["mean_trials"] is None:
            ours, seqs, acc = f"none within {s['max_trials']:,}", "—", "—"
        else:
            median = s["median_trials"]
            ours = f"{s['mean_trials']:,.1f} ({median:,.1f})" if median % 1 else f"{s['mean_trials']:,.1f} ({median:,.0f})"
            seqs = f"{s['mean_trials'] * s['train']:,.0f}"
            acc = f"{s['mean_test_accuracy']:.3f}"
        lines.append(f"| {task} | {s['length']}–{s['length_max']} | {s['arch']} ({s['n_params']}) | {theirs or '—'} | "
                     f"{ours} | {s['solved']}/{s['simulations']} | {seqs} | {acc} | {s['guesses_per_second']:,.0f} |")
    return lines


def gradient_rows() -> list[str]:
    lines = ["| task | length | cell | lr | success (95% CI) | mean final val acc | "
             "median training sequences to success |", "|---|---|---|---|---|---|---|"]
    for preset in ("gd-two-sequence", "gd-parity"):
        path = RUNS / preset
        if not (path / "results.npz").is_file():
            lines.append(f"| (run `latchjax sweep --preset guessing/{preset} --out runs/guessing/{preset}`) ||||||")
            continue
        result = load_result(path / "results.npz")
        config = json.loads((path / "config.json").read_text())
        threshold, n_train = config["threshold"], int(config["samples"] * (1 - config["val_fraction"]))
        freq = result.success_frequency(threshold)
        val = np.nan_to_num(result.metrics["val_acc"], nan=-1.0)  # (cell, length, lr, fb, seed, epoch)
        ok = result.success(threshold)
        task = config["task"] + (f" (N={config['informative']})" if config["task"] == "two_sequence" else "")
        for c, cell in enumerate(result.coords["cell"]):
            for i, length in enumerate(result.coords["length"]):
                for j, lr in enumerate(result.coords["lr"]):
                    k, n = int(freq["successes"][c, i, j, 0]), int(freq["n"][c, i, j, 0])
                    lo, hi = freq["ci_low"][c, i, j, 0], freq["ci_high"][c, i, j, 0]
                    winners = ok[c, i, j, 0]
                    first = np.argmax(val[c, i, j, 0] >= threshold, axis=-1) + 1  # first epoch at the threshold
                    examples = f"{np.median(first[winners]) * n_train:,.0f}" if winners.any() else "—"
                    mean = np.nanmean(result.final("val_acc")[c, i, j, 0])
                    lines.append(f"| {task} | {length} | {cell} (units={config['units']}) | {lr:g} | "
                                 f"{k}/{n} [{lo:.2f}, {hi:.2f}] | {mean:.3f} | {examples} |")
    return lines


def replace_block(text: str, marker: str, lines: list[str]) -> str:
    pattern = re.compile(rf"(<!-- {marker}:start -->\n).*?(<!-- {marker}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{DOC}: no <!-- {marker}:start/end --> block")
    return pattern.sub(lambda m: m.group(1) + "\n".join(lines) + "\n" + m.group(2), text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rerun", action="store_true", help="run every guessing row again")
    args = parser.parse_args()
    text = DOC.read_text()
    text = replace_block(text, "guessing", guessing_rows(args.rerun))
    text = replace_block(text, "gradient", gradient_rows())
    DOC.write_text(text)
    print(f"updated {DOC}")


if __name__ == "__main__":
    main()
