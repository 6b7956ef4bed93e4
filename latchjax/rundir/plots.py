"""Figures of a sweep, drawn from a :class:`~latchjax.sweep.results.SweepResult` alone (no training).

* ``success_frequency``: fraction of seeds whose final validation accuracy reaches the
  threshold, vs sequence length, with Wilson 95% bands, and (runs of at least three lengths) each curve's
  memory horizon T50 as a diamond at 50% with its 95% bootstrap interval;
* ``mean_val_acc``: mean final validation accuracy +- standard deviation vs length (the
  thread's plots);
* ``val_acc_distribution``: every seed's final validation accuracy, per length and cell
  (shows at a glance whether accuracies are all-or-nothing, as with the ``keras`` split).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from latchjax.rundir.tables import data_caption, rule_caption, task_note  # noqa: E402
from latchjax.sweep.results import MIN_HORIZON_LENGTHS, SweepResult, wilson_interval  # noqa: E402

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

    def draw(ax, lengths, label, idx):
        line, = ax.plot(lengths, freq["success_freq"][idx], "o-", ms=3, label=label)
        ax.fill_between(lengths, freq["ci_low"][idx], freq["ci_high"][idx], color=line.get_color(), alpha=0.2)
        horizon = horizons.get((idx[0], idx[2], idx[3]))
        if horizon is not None and np.isfinite(horizon.t[0]):
            t50, low, high = horizon.t[0], horizon.low[0], horizon.high[0]
            bar = [[t50 - low], [high - t50]] if np.isfinite([low, high]).all() else None
            ax.errorbar([t50], [0.5], xerr=bar, fmt="D", ms=6, capsize=3, color=line.get_color(), mec="k", mew=0.6)

    n = len(result.coords["seed"])
    caption = f"success = {rule_caption(result, threshold)}; {n} seeds; band: Wilson 95% CI"
    if horizons:
        caption += "; diamond: T50 [bootstrap 95% CI]"
    fig = _curve_figure(result, draw, caption, "success frequency", title)
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


def val_acc_distribution(result: SweepResult, title: str = "") -> plt.Figure:
    lengths = np.asarray(result.coords["length"])
    what = "accuracy" if result.classifies else "loss"
    val = result.final("val_acc" if result.classifies else "val_loss")
    series = list(curve_series(result))
    fig, axes = plt.subplots(1, len(series), figsize=(4.2 * len(series), 3.8), squeeze=False, sharey=True)
    rng = np.random.default_rng(0)
    step = np.min(np.diff(np.sort(lengths))) if len(lengths) > 1 else 1.0
    for ax, (label, idx) in zip(axes[0], series):
        values = val[idx]  # (length, seed)
        jitter = rng.uniform(-0.3, 0.3, values.shape) * step
        ax.scatter((lengths[:, None] + jitter).ravel(), values.ravel(), s=6, alpha=0.5)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("sequence length")
        ax.grid(alpha=0.3)
        if result.classifies:
            ax.set_ylim(-0.03, 1.03)
    axes[0][0].set_ylabel(f"final val {what} (one dot per seed)")
    fig.suptitle(title, fontsize=10)
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


def draw_landscape(arrays: dict, preset: str, names: tuple[str, str], out: Path, fmt: str = "png") -> list[Path]:
    """Figures of a ``latchjax landscape`` surface: Pascanu's 3-D surface and heat map, or the latch
    loss and log10 gradient norm per sequence length, side by side."""
    x, y, loss = arrays["w"], arrays["b"], arrays["loss"]
    extent = (y[0], y[-1], x[0], x[-1])
    paths = []
    if preset == "pascanu":
        fig = plt.figure(figsize=(6.4, 5))
        ax = fig.add_subplot(projection="3d")
        yy, xx = np.meshgrid(y, x)
        ax.plot_surface(xx, yy, loss, cmap="viridis", linewidth=0, rstride=2, cstride=2)
        ax.set(xlabel="w", ylabel="b", zlabel="E")
        ax.set_title("x_t = w sigmoid(x_{t-1}) + b, x_0 = 0.5; E = (sigmoid(x_T) - 0.7)^2", fontsize=9)
        paths.append(out / f"surface.{fmt}")
        fig.savefig(paths[-1], dpi=120, bbox_inches="tight")
        plt.close(fig)
        fig, ax = plt.subplots(figsize=(6, 4.8))
        image = ax.imshow(loss, origin="lower", extent=extent, aspect="auto", cmap="viridis")
        fig.colorbar(image, ax=ax, label="E")
        ax.set(xlabel="b", ylabel="w", title="Pascanu et al. 2013, Fig. 6: error surface (heat map)")
        paths.append(out / f"heatmap.{fmt}")
        fig.savefig(paths[-1], dpi=120, bbox_inches="tight")
        plt.close(fig)
        return paths
    lengths = arrays["length"]
    fig, axes = plt.subplots(2, len(lengths), figsize=(3.2 * len(lengths), 6), squeeze=False, sharex=True,
                             sharey=True)
    grad = np.log10(np.clip(np.nan_to_num(arrays["grad_norm"], nan=np.inf, posinf=1e30), 1e-12, 1e30))
    for i, length in enumerate(lengths):
        image = axes[0, i].imshow(loss[i], origin="lower", extent=extent, aspect="auto", cmap="viridis",
                                  vmin=0, vmax=np.nanpercentile(loss, 99))
        axes[0, i].set_title(f"loss, T = {length}", fontsize=9)
        image2 = axes[1, i].imshow(grad[i], origin="lower", extent=extent, aspect="auto", cmap="magma",
                                   vmin=-8, vmax=8)
        axes[1, i].set_title(f"log10 |gradient|, T = {length}", fontsize=9)
        axes[1, i].set_xlabel(names[1])
    for row in range(2):
        axes[row, 0].set_ylabel(names[0])
    fig.colorbar(image, ax=axes[0, :].tolist(), label="cross-entropy")
    fig.colorbar(image2, ax=axes[1, :].tolist(), label="log10 |grad| (clipped to [-8, 8])")
    fig.suptitle("latch task, one-unit cell: loss and gradient norm over two parameters, others fixed",
                 fontsize=10)
    paths.append(out / f"landscape.{fmt}")
    fig.savefig(paths[-1], dpi=110, bbox_inches="tight")
    plt.close(fig)
    return paths


def draw_bengio(lengths, by_length, w0s, noises, grid, settings: dict, out: Path, fmt: str = "png") -> list[Path]:
    """Bengio et al. 1994 Fig. 2: convergence frequency vs T (b) and vs initial weight and noise (a)."""
    k, n = by_length.sum(axis=-1), by_length.shape[-1]
    low, high = wilson_interval(k, np.full_like(k, n))
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(lengths, k / n, "o-")
    ax.fill_between(lengths, low, high, alpha=0.25)
    ax.set(xlabel="sequence length T", ylabel="frequency of training convergence", ylim=(-0.03, 1.03))
    ax.set_title(f"Bengio et al. 1994, Fig. 2(b): one tanh unit, L = {settings['L']}, noise std "
                 f"{settings['noise']:g}, w0 = {settings['w0']:g}\n{n} runs per point; band: Wilson 95% CI",
                 fontsize=9)
    ax.grid(alpha=0.3)
    paths = [out / f"convergence_vs_length.{fmt}"]
    fig.savefig(paths[-1], dpi=120, bbox_inches="tight")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for j, noise in enumerate(noises):
        ax.plot(w0s, grid[:, j].mean(axis=-1), "o-", label=f"noise std {noise:g}")
    ax.set(xlabel="initial recurrent weight w0", ylabel="frequency of training convergence", ylim=(-0.03, 1.03))
    ax.set_title(f"Bengio et al. 1994, Fig. 2(a): T = {settings['grid_length']}, {grid.shape[-1]} runs per point",
                 fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    paths.append(out / f"convergence_vs_w0_noise.{fmt}")
    fig.savefig(paths[-1], dpi=120, bbox_inches="tight")
    plt.close(fig)
    return paths


def _binary(labels) -> bool:
    return np.ndim(labels) == 1 and bool(np.isin(labels, (0, 1)).all())


def _label_color(labels, k: int) -> str:
    """Green/red for a binary label, one colour per class for K classes, blue for a regression target."""
    if _binary(labels):
        return "C2" if labels[k] == 1 else "C3"
    return f"C{int(labels[k]) % 10}" if np.ndim(labels) == 1 else "C0"


def draw_diagnostics(report: dict, labels, diagram, length: int, out: Path, fmt: str = "png") -> list[Path]:
    """Gradient norm over time, state trajectories and (one-unit SimpleRNN) fixed points of trained models."""
    paths = []
    fig, axes = plt.subplots(1, len(report), figsize=(4.6 * len(report), 3.8), squeeze=False)
    for ax, (name, r) in zip(axes[0], report.items()):
        t = np.arange(r["norms"].shape[1])
        for i, norms in enumerate(r["norms"]):
            ax.semilogy(t, np.maximum(norms, 1e-30), color="C2" if r["success"][i] else "C3", alpha=0.5, lw=1)
        ax.set(title=f"{name}: ||dL/dh_t|| (green: success)", xlabel="time step t")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("gradient norm")
    fig.suptitle(f"vanishing gradients, T = {length}: how much the loss depends on the state at step t", fontsize=10)
    fig.tight_layout()
    paths.append(out / f"gradient_norms.{fmt}")
    fig.savefig(paths[-1], dpi=120, bbox_inches="tight")
    plt.close(fig)

    n_models = max(len(r["trajectories"]) for r in report.values())
    fig, axes = plt.subplots(len(report), n_models, figsize=(3.4 * n_models, 2.6 * len(report)), squeeze=False)
    for row, (name, r) in enumerate(report.items()):
        for col, (i, traj) in enumerate(r["trajectories"].items()):
            ax = axes[row][col]
            for j in range(min(8, traj["h"].shape[1])):
                k = j if j % 2 == 0 else len(labels) - j  # both classes (rows come positives first)
                ax.plot(traj["h"][:, k, 0], color=_label_color(labels, k), alpha=0.7, lw=1)
            ax.set_title(f"{name} seed {i} ({'success' if r['success'][i] else 'failure'})", fontsize=8)
            ax.grid(alpha=0.3)
    colours = ("green: label 1, red: label 0" if _binary(labels) else "colour: class" if np.ndim(labels) == 1
               else "a regression")
    fig.suptitle(f"h_t (first unit) on test sequences, {colours}; T = {length}", fontsize=10)
    fig.tight_layout()
    paths.append(out / f"trajectories.{fmt}")
    fig.savefig(paths[-1], dpi=110, bbox_inches="tight")
    plt.close(fig)

    srnn = {name: r for name, r in report.items() if r["w_b"] is not None}
    if srnn and diagram is not None:
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        ax.plot(*diagram, ",", color="k")
        for m, (name, r) in enumerate(srnn.items()):
            w, b = r["w_b"][:, 0], r["w_b"][:, 1]
            colors = np.where(r["success"], "C2", "C3")
            ax.scatter(w, np.zeros_like(w) - 1.1 - 0.08 * m, c=colors, s=14, marker="|" if m else "o",
                       label=f"{name}: trained w (green: success); |b| median {np.median(np.abs(b)):.2f}")
        ax.axvline(1, color="grey", lw=0.8, ls="--")
        ax.set(xlabel="recurrent weight w", ylabel="fixed points of h -> tanh(w h)", ylim=(-1.3, 1.1))
        ax.set_title("one tanh unit: one fixed point for w <= 1, three (a latch) for w > 1 (b = 0);\n"
                     "for w < -1 the latch is a 2-cycle (+h*, -h*), not a fixed point", fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
        ax.grid(alpha=0.3)
        paths.append(out / f"fixed_points.{fmt}")
        fig.savefig(paths[-1], dpi=120, bbox_inches="tight")
        plt.close(fig)
    return paths


def _pooled_success(ax, x, ok, label, style="o-", color=None, **line):
    """Success frequency per x value with Wilson 95% error bars; returns the line's colour."""
    values, n = np.unique(x[~np.isnan(x)], return_counts=True)
    k = np.array([np.sum(ok[x == v]) for v in values])
    low, high = wilson_interval(k, n)
    freq = k / n
    yerr = np.clip([freq - low, high - freq], 0, None)  # Wilson's bounds can miss 0 or 1 by a rounding error
    bars = ax.errorbar(values, freq, yerr=yerr, fmt=style, ms=4, capsize=2, label=label,
                       color=color, **line)
    return bars[0].get_color()


def draw_explain(table: dict, out: Path, fmt: str = "png", title: str = "") -> list[Path]:
    """Figures of ``latchjax explain``: success frequency against binned ``lambda0`` (every cell on one axis,
    all lengths pooled) and, per length, success of models whose readout starts aligned with the prototypes
    (``proto_acc0 > 1/2``) vs reversed (``< 1/2``)."""
    out.mkdir(parents=True, exist_ok=True)
    cells = list(dict.fromkeys(table["cell"].tolist()))
    ok = table["success"].astype(bool)
    lam = table["lambda0"].astype(np.float64)
    paths = []
    finite = lam[np.isfinite(lam)]
    if finite.size:
        edges = np.linspace(finite.min(), finite.max(), 13)
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for cell in cells:
            mine = (table["cell"] == cell) & np.isfinite(lam)
            which = np.clip(np.searchsorted(edges, lam[mine], side="right") - 1, 0, len(edges) - 2)
            means = np.array([lam[mine][which == b].mean() if np.any(which == b) else np.nan
                              for b in range(len(edges) - 1)])
            _pooled_success(ax, means[which], ok[mine], f"{cell} ({mine.sum()} models)")
        ax.axvline(1, color="grey", lw=0.8, ls="--")
        ax.set(xlabel="lambda0: spectral radius of the rest-state Jacobian at initialisation",
               ylabel="success frequency", ylim=(-0.03, 1.03))
        ax.set_title(f"{title}\nsuccess vs lambda0 in 12 bins (at each bin's mean), all lengths, lrs and biases pooled; "
                     "bars: Wilson 95% CI", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        paths.append(out / f"success_vs_lambda0.{fmt}")
        fig.savefig(paths[-1], dpi=120, bbox_inches="tight")
        plt.close(fig)
    acc = table["proto_acc0"].astype(np.float64)
    if ((acc > 0.5) | (acc < 0.5)).any():  # none where every start is a tie (PyTorch's biases: both prototypes alike)
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        lengths = table["length"].astype(np.float64)
        for cell in cells:
            mine = table["cell"] == cell
            color = None
            for start, style, pick, face in (("aligned", "o-", acc > 0.5, None), ("reversed", "s--", acc < 0.5, "none")):
                chosen = mine & pick
                if chosen.any():
                    color = _pooled_success(ax, lengths[chosen], ok[chosen], f"{cell} {start} ({chosen.sum()})",
                                            style, color, mfc=face)
        ax.set(xlabel="sequence length", ylabel="success frequency", ylim=(-0.03, 1.03))
        ax.set_title(f"{title}\nreadout at initialisation aligned (proto_acc0 > 1/2, solid) or reversed "
                     "(< 1/2, dashed); bars: Wilson 95% CI", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
        paths.append(out / f"success_aligned_vs_reversed.{fmt}")
        fig.savefig(paths[-1], dpi=120, bbox_inches="tight")
        plt.close(fig)
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
