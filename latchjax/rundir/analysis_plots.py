"""Figures of what a run's models did: ``latchjax diagnose`` (gradient norms, trajectories, fixed points) and
``latchjax explain`` (success against the rest-state eigenvalue, aligned against reversed read-outs)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from latchjax.sweep.results import wilson_interval  # noqa: E402

NORM_FLOOR = 1e-30  # gradient norms below this (an underflow, or exactly 0) are drawn at it, on a log axis


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
            ax.semilogy(t, np.maximum(norms, NORM_FLOOR), color="C2" if r["success"][i] else "C3", alpha=0.5, lw=1)
        if np.any(np.asarray(r["norms"]) < NORM_FLOOR):  # a norm that underflowed is drawn on the floor: say so
            ax.axhline(NORM_FLOOR, color="k", ls=":", lw=0.8)
            ax.annotate(f"clipped at {NORM_FLOOR:g} (smaller norms drawn here)", (0.02, NORM_FLOOR),
                        xycoords=("axes fraction", "data"), xytext=(0, 3), textcoords="offset points", fontsize=7)
        ax.set(title=f"{name}: ||dL/dh_t|| (green: success, red: failure)", xlabel="time step t",
               ylabel="gradient norm ||dL/dh_t||")
        ax.grid(alpha=0.3)
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
        handles = []
        for m, (name, r) in enumerate(srnn.items()):
            w, b = r["w_b"][:, 0], r["w_b"][:, 1]
            colors = np.where(r["success"], "C2", "C3")
            ax.scatter(w, np.zeros_like(w) - 1.1 - 0.08 * m, c=colors, s=14, marker="|" if m else "o")
            handles.append(Line2D([], [], color="0.4", marker="|" if m else "o", ls="none",
                                  label=f"{name}: trained w; |b| median {np.median(np.abs(b)):.2f}"))
        ax.axvline(1, color="grey", lw=0.8, ls="--")
        ax.set(xlabel="recurrent weight w", ylabel="fixed points of h -> tanh(w h)", ylim=(-1.3, 1.1))
        ax.set_title("one tanh unit: one fixed point for w <= 1, three (a latch) for w > 1 (b = 0);\n"
                     "for w < -1 the latch is a 2-cycle (+h*, -h*), not a fixed point", fontsize=9)
        handles += [Line2D([], [], color=c, marker="s", ls="none", label=f"{c_name}: {what}")
                    for c, c_name, what in (("C2", "green", "success"), ("C3", "red", "failure"))]
        ax.legend(handles=handles, fontsize=7, loc="upper left")
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
