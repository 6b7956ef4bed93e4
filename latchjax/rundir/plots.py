"""Figures of a sweep, drawn from a :class:`~latchjax.sweep.results.SweepResult` alone (no training).

* ``success_frequency``: fraction of seeds whose final validation accuracy reaches the
  threshold, vs sequence length, with Wilson 95% bands, and (runs of at least three lengths) each curve's
  memory horizon T50 as a diamond at 50% with its 95% bootstrap interval;
* ``mean_val_acc``: mean final validation accuracy +- standard deviation vs length (the
  thread's plots);
* ``val_acc_distribution``: every seed's final validation accuracy, per length and cell
  (shows at a glance whether accuracies are all-or-nothing, as with the ``keras`` split).

The figures of ``diagnose`` and ``explain`` are in :mod:`latchjax.rundir.analysis_plots`, those of ``landscape`` and
``bengio`` in :mod:`latchjax.rundir.study_plots`.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from latchjax.rundir.tables import data_caption, rule_caption, task_note  # noqa: E402
from latchjax.sweep.results import MIN_HORIZON_LENGTHS, SweepResult  # noqa: E402

FIGURES = ("success_frequency", "mean_val_acc", "val_acc_distribution")


def curve_series(result: SweepResult):
    """(label, index) for every (cell, lr, forget_bias) combination; labels only name what varies.
    A cell without a forget-gate bias (SimpleRNN, GRU, chrono LSTM) is drawn once, not per b_f value."""
    c = result.coords
    info = result.cell_info()
    for i, j, k in itertools.product(range(len(c["cell"])), range(len(c["lr"])), range(len(c["forget_bias"]))):
        varies = len(c["forget_bias"]) > 1 and info[i]["has_forget_bias"]
        if k > 0 and not varies:
            continue
        label = c["cell"][i]
        if len(c["lr"]) > 1:
            label += f" lr={c['lr'][j]:g}"
        if varies:
            label += f" b_f={c['forget_bias'][k]:g}"
        yield label, (i, slice(None), j, k)


def _line_style(values: np.ndarray, drawn: list[np.ndarray]) -> str:
    """Solid, or, for a series equal to one drawn before it (it would hide under it), dashed, dotted, dash-dotted;
    ``values`` joins ``drawn``."""
    same = sum(bool(np.allclose(values, d, equal_nan=True)) for d in drawn)
    drawn.append(np.asarray(values))
    return ("-", "--", ":", "-.")[same % 4]


def _finish(ax, result: SweepResult, title: str, ylabel: str) -> None:
    ax.set_xlabel("sequence length")
    ax.set_ylabel(ylabel)
    ax.set_ylim(-0.03, 1.03)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)


def _curve_figure(result: SweepResult, draw, subtitle: str, ylabel: str, title: str) -> plt.Figure:
    """One line per (cell, lr, forget_bias) series against length; ``draw(ax, lengths, label, idx)``."""
    lengths = np.asarray(result.coords["length"])
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, idx in curve_series(result):
        draw(ax, lengths, label, idx)
    _finish(ax, result, f"{title}\n{subtitle}", ylabel)
    return fig


def success_frequency(result: SweepResult, threshold: float, title: str = "") -> plt.Figure:
    """Success frequency vs length with Wilson 95% bands; with at least three lengths, each identified T50
    (:meth:`~latchjax.sweep.results.SweepResult.memory_horizons`) as a diamond at 50% with its interval as a
    horizontal bar (the axis stays on the trained lengths; a bar beyond them is cut at the edge)."""
    freq = result.success_frequency(threshold)
    horizons = result.memory_horizons(threshold) if len(result.coords["length"]) >= MIN_HORIZON_LENGTHS else {}

    drawn: list[np.ndarray] = []

    def draw(ax, lengths, label, idx):
        line, = ax.plot(lengths, freq["success_freq"][idx], marker="o", ls=_line_style(freq["success_freq"][idx], drawn),
                        ms=3, label=label)
        ax.fill_between(lengths, freq["ci_low"][idx], freq["ci_high"][idx], color=line.get_color(), alpha=0.2)
        horizon = horizons.get((idx[0], idx[2], idx[3]))
        if horizon is not None and np.isfinite(horizon.t[0]):
            t50, low, high = horizon.t[0], horizon.low[0], horizon.high[0]
            if np.isfinite([low, high]).all():  # the interval as drawn, even where a bootstrap's misses t50
                ax.errorbar([(low + high) / 2], [0.5], xerr=[[(high - low) / 2]], fmt="none", capsize=3,
                            color=line.get_color())
            ax.plot([t50], [0.5], "D", ms=6, color=line.get_color(), mec="k", mew=0.6)

    n = len(result.coords["seed"])
    caption = f"success = {rule_caption(result, threshold)}; {n} seeds; band: Wilson 95% CI"
    if horizons:
        caption += "; diamond: T50 [bootstrap 95% CI]"
    fig = _curve_figure(result, draw, caption, "success frequency", title)
    if any(line.get_linestyle() != "-" for line in fig.axes[0].lines if line.get_marker() == "o"):
        fig.axes[0].set_title(fig.axes[0].get_title() + "\ndashed or dotted: equal to a line drawn before it",
                              fontsize=10)
    if horizons:
        lengths = np.asarray(result.coords["length"], np.float64)
        pad = 0.04 * (lengths.max() - lengths.min())
        fig.axes[0].set_xlim(lengths.min() - pad, lengths.max() + pad)
    return fig


def mean_val_acc(result: SweepResult, title: str = "") -> plt.Figure:
    """Mean final validation accuracy (a regression: validation loss) +- std vs length."""
    what = "accuracy" if result.classifies else "loss"
    val = result.final("val_acc" if result.classifies else "val_loss")

    def draw(ax, lengths, label, idx):
        ax.errorbar(lengths, np.nanmean(val[idx], axis=-1), yerr=np.nanstd(val[idx], axis=-1), fmt="o-", ms=3,
                    capsize=2, label=label)

    n = len(result.coords["seed"])
    fig = _curve_figure(result, draw, f"mean final val {what} over {n} seeds; bars: standard deviation",
                        f"validation {what}", title)
    if not result.classifies:
        fig.axes[0].autoscale(axis="y")
    return fig


def _stacked_offsets(values: np.ndarray, width: float) -> tuple[np.ndarray, float]:
    """x offsets that lay the points of each y bin (``width`` wide) side by side, centred on 0, one unit apart: a
    bin's row is as long as its count (a dot histogram), so the share of seeds at one value shows. Also the
    longest row's half-length."""
    offsets = np.full(values.shape, np.nan)
    bins = np.floor(values / width)
    for b in np.unique(bins[np.isfinite(bins)]):
        at = np.flatnonzero(bins == b)
        offsets[at] = np.arange(len(at)) - (len(at) - 1) / 2
    return offsets, float(np.nanmax(np.abs(offsets), initial=0.0))


def val_acc_distribution(result: SweepResult, title: str = "") -> plt.Figure:
    """Every seed's final validation accuracy (a regression: loss) per length (evenly spaced), as a dot histogram:
    seeds with nearly the same value (bins of 1/50 of the axis) sit side by side, so the share at each value shows
    as the length of its row; one scale for the whole figure."""
    lengths = np.asarray(result.coords["length"])
    what = "accuracy" if result.classifies else "loss"
    val = result.final("val_acc" if result.classifies else "val_loss")
    series = list(curve_series(result))
    fig, axes = plt.subplots(1, len(series), figsize=(4.2 * len(series), 3.8), squeeze=False, sharey=True)
    finite = val[np.isfinite(val)]
    width = (1.0 if result.classifies or not finite.size else float(np.ptp(finite)) or 1.0) / 50
    laid = [[_stacked_offsets(val[idx][li], width) for li in range(len(lengths))] for _, idx in series]
    longest = max([half for per_length in laid for _, half in per_length] + [1.0])
    for ax, (label, idx), per_length in zip(axes[0], series, laid):
        for li, (offsets, _) in enumerate(per_length):  # the lengths evenly spaced, one row of at most 0.8 each
            ax.scatter(li + offsets * 0.4 / longest, val[idx][li], s=5, alpha=0.6, color="C0", lw=0)
        ax.set_xticks(range(len(lengths)), [str(t) for t in lengths],  # many lengths: upright labels would overlap
                      rotation=90 if len(lengths) > 8 else 0, fontsize=8 if len(lengths) > 8 else None)
        ax.set_xlim(-0.6, len(lengths) - 0.4)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("sequence length")
        ax.grid(alpha=0.3)
        if result.classifies:
            ax.set_ylim(-0.03, 1.03)
    axes[0][0].set_ylabel(f"final val {what} (one dot per seed)")
    fig.suptitle(f"{title}\nseeds with nearly equal values side by side: a row's length is its count".lstrip("\n"),
                 fontsize=10)
    fig.tight_layout()
    return fig


def success_vs_sequences(result: SweepResult, threshold: float, title: str = "") -> plt.Figure:
    """For a timed run (online data or ``--stop-at-success``): the fraction of seeds whose success rule has held
    by each evaluation, against the training sequences seen, one panel per length, one line per series. Every
    model shares the budget, so this is 1 - Kaplan-Meier's survival: no model is censored before its end."""
    c = result.coords
    times, observed = result.steps_to_success(threshold)
    seen = np.asarray(c["sequences"], np.float64)
    lengths = c["length"]
    cols = min(len(lengths), 4)
    rows = -(-len(lengths) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols + 0.6, 2.9 * rows + 0.9), squeeze=False, sharey=True)
    for li, length in enumerate(lengths):
        ax = axes[li // cols][li % cols]
        for label, (i, _, j, k) in curve_series(result):
            solved = (observed[i, li, j, k][:, None] & (times[i, li, j, k][:, None] <= seen)).mean(axis=0)
            ax.step(np.r_[0, seen], np.r_[0, solved], where="post", label=label)
        ax.set_title(f"length {length}", fontsize=9)
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
        if li // cols == rows - 1:
            ax.set_xlabel("training sequences seen")
        if li % cols == 0:
            ax.set_ylabel("fraction of seeds solved")
    for extra in range(len(lengths), rows * cols):
        axes[extra // cols][extra % cols].set_visible(False)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"{title}\nsteps to success: success = {result.output_info()['rule'] or f'val acc >= {threshold:g}'}; "
                 f"{len(c['seed'])} seeds", fontsize=9)
    fig.tight_layout()
    return fig


def draw_all(result: SweepResult, out: Path, threshold: float, title: str = "", fmt: str = "png") -> list[Path]:
    """Draw every figure into ``out`` (created if needed); returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    figures = {
        "success_frequency": success_frequency(result, threshold, title),
        "mean_val_acc": mean_val_acc(result, title),
        "val_acc_distribution": val_acc_distribution(result, title),
    }
    if result.timed:
        figures["success_vs_sequences"] = success_vs_sequences(result, threshold, title)
    paths = []
    for name, fig in figures.items():
        path = out / f"{name}.{fmt}"
        fig.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(fig)
        paths.append(path)
    return paths


def run_title(config: dict) -> str:
    """A figure title naming the run: preset, task, cells, flavour, split, epochs and how seeds relate."""
    cells = ", ".join(config["cells"])
    training = (f"{config['budget']:,} sequences" if "budget" in config
                else f"{config['split']} split, {config['epochs']} epochs")
    note = task_note(config)
    return (f"{config['preset']}: {config['task']}, {cells} ({config['flavor']}, {config['units']} unit"
            f"{'s' if config['units'] > 1 else ''}), {training}\n{data_caption(config)}"
            + (f"\n{note}" if note else ""))
