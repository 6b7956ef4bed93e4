"""What a run's tables and captions say: the text of ``results.csv``, ``history.csv``, ``summary.csv``,
``horizons.csv`` (runs of at least three lengths), the summary ``latchjax summary`` prints, and the caption that says how the seeds of a point relate.

Pure functions of a result (and its config); :mod:`latchjax.rundir.sweepdir` writes them.
"""

from __future__ import annotations

import itertools

import numpy as np

from latchjax.core.tasks.digits import NOT_SMNIST
from latchjax.rundir.files import csv_text, fmt
from latchjax.sweep.results import DIMS, MIN_HORIZON_LENGTHS, SweepResult

MODEL_COLUMNS = ("cell", "flavor", "units", "length", "lr", "forget_bias", "seed")


FINAL_COLUMNS = ("val_acc", "val_loss", "train_acc", "train_loss", "diverged", "success")


SUMMARY_COLUMNS = ("n", "successes", "success_freq", "ci_low", "ci_high", "mean_val_acc", "std_val_acc")


HORIZON_COLUMNS = ("cell", "lr", "forget_bias", "t50", "t50_low", "t50_high", "t90", "t90_low", "t90_high", "boots",
                   "boots_failed", "note")


def final_columns(result: SweepResult) -> tuple[str, ...]:
    """The per-model metric columns of ``results.csv`` before ``diverged, success``: :data:`FINAL_COLUMNS`'s for
    a classification (without accuracies for a regression), then the success rule's metrics (``test_errors``...)."""
    names = [n for n in FINAL_COLUMNS[:4] if result.classifies or not n.endswith("_acc")]
    return (*names, *result.rule_metrics())


TIMED_COLUMNS = ("median_sequences", "median_low", "median_high")  # steps to success (Kaplan-Meier)
EXACT_COLUMNS = ("cp_low", "cp_high")  # Clopper-Pearson's exact 95% interval, last so older columns keep their place


def summary_columns(result: SweepResult) -> tuple[str, ...]:
    """:data:`SUMMARY_COLUMNS`, with the validation loss's mean and std instead of the accuracy's for a
    regression; a timed run (online data, ``--stop-at-success``) adds the median sequences to success and its 95%
    interval (:data:`TIMED_COLUMNS`); a task with a memoryless baseline adds ``baseline``; Clopper and Pearson's
    exact 95% interval (:data:`EXACT_COLUMNS`) comes last."""
    columns = SUMMARY_COLUMNS if result.classifies else (*SUMMARY_COLUMNS[:5], "mean_val_loss", "std_val_loss")
    return (*columns, *(TIMED_COLUMNS if result.timed else ()),
            *(("baseline",) if "baseline" in result.coords else ()), *EXACT_COLUMNS)


def extra_model_columns(result: SweepResult) -> tuple[str, ...]:
    """What ``results.csv`` adds after ``success``: ``sequences_to_success`` (a timed run: the training sequences
    seen when the rule first held, empty if never) and ``baseline`` (the task's memoryless baseline loss)."""
    return (*(("sequences_to_success",) if result.timed else ()),
            *(("baseline",) if "baseline" in result.coords else ()))


def rule_caption(result: SweepResult, threshold: float) -> str:
    """What a success is in this run, in words."""
    rule = result.output_info()["rule"]
    return f"final val acc >= {threshold:g}" if rule is None else rule


def table_texts(result: SweepResult, threshold: float) -> dict[str, str]:
    """The text of ``results.csv``, ``history.csv``, ``summary.csv`` and, with at least
    :data:`~latchjax.sweep.results.MIN_HORIZON_LENGTHS` lengths, ``horizons.csv``, by file name."""
    c = result.coords
    success = result.success(threshold)
    final = {name: result.final(name) for name in final_columns(result)}
    extra = extra_model_columns(result)
    if result.timed:
        times, observed = result.steps_to_success(threshold)
        to_success = np.where(observed, times, np.nan)
    model_rows, history_rows = [], []
    grid = itertools.product(*(range(len(c[d])) for d in DIMS[:-1]))
    cells = result.cell_info()
    for idx in grid:
        cell = cells[idx[0]]
        key = [c["cell"][idx[0]], cell["flavor"], cell["units"], c["length"][idx[1]], c["lr"][idx[2]],
               c["forget_bias"][idx[3]], c["seed"][idx[4]]]
        values = [final[n][idx] for n in final] + [result.diverged[idx], success[idx]]
        if result.timed:
            values.append(to_success[idx])
        if "baseline" in c:
            values.append(c["baseline"][idx[1]])
        model_rows.append([fmt(v) for v in key + values])
        for e, epoch in enumerate(c["epoch"]):
            when = [c["sequences"][e]] if result.timed else []
            history_rows.append([fmt(v) for v in key + [epoch] + when +
                                 [result.metrics[n][idx + (e,)] for n in final]])
    return {"results.csv": csv_text(MODEL_COLUMNS + (*final, "diverged", "success", *extra), model_rows),
            "history.csv": csv_text(MODEL_COLUMNS + ("epoch", *(("sequences",) if result.timed else ()), *final),
                                    history_rows),
            "summary.csv": csv_text(("cell", "length", "lr", "forget_bias") + summary_columns(result),
                                    summary_rows(result, threshold)),
            **({"horizons.csv": csv_text(HORIZON_COLUMNS, horizon_rows(result, threshold))}
               if len(c["length"]) >= MIN_HORIZON_LENGTHS else {})}


def horizon_rows(result: SweepResult, threshold: float) -> list[list]:
    """One row of :data:`HORIZON_COLUMNS` per (cell, lr, forget_bias): T50 and T90 with their 95% bootstrap
    intervals (:meth:`~latchjax.sweep.results.SweepResult.memory_horizons`), the resamples drawn and those without
    an identified fit, and the note (why there is no number; extrapolation)."""
    c = result.coords
    rows = []
    for (i, j, k), h in result.memory_horizons(threshold).items():
        numbers = [v for q in range(2) for v in (h.t[q], h.low[q], h.high[q])]
        rows.append([fmt(v) for v in [c["cell"][i], c["lr"][j], c["forget_bias"][k], *numbers, h.boots, h.failed,
                                      h.note]])
    return rows


def summary_rows(result: SweepResult, threshold: float) -> list[list]:
    """One row per (cell, length, lr, forget_bias) with success statistics over seeds."""
    c = result.coords
    freq = result.success_frequency(threshold)
    val = result.final("val_acc" if result.classifies else "val_loss")
    mean, std = np.nanmean(val, axis=-1), np.nanstd(val, axis=-1)
    timed = result.median_steps_to_success(threshold) if result.timed else {}
    rows = []
    for idx in itertools.product(*(range(len(c[d])) for d in DIMS[:4])):
        key = [c["cell"][idx[0]], c["length"][idx[1]], c["lr"][idx[2]], c["forget_bias"][idx[3]]]
        stats = [freq[k][idx] for k in ("n", "successes", "success_freq", "ci_low", "ci_high")] + [mean[idx], std[idx]]
        stats += [timed[k][idx] for k in TIMED_COLUMNS if timed]
        if "baseline" in c:
            stats.append(c["baseline"][idx[1]])
        stats += [freq[k][idx] for k in EXACT_COLUMNS]
        rows.append([fmt(v) for v in key + stats])
    return rows


DATA_CAPTIONS = {"shared": "data shared (one dataset per length for all seeds)",
                 "per-seed": "data per seed (each seed its own dataset)",
                 "online": "online data (fresh minibatches, one stream per point shared by its seeds; fixed test set)",
                 "online-per-seed": "online data (fresh minibatches, one stream per seed; fixed test set)"}


def data_caption(config: dict) -> str:
    """How the seeds of a point relate: the data mode, and the head init where it is not the framework's."""
    head = config.get("head_init", "random")
    return DATA_CAPTIONS[config.get("data", "shared")] + ("" if head == "random" else f", head init {head}")


def task_note(config: dict) -> str:
    """What a report must say about the run's task, or "": the digits tasks are not sequential MNIST
    (:data:`latchjax.core.tasks.digits.NOT_SMNIST`)."""
    return NOT_SMNIST if config.get("task", "").startswith("digits") else ""


def _sequences(text: str, budget: float, median: bool) -> str:
    """A count of sequences as the summary shows it; a median not reached within the budget is ``> budget``, an
    interval's end not reached ``inf``."""
    value = float(text)
    if np.isnan(value):
        return "-"
    if np.isinf(value):
        return f"> {budget:,.0f}" if median else "inf"
    return f"{value:,.0f}"


def summary_text(result: SweepResult, config: dict) -> str:
    """The success table of a finished run, as ``latchjax summary`` prints it."""
    rows = summary_rows(result, config["threshold"])
    varies = [len(result.coords["lr"]) > 1, len(result.coords["forget_bias"]) > 1]
    header = ["cell", "length"] + [n for n, v in zip(("lr", "b_f"), varies) if v] + \
             ["success", "freq", "Wilson 95% CI", "exact (C-P) 95% CI", "val acc mean±std" if result.classifies else
              "val loss mean±std"]
    if result.timed:
        header.append("median seqs to success [95% CI]")
    lines = [header]
    for cell, length, lr, fb, n, k, freq, lo, hi, mean, std, *more in rows:
        cp_lo, cp_hi = more[-2:]
        lines.append([cell, str(length)] + [str(x) for x, v in zip((lr, fb), varies) if v] +
                     [f"{k}/{n}", f"{float(freq):.2f}", f"[{float(lo):.2f}, {float(hi):.2f}]",
                      f"[{float(cp_lo):.2f}, {float(cp_hi):.2f}]", f"{float(mean):.3f}±{float(std):.3f}"])
        if result.timed:
            budget = result.coords["sequences"][-1]
            med, low, high = (_sequences(v, budget, i == 0) for i, v in enumerate(more[:3]))
            lines[-1].append(f"{med} [{low}, {high}]")
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    title = f"{config['preset']}: success = {rule_caption(result, config['threshold'])}; {data_caption(config)}"
    note = task_note(config)
    return "\n".join([title] + ([note] if note else []) + ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in lines] +
                     ["", *horizon_text(result, config["threshold"], varies)])


def _length(value: str) -> str:
    return "-" if value == "nan" else f"{float(value):.4g}"


def horizon_text(result: SweepResult, threshold: float, varies: list[bool]) -> list[str]:
    """The memory horizons under the summary's table (:func:`horizon_rows`), or the line saying why there are
    none."""
    lengths = len(result.coords["length"])
    if lengths < MIN_HORIZON_LENGTHS:
        return [f"memory horizon: not estimated (a logistic fit over lengths needs at least {MIN_HORIZON_LENGTHS} "
                f"lengths; this run has {lengths})"]
    rows = horizon_rows(result, threshold)
    header = ["cell"] + [n for n, v in zip(("lr", "b_f"), varies) if v] + ["T50 [95% CI]", "T90 [95% CI]", "note"]
    lines = [header]
    for cell, lr, fb, *t, _, _, note in rows:
        lines.append([cell] + [str(x) for x, v in zip((lr, fb), varies) if v] +
                     [f"{_length(t[3 * q])} [{_length(t[3 * q + 1])}, {_length(t[3 * q + 2])}]" if t[3 * q] != "nan"
                      else "-" for q in range(2)] +
                     [note])
    widths = [max(len(row[i]) for row in lines) for i in range(len(header) - 1)]
    boots = max(int(float(row[-3])) for row in rows)  # an unidentified fit draws none
    return [f"memory horizon: T50, T90 = the lengths where success falls to 50%, 90%, from a logistic fit of success "
            f"on log T over all {lengths} lengths; 95% CI: percentile bootstrap over seeds ({boots} resamples, "
            "clustered by seed)"] + ["  ".join([*(c.rjust(w) for c, w in zip(row, widths)), row[-1]]).rstrip()
                                     for row in lines]


def replace_between(text: str, begin: str, end: str, block: str, name: str = "the document") -> str:
    """``text`` with what lies between the markers ``begin`` and ``end`` replaced by ``block`` (the markers kept):
    how the scripts that rebuild docs/SUITE.md and docs/FINDINGS.md write their generated tables. Raises
    ``ValueError`` unless there is exactly one ``begin`` before one ``end``."""
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        raise ValueError(f"{name}: needs exactly one {begin} before one {end}")
    head, rest = text.split(begin)
    _, tail = rest.split(end)
    return f"{head}{begin}\n{block}{end}{tail}"
