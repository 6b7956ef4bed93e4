"""What a run's tables and captions say: the text of ``results.csv``, ``history.csv``, ``summary.csv``, the
summary ``latchjax summary`` prints, and the caption that says how the seeds of a point relate.

Pure functions of a result (and its config); :mod:`latchjax.rundir.sweepdir` writes them.
"""

from __future__ import annotations

import itertools

import numpy as np

from latchjax.rundir.files import csv_text, fmt
from latchjax.sweep.results import DIMS, SweepResult

MODEL_COLUMNS = ("cell", "flavor", "units", "length", "lr", "forget_bias", "seed")


FINAL_COLUMNS = ("val_acc", "val_loss", "train_acc", "train_loss", "diverged", "success")


SUMMARY_COLUMNS = ("n", "successes", "success_freq", "ci_low", "ci_high", "mean_val_acc", "std_val_acc")


def final_columns(result: SweepResult) -> tuple[str, ...]:
    """The per-model metric columns of ``results.csv`` before ``diverged, success``: :data:`FINAL_COLUMNS`'s for
    a classification (without accuracies for a regression), then the success rule's metrics (``test_errors``...)."""
    names = [n for n in FINAL_COLUMNS[:4] if result.classifies or not n.endswith("_acc")]
    return (*names, *result.rule_metrics())


def summary_columns(result: SweepResult) -> tuple[str, ...]:
    """:data:`SUMMARY_COLUMNS`, with the validation loss's mean and std instead of the accuracy's for a
    regression."""
    return SUMMARY_COLUMNS if result.classifies else (*SUMMARY_COLUMNS[:5], "mean_val_loss", "std_val_loss")


def rule_caption(result: SweepResult, threshold: float) -> str:
    """What a success is in this run, in words."""
    rule = result.output_info()["rule"]
    return f"final val acc >= {threshold:g}" if rule is None else rule


def table_texts(result: SweepResult, threshold: float) -> dict[str, str]:
    """The text of ``results.csv``, ``history.csv`` and ``summary.csv``, by file name."""
    c = result.coords
    success = result.success(threshold)
    final = {name: result.final(name) for name in final_columns(result)}
    model_rows, history_rows = [], []
    grid = itertools.product(*(range(len(c[d])) for d in DIMS[:-1]))
    cells = result.cell_info()
    for idx in grid:
        cell = cells[idx[0]]
        key = [c["cell"][idx[0]], cell["flavor"], cell["units"], c["length"][idx[1]], c["lr"][idx[2]],
               c["forget_bias"][idx[3]], c["seed"][idx[4]]]
        values = [final[n][idx] for n in final] + [result.diverged[idx], success[idx]]
        model_rows.append([fmt(v) for v in key + values])
        for e, epoch in enumerate(c["epoch"]):
            history_rows.append([fmt(v) for v in key + [epoch] + [result.metrics[n][idx + (e,)] for n in final]])
    return {"results.csv": csv_text(MODEL_COLUMNS + (*final, "diverged", "success"), model_rows),
            "history.csv": csv_text(MODEL_COLUMNS + ("epoch", *final), history_rows),
            "summary.csv": csv_text(("cell", "length", "lr", "forget_bias") + summary_columns(result),
                                    summary_rows(result, threshold))}


def summary_rows(result: SweepResult, threshold: float) -> list[list]:
    """One row per (cell, length, lr, forget_bias) with success statistics over seeds."""
    c = result.coords
    freq = result.success_frequency(threshold)
    val = result.final("val_acc" if result.classifies else "val_loss")
    mean, std = np.nanmean(val, axis=-1), np.nanstd(val, axis=-1)
    rows = []
    for idx in itertools.product(*(range(len(c[d])) for d in DIMS[:4])):
        key = [c["cell"][idx[0]], c["length"][idx[1]], c["lr"][idx[2]], c["forget_bias"][idx[3]]]
        stats = [freq[k][idx] for k in ("n", "successes", "success_freq", "ci_low", "ci_high")] + [mean[idx], std[idx]]
        rows.append([fmt(v) for v in key + stats])
    return rows


DATA_CAPTIONS = {"shared": "data shared (one dataset per length for all seeds)",
                 "per-seed": "data per seed (each seed its own dataset)"}


def data_caption(config: dict) -> str:
    """How the seeds of a point relate: the data mode, and the head init where it is not the framework's."""
    head = config.get("head_init", "random")
    return DATA_CAPTIONS[config.get("data", "shared")] + ("" if head == "random" else f", head init {head}")


def summary_text(result: SweepResult, config: dict) -> str:
    """The success table of a finished run, as ``latchjax summary`` prints it."""
    rows = summary_rows(result, config["threshold"])
    varies = [len(result.coords["lr"]) > 1, len(result.coords["forget_bias"]) > 1]
    header = ["cell", "length"] + [n for n, v in zip(("lr", "b_f"), varies) if v] + \
             ["success", "freq", "95% CI", "val acc mean±std" if result.classifies else "val loss mean±std"]
    lines = [header]
    for cell, length, lr, fb, n, k, freq, lo, hi, mean, std in rows:
        lines.append([cell, str(length)] + [str(x) for x, v in zip((lr, fb), varies) if v] +
                     [f"{k}/{n}", f"{float(freq):.2f}", f"[{float(lo):.2f}, {float(hi):.2f}]",
                      f"{float(mean):.3f}±{float(std):.3f}"])
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    title = f"{config['preset']}: success = {rule_caption(result, config['threshold'])}; {data_caption(config)}"
    return "\n".join([title] + ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in lines])
