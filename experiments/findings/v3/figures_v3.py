"""FINDINGS v3: the headline figure and the two λ0 figures, redrawn per the review's §6, from the re-run v2 runs.

    bash experiments/findings/v3/rerun_v2.sh runs/v2       # e2-lambda, e4-keras2, e4-keras3, e4-torch (+ explain)
    python experiments/findings/v3/figures_v3.py runs figures

Nothing is trained; every point is read from the runs' explain.csv / results.csv. ``findings_v3_headline.png``:
(a) success against T for the Keras 2 SimpleRNN and LSTM (e4-keras2) and the LSTM with forget bias 3 (e2-lambda's
plain ``lstm`` at b_f = 3); (b) success against log10 λ0^T for λ0 < 1 (Keras 2 and 3 cells, Adam, lr 1e-3, lengths
pooled) with a logistic curve fitted to those models, and beside it each E2 setting with λ0 ≥ 1 at T = 200.
``findings_v3_lambda.png``: success against binned λ0 per T, points only, λ0*(T) = 10^(−4/T) dashed.
``findings_v3_memory.png``: (b) per cell and framework, and the models with λ0 ≥ 1 by T in their own panel.
Duplicates are drawn once: a cell without a forget gate appears once per forget bias in a run's files (one model);
e4-keras2's cells are e2-lambda's unmanipulated ones (same seeds, data, initialisation: the same models); Keras 3's
SimpleRNN is Keras 2's (no gates, the same initialisation).
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
from scipy.special import expit  # noqa: E402

from latchjax.core.cells import uses_forget_bias  # noqa: E402
from latchjax.core.stats import wilson_interval  # noqa: E402

LENGTHS = (20, 50, 100, 200)
FAMILY = {"srnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
COLORS = {"srnn": "C0", "lstm": "C1", "gru": "C2"}
SOURCES = {"e2-lambda": ("E2, Keras 2, λ0 set by hand", "o", "full"),
           "e4-keras2": ("E4, Keras 2 defaults", "D", "none"),
           "e4-keras3": ("E4, Keras 3 defaults", "s", "none"),
           "e4-torch": ("E4, PyTorch defaults", "^", "none")}
FIT_RUNS = ("e2-lambda", "e4-keras2", "e4-keras3")  # Keras cells, Adam, lr 1e-3: the fitted curve's models
ONE = 1 - 1e-6  # λ0 at or above this counts as λ0 >= 1 (float32 rounding of an exact 1)
WINDOW = -16.0  # log10 λ0^T below this: drawn pooled into one point
FIT_FLOOR = -10.0  # the curve is fitted over (FIT_FLOOR, 0): below it float32 holds no signal (as theory.py's CLIP)
BELOW_AT = WINDOW - 3  # where the models below the window are drawn
MEMORY_BINS = np.array([WINDOW, -12, -8, -6, -5, -4, -3, -2, -1.5, -1, -0.5, 0])
LAMBDA_BINS = np.array([0.0, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 1.03, 1.1, 1.2, 1.3, 1.6])
RERUN = "bash experiments/findings/v3/rerun_v2.sh runs/v2"
MEMORY_WORDS = "first input left after T steps at rest, log10 λ0^T"


def _read(runs: Path, name: str, file: str = "explain.csv") -> pd.DataFrame | None:
    """One run's models, one row each (a cell without a forget gate: its first copy), or None if missing."""
    path = runs / "v2" / name / file
    if not path.is_file():
        return None
    frame = pd.read_csv(path)
    ok = frame["success"]
    frame["success"] = ok.isin(("True", "true", "1")) if ok.dtype == object else ok.astype(bool)
    gated = frame["cell"].map(uses_forget_bias)
    frame = frame[gated | ~frame.duplicated(["cell", "length", "lr", "seed"])].copy()
    frame["forget_bias"] = frame["forget_bias"].astype(float)
    frame["model_fb"] = frame["forget_bias"].where(gated, np.nan)  # the forget bias that names a model, if any
    frame["family"] = frame["cell"].str.split(":").str[0]
    frame["run"] = name
    return frame


def _models(runs: Path, names=tuple(SOURCES)) -> pd.DataFrame:
    """Every model of the named runs that exist, duplicates dropped (see the module's docstring), with
    ``memory`` = log10 λ0^T."""
    frames = {n: f for n in names if (f := _read(runs, n)) is not None}
    if "e2-lambda" in frames and "e4-keras2" in frames:
        keys = ["cell", "model_fb", "length", "lr", "seed"]
        seen = frames["e2-lambda"][keys].drop_duplicates()
        e4 = frames["e4-keras2"].merge(seen, on=keys, how="left", indicator=True)
        frames["e4-keras2"] = e4[e4.pop("_merge") == "left_only"]
    if "e4-keras3" in frames and ("e4-keras2" in frames or "e2-lambda" in frames):
        frames["e4-keras3"] = frames["e4-keras3"][frames["e4-keras3"]["family"] != "srnn"]
    if not frames:
        return pd.DataFrame(columns=["cell", "family", "run", "length", "lr", "seed", "success", "lambda0", "memory"])
    models = pd.concat(frames.values(), ignore_index=True)
    models["memory"] = models["length"] * np.log10(np.maximum(models["lambda0"].astype(float), 1e-300))
    return models


def _fit_logistic(x: np.ndarray, y: np.ndarray, ridge: float = 1e-6, iters: int = 100):
    """Logistic regression of y (0/1) on x by iteratively reweighted least squares (Newton's method), a tiny ridge
    keeping a separable sample finite: the coefficients (intercept, slope) and their covariance (inverse Fisher
    information)."""
    design = np.column_stack([np.ones_like(x, dtype=float), x])
    beta = np.zeros(2)
    for _ in range(iters):
        p = expit(design @ beta)
        info = design.T @ (design * (p * (1 - p))[:, None]) + ridge * np.eye(2)
        step = np.linalg.solve(info, design.T @ (y - p) - ridge * beta)
        beta = beta + step
        if np.abs(step).max() < 1e-10:
            break
    p = expit(design @ beta)
    info = design.T @ (design * (p * (1 - p))[:, None]) + ridge * np.eye(2)
    return beta, np.linalg.inv(info)


def memory_fit(models: pd.DataFrame) -> dict | None:
    """The fitted curve: success on log10 λ0^T over the informative window (FIT_FLOOR, 0), λ0 < 1, Keras cells, lr
    1e-3. Coefficients, covariance, the 50% point with its delta-method 95% interval, and the counts."""
    pick = models[models["run"].isin(FIT_RUNS) & np.isclose(models["lr"], 1e-3) & (models["lambda0"] < ONE)
                  & (models["memory"] >= FIT_FLOOR)]
    if len(pick) < 10 or pick["success"].nunique() < 2:
        return None
    x, y = pick["memory"].to_numpy(float), pick["success"].to_numpy(float)
    beta, cov = _fit_logistic(x, y)
    x50 = -beta[0] / beta[1]
    grad = np.array([-1 / beta[1], beta[0] / beta[1] ** 2])
    se50 = float(np.sqrt(grad @ cov @ grad))
    return {"beta": beta, "cov": cov, "x50": x50, "x50_ci": (x50 - 1.96 * se50, x50 + 1.96 * se50),
            "slope_ci": (beta[1] - 1.96 * np.sqrt(cov[1, 1]), beta[1] + 1.96 * np.sqrt(cov[1, 1])),
            "n": len(pick), "k": int(y.sum())}


def _draw_fit(ax, fit: dict | None, label: str) -> None:
    if fit is None:
        return
    x = np.linspace(FIT_FLOOR, 0, 200)
    design = np.column_stack([np.ones_like(x), x])
    eta, sd = design @ fit["beta"], np.sqrt(np.einsum("ij,jk,ik->i", design, fit["cov"], design))
    ax.plot(x, expit(eta), color="k", lw=1.5, label=label)
    ax.fill_between(x, expit(eta - 1.96 * sd), expit(eta + 1.96 * sd), color="k", alpha=0.12, lw=0)


def _points(ax, x, k, n, **style) -> None:
    """Success k/n at x with Wilson 95% bars, points only."""
    k, n = np.asarray(k), np.asarray(n)
    low, high = wilson_interval(k, n)
    p = k / n
    ax.errorbar(x, p, yerr=np.clip([p - low, high - p], 0, None), ls="none", capsize=2, ms=5, **style)


def _dodge(i: int, n: int, width: float) -> float:
    """The offset of series i of n, ``width`` apart, centred on 0."""
    return (i - (n - 1) / 2) * width


def _binned(frame: pd.DataFrame, column: str, edges: np.ndarray, min_n: int = 5) -> pd.DataFrame:
    """Per bin of ``column`` (right-open; outside the edges: dropped) with >= min_n models: median x, k, n."""
    idx = np.digitize(frame[column], edges) - 1
    keep = (idx >= 0) & (idx < len(edges) - 1)
    g = frame[keep].groupby(idx[keep])
    out = pd.DataFrame({"x": g[column].median(), "k": g["success"].sum(), "n": g["success"].size()})
    return out[out["n"] >= min_n]


def _below_window(ax, frame: pd.DataFrame, dx: float = 0.0, **style) -> None:
    """The models below the informative window as one point left of it."""
    low = frame[frame["memory"] < WINDOW]
    if len(low):
        _points(ax, [BELOW_AT + dx], [int(low["success"].sum())], [len(low)], **style)


def _memory_axis(ax) -> None:
    ax.axvline(-4, color="0.4", ls=":", lw=1)
    ax.text(-4.2, 1.04, "λ0^T = 10⁻⁴", ha="right", fontsize=7, color="0.3")
    ax.set_xticks([BELOW_AT, -16, -12, -8, -4, 0], [f"< −{-WINDOW:g}", "−16", "−12", "−8", "−4", "0"])
    ax.axvspan(BELOW_AT - 1.5, BELOW_AT + 1.5, color="0.92", lw=0)
    ax.set_xlim(BELOW_AT - 1.5, 0.5)
    ax.set_ylim(-0.04, 1.1)
    ax.set_xlabel(MEMORY_WORDS)
    ax.grid(alpha=0.3)


def _spread(ax, e2: pd.DataFrame, length: int = 200) -> None:
    """One dot per E2 setting (cell, forget bias) whose median λ0 >= 1 at ``length``, at that λ0, coloured by cell
    family (families side by side at the same λ0); a setting with exactly the models of one drawn before it is drawn
    once; a setting whose λ0 varies by seed (the plain LSTM) open, at its median."""
    at = e2[e2["length"] == length].sort_values("seed")
    seen, placed, open_ = [], [], False
    for (cell, _), g in at.groupby(["cell", "forget_bias"], sort=True):
        lam = float(g["lambda0"].median())
        signature = (cell, tuple(g["success"]), tuple(np.round(g["lambda0"], 6)))
        if lam < ONE or signature in seen:
            continue
        seen.append(signature)
        fam = cell.split(":")[0]
        x = lam + _dodge(list(FAMILY).index(fam), len(FAMILY), 0.015)
        x += 0.006 * sum(abs(x - other) < 1e-3 for other in placed)  # a second setting at the same λ0, beside it
        placed.append(x)
        varies = g["lambda0"].nunique() > 1  # the plain LSTM: λ0 spread by its random U_c; drawn open
        open_ |= varies
        _points(ax, [x], [int(g["success"].sum())], [len(g)], color=COLORS[fam], marker="o",
                mfc="white" if varies else COLORS[fam])
    for fam, name in FAMILY.items():
        ax.plot([], [], "o", color=COLORS[fam], label=name)
    if open_:
        ax.plot([], [], "o", color="0.4", mfc="white", label="λ0 varies by seed (median)")
    ax.set(xlim=(0.95, 1.58), xlabel="λ0 of the setting")
    ax.set_xticks([1, 1.25, 1.5])
    ax.set_title(f"λ0 ≥ 1, T = {length}:\none dot per E2 setting", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False)


def _length_axis(ax) -> None:
    ax.set(xscale="log", xlabel="sequence length T", xlim=(16, 250))
    ax.set_xticks(LENGTHS, [str(t) for t in LENGTHS])
    ax.minorticks_off()


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def _no_data(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=8, color="0.4", wrap=True)


def headline(runs: Path, out: Path) -> Path:
    fig = plt.figure(figsize=(14, 5.2))
    grid = fig.add_gridspec(1, 3, width_ratios=[1, 1.3, 0.55], wspace=0.25)
    ax_a, ax_b = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    ax_c = fig.add_subplot(grid[2], sharey=ax_b)
    e4, e2 = _read(runs, "e4-keras2", "results.csv"), _read(runs, "e2-lambda", "results.csv")
    e4 = e2 if e4 is None else e4  # e2-lambda's unmanipulated srnn and lstm (b_f 1) are e4-keras2's models
    series = [(e4, "srnn", None, "Keras 2 SimpleRNN (λ0 = 1)", "-"),
              (e4, "lstm", 1.0, "Keras 2 LSTM, default forget bias 1 (λ0 ≤ 0.95)", "-"),
              (e2, "lstm", 3.0, "Keras 2 LSTM, forget bias 3 (f = 1 at rest)", "--")]
    drawn: list[np.ndarray] = []
    for frame, cell, fb, label, ls in series:
        if frame is None:
            continue
        g = frame[(frame["cell"] == cell) & (np.isclose(frame["forget_bias"], fb) if fb else True)]
        by = g.groupby("length")["success"].agg(["sum", "size"]).reindex(LENGTHS).dropna()
        low, high = wilson_interval(by["sum"].to_numpy(int), by["size"].to_numpy(int))
        color = "C3" if fb == 3.0 else COLORS[cell]
        freq = (by["sum"] / by["size"]).to_numpy()
        same = sum(len(d) == len(freq) and np.allclose(d, freq) for d in drawn)  # hidden under one drawn before
        drawn.append(freq)
        ax_a.plot(by.index, freq, marker="os^"[same % 3], ls=(ls, "--", ":")[min(same, 2)], color=color,
                  label=label + (" (under the line above)" if same else ""))
        ax_a.fill_between(by.index, low, high, color=color, alpha=0.15, lw=0)
    if e4 is None:
        _no_data(ax_a, f"runs v2/e4-keras2, v2/e2-lambda missing:\n{RERUN}")
    _length_axis(ax_a)
    ax_a.set(ylabel="success frequency (val acc ≥ 0.9; Wilson 95% band)", ylim=(-0.04, 1.1))
    ax_a.set_title("(a) the question: success against T\n(one unit, Keras 2, Adam, lr 1e-3)", fontsize=9)
    ax_a.grid(alpha=0.3)
    if ax_a.lines:
        ax_a.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False)

    models = _models(runs, FIT_RUNS)
    below = models[np.isclose(models["lr"], 1e-3) & (models["lambda0"] < ONE)]
    fit = memory_fit(models)
    if len(below):
        bins = _binned(below, "memory", MEMORY_BINS)
        _points(ax_b, bins["x"], bins["k"], bins["n"], color="C4", marker="o", label="models in a bin (Wilson 95%)")
        _below_window(ax_b, below, color="C4", marker="o", mfc="none")
    else:
        _no_data(ax_b, f"explain.csv of v2/e2-lambda, e4-keras2, e4-keras3 missing:\n{RERUN}")
    if fit:
        _draw_fit(ax_b, fit, f"logistic fit ({fit['n']} models; 50% at {fit['x50']:.1f}), 95% band")
    _memory_axis(ax_b)
    ax_b.set_title("(b) λ0 < 1: success against what is left of the first input\n"
                   "(Keras 2 and 3 cells, λ0 set by hand or default; T = 20–200 pooled)", fontsize=9)
    if ax_b.get_legend_handles_labels()[0]:
        ax_b.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False, ncol=2)
    e2x = _read(runs, "e2-lambda")
    if e2x is not None:
        _spread(ax_c, e2x)
    else:
        _no_data(ax_c, "v2/e2-lambda missing")
    plt.setp(ax_c.get_yticklabels(), visible=False)
    fig.suptitle("A one-unit latch under the question's budget: below λ0 = 1 success follows what is left of the "
                 "first input; at λ0 ≥ 1 it depends on the cell", fontsize=11, y=1.03)
    return _save(fig, out / "findings_v3_headline.png")


def _groups(models: pd.DataFrame) -> list:
    """The models by (cell family, run), families in FAMILY's order, runs in SOURCES' order."""
    order = {f: i for i, f in enumerate(FAMILY)}
    groups = list(models.groupby(["family", "run"], sort=False)) if len(models) else []
    return sorted(groups, key=lambda kv: (order.get(kv[0][0], 9), list(SOURCES).index(kv[0][1])))


def _style(fam: str, run: str) -> dict:
    """Colour by cell family, marker by run (filled: E2, open: E4), and the legend's label."""
    label, marker, fill = SOURCES[run]
    color = COLORS.get(fam, "k")
    return {"color": color, "marker": marker, "mfc": color if fill == "full" else "white",
            "label": f"{FAMILY.get(fam, fam)}: {label}"}


def lambda_panels(runs: Path, out: Path) -> Path:
    models = _models(runs)
    fig, axes = plt.subplots(2, len(LENGTHS) // 2, figsize=(11, 8.2), sharey=True)
    axes = axes.ravel()
    groups = _groups(models)
    for ax, length in zip(axes, LENGTHS):
        for i, ((fam, run), g) in enumerate(groups):
            bins = _binned(g[g["length"] == length], "lambda0", LAMBDA_BINS)
            _points(ax, bins["x"] + _dodge(i, len(groups), 0.006), bins["k"], bins["n"], **_style(fam, run))
        star = 10 ** (-4 / length)
        ax.axvline(star, color="k", ls="--", lw=1, label="λ0*(T) = 10^(−4/T), i.e. λ0^T = 10⁻⁴")
        ax.axvline(1, color="0.6", ls=":", lw=1)
        ax.text(star, 1.05, f"{star:.2f}", ha="right", fontsize=7)
        ax.set(xlim=(0.2, 1.6), ylim=(-0.04, 1.1), title=f"T = {length}",
               xlabel="rest-state eigenvalue at initialisation, λ0" if length in LENGTHS[2:] else "")
        ax.set_xticks(np.arange(0.2, 1.61, 0.2))
        ax.grid(alpha=0.3)
        if not groups:
            _no_data(ax, f"explain.csv missing:\n{RERUN}")
    for ax in axes[::2]:
        ax.set_ylabel("success frequency (Wilson 95%)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=8, frameon=False)
    fig.suptitle("Success against λ0, one panel per length: every model of E2 and E4\n(points: bins of λ0 "
                 "holding ≥ 5 models, at the bin's median; bins of different runs are not joined)", fontsize=11)
    fig.tight_layout()
    return _save(fig, out / "findings_v3_lambda.png")


def memory_panels(runs: Path, out: Path) -> Path:
    models = _models(runs)
    fit = memory_fit(models)
    fig, (ax, ax_t) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [1.6, 1]}, sharey=True)
    groups = _groups(models)
    for i, ((fam, run), g) in enumerate(groups):
        style = _style(fam, run)
        below = g[g["lambda0"] < ONE]
        bins = _binned(below, "memory", MEMORY_BINS)
        _points(ax, bins["x"] + _dodge(i, len(groups), 0.12), bins["k"], bins["n"], **style)
        _below_window(ax, below, _dodge(i, len(groups), 0.12), **{**style, "label": None})
        above = g[g["lambda0"] >= ONE].groupby("length")["success"].agg(["sum", "size"])
        above = above[above["size"] >= 5]
        _points(ax_t, above.index * 1.035 ** _dodge(i, len(groups), 1), above["sum"], above["size"],
                **{**style, "label": None})
    _draw_fit(ax, fit, "logistic fit, Keras cells at lr 1e-3, 95% band" if fit else "")
    _memory_axis(ax)
    ax.set_ylabel("success frequency (Wilson 95%)")
    ax.set_title("λ0 < 1: T = 20–200 pooled, bins of log10 λ0^T (≥ 5 models)", fontsize=9)
    _length_axis(ax_t)
    ax_t.set_title("λ0 ≥ 1 (nothing decays): success by T, all such models of a cell and run", fontsize=9)
    ax_t.grid(alpha=0.3)
    if not groups:
        _no_data(ax, f"explain.csv missing:\n{RERUN}")
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=4, fontsize=8, frameon=False)
    fig.suptitle("Success against the first input's share left after T steps at rest (E2 and E4 runs)", fontsize=11)
    fig.tight_layout()
    return _save(fig, out / "findings_v3_memory.png")


def figures(runs: Path, out: Path) -> list[Path]:
    """Draw the three figures into ``out`` from ``runs/v2``; a missing run leaves its panel with a note."""
    out.mkdir(parents=True, exist_ok=True)
    return [headline(runs, out), lambda_panels(runs, out), memory_panels(runs, out)]


def blocks(runs: Path, figures_dir: Path | None) -> dict[str, str]:
    """The block ``v3-figures``: the three figures (drawn into ``figures_dir`` when given) with a caption that
    carries the fitted curve's numbers; a note when the runs are missing."""
    missing = [n for n in FIT_RUNS if not (runs / "v2" / n / "explain.csv").is_file()]
    if len(missing) == len(FIT_RUNS):
        return {"v3-figures": f"*(runs v2/{', v2/'.join(missing)} missing: `{RERUN}`)*\n"}
    if figures_dir is not None:
        figures(runs, figures_dir)
    fit = memory_fit(_models(runs, FIT_RUNS))
    numbers = "No logistic curve: too few models, or no successes or no failures, at λ0 < 1."
    if fit:
        (lo, hi), (s_lo, s_hi) = fit["x50_ci"], fit["slope_ci"]
        numbers = (f"The curve is a logistic fit of success on log10 λ0^T over {FIT_FLOOR:g} ≤ log10 λ0^T < 0 "
                   f"({fit['k']}/{fit['n']} Keras models at λ0 < 1, Adam, lr 1e-3): 50% at log10 λ0^T = "
                   f"{fit['x50']:.1f} [{lo:.1f}, {hi:.1f}], slope {fit['beta'][1]:.2f} [{s_lo:.2f}, {s_hi:.2f}] "
                   "per decade on the logit scale (Wald 95%).")
    lines = ["![headline: success against T; success against log10 λ0^T](../figures/findings_v3_headline.png)", "",
             f"*Figure 1. (a) Success against T (Wilson 95% bands). (b) Success against log10 λ0^T for λ0 < 1, "
             f"T pooled (bins, Wilson 95%; models below {WINDOW:g} pooled at the left), and, right, every E2 "
             f"setting with λ0 ≥ 1 at T = 200. {numbers}*", "",
             "![success against λ0 by T](../figures/findings_v3_lambda.png)", "",
             "*Figure 2. Success against λ0 per length, points only; dashed: λ0\\*(T) = 10^(−4/T), where λ0^T = 10⁻⁴.*",
             "", "![success against log10 λ0^T, and λ0 ≥ 1 by T](../figures/findings_v3_memory.png)", "",
             "*Figure 3. Left: figure 1(b) per cell and framework (the PyTorch models are not in the fit). Right: "
             "the models with λ0 ≥ 1, by T.*"]
    if missing:
        lines += ["", f"*(runs v2/{', v2/'.join(missing)} missing: `{RERUN}`; drawn without them)*"]
    return {"v3-figures": "\n".join(lines) + "\n"}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, help="the folder holding v2/ (runs/)")
    parser.add_argument("figures", type=Path, help="where to draw the figures")
    args = parser.parse_args(argv)
    print("\n".join(map(str, figures(args.runs, args.figures))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
