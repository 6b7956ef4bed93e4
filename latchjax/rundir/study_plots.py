"""Figures of the literature's own experiments: ``latchjax landscape`` surfaces and Bengio et al. 1994's latch."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from latchjax.analysis.landscape import BASE_WORDS, HEAD_WORDS, LATCH_PARAMETERS, PARAMETER_WORDS  # noqa: E402
from latchjax.sweep.results import wilson_interval  # noqa: E402


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
    for row in range(2):
        axes[row, 0].set_ylabel(PARAMETER_WORDS.get(names[0], names[0]), fontsize=9)
    fig.supxlabel(PARAMETER_WORDS.get(names[1], names[1]), fontsize=9)
    fig.colorbar(image, ax=axes[0, :].tolist(), label="cross-entropy")
    fig.colorbar(image2, ax=axes[1, :].tolist(), label="log10 |grad| (clipped to [-8, 8])")
    kinds = LATCH_PARAMETERS[names[0]][2] if names[0] in LATCH_PARAMETERS else ()
    fixed = (f"held fixed, every parameter not on the axes: {BASE_WORDS[kinds[0]]}" if kinds and kinds[0] in BASE_WORDS
             else "the other parameters held fixed")
    fig.suptitle(f"latch task, one-unit cell: loss and gradient norm over two parameters\n{fixed}\n{HEAD_WORDS}: "
                 "a negative input weight reverses the read-out, and the loss shows that orientation, not memory",
                 fontsize=9, y=0.95, va="bottom")
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
