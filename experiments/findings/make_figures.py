"""Draw the figures of docs/FINDINGS.md from saved findings runs (plus one small diagnostic training).

    for p in srnn-init lstm-forget gates head-sigmoid budget capacity-latch capacity-bit-relay; do
        latchjax sweep --preset findings/$p --out runs/findings/$p
    done
    latchjax sweep --preset question-fixed --out runs/question-fixed
    python experiments/findings/make_figures.py runs/findings runs/question-fixed figures

Everything but the diagnostic (``findings_bit-relay-diagnostic.png``, which trains 8 seeds per cell
of a 1-unit cell on bit relay at length 20 in about a minute) is drawn from the saved results alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from latchjax import SweepConfig, run_sweep  # noqa: E402
from latchjax.analysis.diagnostics import trajectories  # noqa: E402
from latchjax.core.cells import make_cell  # noqa: E402
from latchjax.core.tasks import bit_relay  # noqa: E402
from latchjax.rundir.load import load_result  # noqa: E402
from latchjax.rundir.plots import success_frequency  # noqa: E402

THRESHOLD = 0.9
CURVES = ("srnn-init", "lstm-forget", "gates", "capacity-latch", "capacity-bit-relay")


def curves(runs: Path, out: Path) -> None:
    for name in CURVES:
        config = json.loads((runs / name / "config.json").read_text())
        fig = success_frequency(load_result(runs / name / "results.npz"), THRESHOLD,
                                f"findings/{name}: {config['task']}, {config['epochs']} epochs, lr {config['lr'][0]:g}")
        fig.savefig(out / f"findings_{name}.png", dpi=120, bbox_inches="tight")
        plt.close(fig)


def budget(runs: Path, out: Path) -> None:
    """Success vs learning rate after 5 and after 10 epochs, one panel per cell, one line per length."""
    r = load_result(runs / "budget" / "results.npz")
    lrs, lengths = np.asarray(r.coords["lr"]), r.coords["length"]
    ok = (np.nan_to_num(r.metrics["val_acc"], nan=-1) >= THRESHOLD) & ~r.diverged[..., None]
    freq = ok.mean(axis=-2)[:, :, :, 0, :]  # (cell, length, lr, epoch)
    fig, axes = plt.subplots(1, len(r.coords["cell"]), figsize=(13, 3.8), sharey=True)
    for c, (ax, cell) in enumerate(zip(axes, r.coords["cell"])):
        for i, length in enumerate(lengths):
            line, = ax.plot(lrs, freq[c, i, :, -1], "o-", label=f"T={length}, 10 epochs")
            ax.plot(lrs, freq[c, i, :, 4], "o--", color=line.get_color(), alpha=0.6, label=f"T={length}, 5 epochs")
        ax.set(xscale="log", xlabel="learning rate", title=cell, ylim=(-0.03, 1.03))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"success frequency (val acc >= {THRESHOLD})")
    axes[-1].legend(fontsize=7, ncol=2)
    fig.suptitle("findings/budget: latch, 1 unit, 30 seeds; solid: after 10 epochs, dashed: after 5", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "findings_budget.png", dpi=120, bbox_inches="tight")
    plt.close(fig)


def head(runs: Path, softmax_run: Path, out: Path) -> None:
    """question-fixed (Dense(2) softmax) vs findings/head-sigmoid (Dense(1) sigmoid), same seeds."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for path, style, head_name in [(softmax_run, "o-", "softmax"), (runs / "head-sigmoid", "s--", "sigmoid")]:
        r = load_result(path / "results.npz")
        freq = r.success_frequency(THRESHOLD)["success_freq"][:, :, 0, 0]
        for c, cell in enumerate(r.coords["cell"]):
            ax.plot(r.coords["length"], freq[c], style, ms=3, color=f"C{c}", label=f"{cell}, {head_name} head")
    ax.set(xlabel="sequence length", ylabel="success frequency", ylim=(-0.03, 1.03))
    ax.set_title("Dense(2)+softmax+CE vs Dense(1)+sigmoid+BCE (latch, keras2, 30 seeds)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(out / "findings_head.png", dpi=120, bbox_inches="tight")
    plt.close(fig)


def bit_relay_diagnostic(out: Path, length: int = 20) -> None:
    """Train 1-unit srnn/lstm/gru on bit relay (answer-fix settings) and plot the best seed's states."""
    cfg = SweepConfig(task="bit_relay", cells=("srnn", "lstm", "gru"), lengths=(length,), seeds=8, epochs=10,
                      batch_size=32, lrs=(0.1,))
    result = run_sweep(cfg)
    x, y = bit_relay(jax.random.key(123), 400, length)
    x, y = np.asarray(x), np.asarray(y)
    signs = np.sign(x[:, [0, length // 2], 0])
    order = np.concatenate([np.flatnonzero((signs == combo).all(axis=1))[:2]  # 2 sequences per (s1, s2)
                            for combo in ([1, -1], [-1, 1], [1, 1], [-1, -1])])
    fig, axes = plt.subplots(2, 3, figsize=(13, 6.5), sharex=True)
    for c, name in enumerate(cfg.cells):
        val = result.final("val_acc")[c, 0, 0, 0]
        best = int(np.nanargmax(val))
        params = jax.tree.map(lambda a, b=best: a[b], result.params[name][0]["cell"])
        traj = trajectories(make_cell(name), params, jnp.asarray(x[order]))
        gate_name = {"srnn": None, "lstm": "cell", "gru": "update"}[name]
        for row, key in enumerate(["h", gate_name]):
            ax = axes[row, c]
            if key is None:
                ax.axis("off")
                continue
            values = np.asarray(traj[key])[:, :, 0]
            for j, idx in enumerate(order):
                s1, s2 = np.sign(x[idx, 0, 0]), np.sign(x[idx, length // 2, 0])
                ax.plot(values[:, j], color="C2" if y[idx] == 1 else "C3", alpha=0.8,
                        ls="-" if s1 > 0 else "--", lw=2.5 if s2 < 0 else 1.2, label=f"y={int(y[idx])}, s1={s1:+.0f}, s2={s2:+.0f}")
            ax.axvline(length // 2, color="grey", lw=0.8)
            label = {"h": "hidden state h_t", "cell": "LSTM cell state c_t", "update": "GRU update gate z_t"}[key]
            ax.set_title(f"{name} (best of 8 seeds, val acc {val[best]:.2f}): {label}" if row == 0 else label,
                         fontsize=9)
            ax.grid(alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    axes[1, 0].legend(unique.values(), unique.keys(), loc="center", fontsize=8,
                      title="green: y=1 (signs agree); dashed: s1=-1; thick: s2=-1")
    for ax in axes[1]:
        ax.set_xlabel("time step (grey line: the second bit)")
    fig.suptitle(f"bit relay, length {length}, 1 unit, lr 0.1, batch 32, 10 epochs: states on 8 test sequences",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "findings_bit-relay-diagnostic.png", dpi=120, bbox_inches="tight")
    plt.close(fig)


def main(argv: list[str]) -> None:
    if len(argv) != 3:
        sys.exit("usage: make_figures.py RUNS_DIR QUESTION_FIXED_RUN OUT_DIR")
    runs, softmax_run, out = (Path(a) for a in argv)
    out.mkdir(parents=True, exist_ok=True)
    curves(runs, out)
    budget(runs, out)
    head(runs, softmax_run, out)
    bit_relay_diagnostic(out)


if __name__ == "__main__":
    main(sys.argv[1:])
