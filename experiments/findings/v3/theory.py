"""FINDINGS v3, experiment 2 (review §5.2, §5.5; items 3, 4, 7, 8, 19): a theory of the success probability.

    python experiments/findings/v3/make_v3.py runs     # blocks v3-dprime, v3-logistic, v3-window, v3-sigma-n

* ``v3-dprime``: the class separability d′ of a linear one-unit memory h_T = a Σ_t λ^(T-1-t) x_t on the latch task
  (:func:`predicted_dprime`) against the measured ``dprime0`` of every untrained model (``explain --dynamics``),
  per cell family, λ0 bin and length; and the Bayes accuracy Φ(d′/2) of a λ = 1 linear integrator.
* ``v3-logistic``: success ~ logistic(log10 d′0, alignment) per pool of learning rate and optimiser, and
  likelihood-ratio tests of whether the cell family or log T adds anything (the collapse test); the same with
  log10 λ0^T (λ0 < 1). :func:`fitted_curve` gives the fitted curve for a figure.
* ``v3-window``: successes per bin of log10 λ0^T in the informative window −8 … −2 (λ0 < 1), per pool.
* ``v3-sigma-n``: the noise × samples sweep: where P(success) = 0.5 in log10 λ0^T and in log10 d′, against what
  detectability of the remaining signal predicts (d′* ∝ 1/√N, independent of σ).

Nothing is trained here; every number is read from the runs' files. Statistics: theory_fit.py.
"""

from __future__ import annotations

import functools
import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special, stats

from latchjax.core.cells import uses_forget_bias

HERE = Path(__file__).resolve().parent


if str(HERE) not in sys.path:  # this folder's modules import each other by name (it is not a package)
    sys.path.insert(0, str(HERE))


fit = importlib.import_module("theory_fit")
DASH = fit.DASH
uses_forget_bias = functools.cache(uses_forget_bias)
SIGMA = 0.1  # the latch task's noise when a run's config does not say
CLIP = fit.CLIP
FAMILIES = ("srnn", "lstm", "gru")
LAMBDA_EDGES = (0.0, 0.5, 0.7, 0.8, 0.9, 0.97, 1.03, 1.1, 1.25, 1.6, np.inf)
WINDOW = (-8, -2)
V2 = "latchjax sweep --preset findings/v2/{0} --out runs/v2/{0} && latchjax explain runs/v2/{0} --dynamics"
V3 = "latchjax sweep --preset findings/v3/{0} --out runs/v3/{0} && latchjax explain runs/v3/{0} --dynamics"
SIGMA_N = ("latchjax sweep --preset findings/v3/sigma-n --noise {s:g} --samples {n} --out runs/v3/{run} && "
           "latchjax explain runs/v3/{run} --dynamics")
SIGMAS, SAMPLES = (0.03, 0.1, 0.3), (2000, 10000, 50000)
# pool -> (label, runs, fallback runs used only when none of the first exist, rows kept)
POOLS = {
    "keras": ("Keras 2/3, Adam lr 1e-3", ("v2/e2-lambda", "v2/e4-keras2", "v2/e4-keras3", "v2/e3-aligned",
                                          "v2/e3-reversed"), ("v3/dynamics",), lambda f: np.isclose(f["lr"], 1e-3)),
    "torch": ("PyTorch, Adam lr 1e-3", ("v2/e4-torch",), (), lambda f: np.isclose(f["lr"], 1e-3)),
    "adam0.1": ("Keras 3, Adam lr 0.1", ("v2/e5-latch",), ("v3/dynamics",), lambda f: np.isclose(f["lr"], 0.1)),
    "sgd": ("Keras 2, SGD", ("v2/e3-sgd",), (), lambda f: f["optimizer"] == "sgd"),
}
POOL_KEYS = ["flavor", "cell", "length", "lr", "fb_key", "seed", "aligned", "optimizer"]
INIT_KEYS = ["flavor", "cell", "length", "fb_key", "seed", "sigma", "samples"]  # d′0 does not see the head or lr


# ---------------------------------------------------------------- theory
def _log_abs_expm1(u: np.ndarray) -> np.ndarray:
    """log |e^u − 1|, without overflow for large u or cancellation for small |u|."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        pos = u + np.log1p(-np.exp(-np.abs(u)))
        neg = np.log(-np.expm1(np.minimum(u, 0.0)))
    return np.where(u > 0, pos, neg)


def log10_predicted_dprime(lam, T, sigma=SIGMA) -> np.ndarray:
    """log10 of :func:`predicted_dprime`, finite far below float range (−inf only at λ = 0, T > 1)."""
    lam, T, sigma = np.broadcast_arrays(np.abs(np.asarray(lam, np.float64)), np.asarray(T, np.float64),
                                        np.asarray(sigma, np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        a = 2.0 * np.log(lam)  # log λ²; S = Σ_{k<T} λ^(2k) = (e^(Ta) − 1) / (e^a − 1)
        log_s = np.where(np.abs(a) < 1e-12, np.log(T), _log_abs_expm1(T * a) - _log_abs_expm1(a))
        ln = np.log(2.0) + (T - 1.0) * np.log(lam) - np.log(sigma) - 0.5 * log_s
    ln = np.where(T == 1, np.log(2.0 / sigma), ln)
    return ln / np.log(10.0)


def predicted_dprime(lam, T, sigma=SIGMA) -> np.ndarray:
    """d′ of h_T = a Σ_{t<T} λ^(T-1-t) x_t on the latch task (x_0 = ±1 + ε, then x_t = ε, ε ~ N(0, σ²)):
    2 λ^(T−1) / (σ √(Σ_{k<T} λ^(2k))). λ < 1: ≈ 2 λ^(T−1) √(1 − λ²) / σ; λ = 1: 2 / (σ √T); λ > 1:
    ≈ 2 √(λ² − 1) / (σ λ), independent of T. Vectorised; |λ| is used."""
    return 10.0 ** log10_predicted_dprime(lam, T, sigma)


def sampling_floor(n_val) -> np.ndarray:
    """E|d̂′| of a zero signal measured on n_val balanced rows: √(2/π) · √(1/n0 + 1/n1)."""
    return np.sqrt(2.0 / np.pi) * 2.0 / np.sqrt(np.asarray(n_val, np.float64))


def bayes_accuracy(dprime) -> np.ndarray:
    """The best accuracy on two equal-variance Gaussian classes d′ apart: Φ(d′/2)."""
    return stats.norm.cdf(np.asarray(dprime, np.float64) / 2.0)


# ---------------------------------------------------------------- runs
def note(name: str, command: str, what: str = "missing") -> str:
    return f"*(run {name} {what}: `{command}`)*"


def command(name: str) -> str:
    where, run = name.split("/", 1)
    if run.startswith("sigma-n/"):
        s, n = run.split("/noise")[1].split("-n")
        return SIGMA_N.format(s=float(s), n=n, run=run)
    return (V2 if where == "v2" else V3).format(run)


def read_run(runs: Path, name: str) -> pd.DataFrame | None:
    """A run's explain.csv, one row per trained model (a cell without a forget gate is repeated per forget bias
    in the file: its first copy is kept), with the run's σ, samples, optimiser and the derived columns."""
    path = runs / name / "explain.csv"
    if not path.is_file():
        return None
    frame = pd.read_csv(path)
    config = runs / name / "config.json"
    cfg = json.loads(config.read_text()) if config.is_file() else {}
    frame["success"] = frame["success"].astype(str).isin(["True", "true", "1", "1.0"]).astype(int)
    gated = frame["cell"].map(uses_forget_bias).astype(bool)
    frame = pd.concat([frame[gated], frame[~gated].drop_duplicates(["cell", "length", "lr", "seed"])])
    frame["fb_key"] = np.where(frame["cell"].map(uses_forget_bias).astype(bool), frame["forget_bias"], np.nan)
    frame["family"] = [c.split(":")[0] if c.split(":")[0] in FAMILIES else "other" for c in frame["cell"]]
    frame["aligned"] = (frame["proto_acc0"] > 0.5).astype(int)
    frame["sigma"] = float(cfg.get("noise", cfg.get("task_kwargs", {}).get("noise", SIGMA)) or SIGMA)
    frame["samples"] = int(cfg.get("samples", 10000))
    frame["n_val"] = int(round(frame["samples"].iloc[0] * float(cfg.get("val_fraction", 0.2)))) if len(frame) else 0
    frame["optimizer"] = str(cfg.get("optimizer", "flavor"))
    frame["run"] = name
    if "dprime0" not in frame:
        frame["dprime0"] = np.nan
    with np.errstate(divide="ignore"):
        frame["lt"] = frame["length"] * np.log10(frame["lambda0"].astype(float))
        frame["ld"] = np.log10(frame["dprime0"].astype(float))
    frame["lp"] = log10_predicted_dprime(frame["lambda0"], frame["length"], frame["sigma"])
    return frame.reset_index(drop=True)


def pools(runs: Path) -> tuple[dict[str, tuple[str, pd.DataFrame]], list[str]]:
    """``{pool: (label, models)}`` (SGD split per learning rate: ``sgd-0.01`` ...) and the notes of missing runs.
    Models that two runs share (the same seed, cell, head orientation, lr) are counted once."""
    out, notes = {}, []
    for key, (label, names, fallback, keep) in POOLS.items():
        frames = {n: read_run(runs, n) for n in names}
        notes += [note(n, command(n)) for n, f in frames.items() if f is None]
        if all(f is None for f in frames.values()) and fallback:
            frames = {n: read_run(runs, n) for n in fallback}
            if any(f is not None for f in frames.values()):
                notes.append(f"*(pool {label}: read from {', '.join(n for n, f in frames.items() if f is not None)}"
                             " until its runs exist)*")
        found = [f[keep(f)] for f in frames.values() if f is not None]
        if not found:
            continue
        frame = pd.concat(found).drop_duplicates(POOL_KEYS).reset_index(drop=True)
        if len(frame) == 0:
            continue
        if key == "sgd":
            for lr, part in frame.groupby("lr"):
                out[f"sgd-{lr:g}"] = (f"{label} lr {lr:g}", part.reset_index(drop=True))
        else:
            out[key] = (label, frame)
    return out, notes


def no_dprime(frame: pd.DataFrame) -> list[str]:
    return [note(n, f"latchjax explain runs/{n} --dynamics", "has no d′0 yet")
            for n, g in frame.groupby("run") if g["dprime0"].isna().all()]


# ---------------------------------------------------------------- v3-dprime
def lambda_bin(lam: pd.Series) -> pd.Series:
    labels = [f"{a:g}–{b:g}" if np.isfinite(b) else f"≥ {a:g}" for a, b in zip(LAMBDA_EDGES[:-1], LAMBDA_EDGES[1:])]
    return pd.cut(lam, LAMBDA_EDGES, right=False, labels=labels)


def dprime_block(runs: Path) -> str:
    names = [*dict.fromkeys(n for _, ns, fb, _ in POOLS.values() for n in (*ns, *fb))]
    names += [f"v3/{p.relative_to(runs / 'v3')}" for p in sorted((runs / "v3" / "sigma-n").glob("noise*-n*"))]
    frames = [f for f in (read_run(runs, n) for n in names) if f is not None]
    lines, table = [], pd.DataFrame()
    if frames:
        table = pd.concat(frames)
        lines += no_dprime(table)
        table = table[table["dprime0"].notna()].drop_duplicates(INIT_KEYS)
    if len(table) == 0:
        return (" ".join(lines) or note("v2/e4-keras2", command("v2/e4-keras2"))) + "\n"
    table = table.assign(bin=lambda_bin(table["lambda0"]), floor=sampling_floor(table["n_val"]))
    out = ["| cell family | σ | λ0 bin | T | models | median λ0 | median d′0 measured | median d′ predicted | "
           "measured / predicted | zero-signal floor |", "|---|---|---|---|---|---|---|---|---|---|"]
    table["family"] = pd.Categorical(table["family"], [*FAMILIES, "other"])
    for (fam, sigma, b, T), g in table.groupby(["family", "sigma", "bin", "length"], observed=True):
        measured, lp = g["dprime0"].median(), g["lp"].median()
        ratio = np.log10(measured) - lp if measured > 0 else np.nan
        out.append(f"| {fam} | {sigma:g} | {b} | {T} | {len(g)} | {g['lambda0'].median():.3f} | {fit.fmt_g(measured)} | "
                   f"{fit.fmt_g(10.0 ** lp) if not lp <= -300 else f'1e{lp:.0f}'} | "
                   f"{fit.fmt_g(10.0 ** ratio) if not abs(ratio) >= 300 else f'1e{ratio:.0f}'} | {fit.fmt_g(g['floor'].median())} |")
    lines.append("\n".join(out))
    sig = (0.1, 0.03, 0.3)
    bayes = ["| T | " + " | ".join(f"Φ(1/(σ√T)), σ = {s:g}" for s in sig) + " |", "|---|" + "---|" * len(sig)]
    for T in (20, 50, 100, 200):
        bayes.append(f"| {T} | " + " | ".join(f"{float(bayes_accuracy(predicted_dprime(1.0, T, s))):.2f}" for s in sig)
                     + " |")
    z = stats.norm.ppf(0.9)
    bayes.append("| largest T with accuracy ≥ 0.9 | " + " | ".join(f"{int(1 / (s * z) ** 2)}" for s in sig) + " |")
    lines.append("\n".join(bayes))
    return "\n\n".join(lines) + "\n"


# ---------------------------------------------------------------- v3-logistic
def logistic_block(runs: Path) -> str:
    found, notes = pools(runs)
    if not found:
        return " ".join(notes) + "\n"
    for _, frame in found.values():
        notes += no_dprime(frame)
    out = ["| pool | x | models | successes | clipped at 1e-10 | slope on x [SE] | aligned [SE] | x at P = 0.5, "
           "aligned [95%] | x at P = 0.5, reversed [95%] | + cell family: χ² (df), p | + log10 T | + both |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for kind in fit.PREDICTORS:
        out += [fit.logistic_row(label, frame, kind) for label, frame in found.values()]
    head = " ".join(dict.fromkeys(notes))
    return (head + "\n\n" if head else "") + "\n".join(out) + "\n"


def fitted_curve(pool_name: str, runs: Path, kind: str = "dprime", aligned: bool | None = None,
                 points: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """The M0 fit of ``pool_name`` (a key of :func:`pools`: ``keras``, ``torch``, ``adam0.1``, ``sgd-0.1`` ...)
    on ``kind`` (``dprime``: x = log10 d′0; ``lambda``: log10 λ0^T): (x grid over the data's range, P(success)).
    ``aligned`` None averages the aligned and reversed curves in the pool's proportion."""
    label, frame = pools(runs)[0][pool_name]
    frame, x, _ = fit.predictor(frame, kind)
    X, names = fit.design(frame, x)
    m0 = fit.logistic(X, frame["success"].to_numpy(float), names)
    grid = np.linspace(x.min(), x.max(), points)
    share = frame["aligned"].mean() if aligned is None else float(aligned)
    b = dict(zip(m0.names, m0.coef))
    curve = [special.expit(b["const"] + b["x"] * grid + b.get("aligned", 0.0) * a) for a in (1.0, 0.0)]
    return grid, share * curve[0] + (1.0 - share) * curve[1]


def pool_threshold(pool_name: str, runs: Path, kind: str = "lambda", aligned: bool = True) -> tuple[float, float, float]:
    """x where the M0 fit of ``pool_name`` gives P(success) = 0.5 for an aligned (or reversed) start, with its 95%
    delta-method interval: (x*, low, high), NaNs where the fit is impossible. For ``kind="lambda"`` the predicted
    threshold curve on a λ0 axis is λ0*(T) = 10^(x*/T)."""
    frame, x, _ = fit.predictor(pools(runs)[0][pool_name][1], kind)
    X, names = fit.design(frame, x)
    y = frame["success"].to_numpy(float)
    if min(y.sum(), len(y) - y.sum()) < fit.MIN_EACH:
        return (float("nan"),) * 3
    m0 = fit.logistic(X, y, names)
    if m0.separated:
        return (float("nan"),) * 3
    t, se = fit.crossing(m0, "x", {"const": 1.0, "aligned": float(aligned)})
    return t, t - fit.Z95 * se, t + fit.Z95 * se


# ---------------------------------------------------------------- v3-window
def window_bins(lt: pd.Series) -> pd.Series:
    lo, hi = WINDOW
    edges = [-np.inf, *range(lo, hi + 1), np.inf]
    labels = [f"< {lo}", *(f"[{a}, {a + 1})" for a in range(lo, hi)), f"≥ {hi}"]
    return pd.cut(lt, edges, right=False, labels=labels)


def window_block(runs: Path) -> str:
    found, notes = pools(runs)
    head = " ".join(dict.fromkeys(notes))
    if not found:
        return head + "\n"
    cols = {}
    for label, frame in found.values():
        frame = frame[(frame["lambda0"] > 0) & (frame["lambda0"] < 1)]
        cols[label] = frame.assign(bin=window_bins(frame["lt"]))
    labels = window_bins(pd.Series([], dtype=float)).cat.categories
    out = ["| log10 λ0^T (λ0 < 1) | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for b in labels:
        cells = [fit.frac(int(g.loc[g["bin"] == b, "success"].sum()), int((g["bin"] == b).sum())) for g in cols.values()]
        out.append(f"| {b} | " + " | ".join(cells) + " |")
    inside = [g[(g["lt"] >= WINDOW[0]) & (g["lt"] < WINDOW[1])] for g in cols.values()]
    out.append(f"| window {WINDOW[0]} … {WINDOW[1]}, all | " + " | ".join(
        fit.frac(int(g["success"].sum()), len(g)) for g in inside) + " |")
    return (head + "\n\n" if head else "") + "\n".join(out) + "\n"


# ---------------------------------------------------------------- v3-sigma-n
def sigma_n_runs(runs: Path) -> tuple[dict[tuple[float, int], pd.DataFrame], list[str]]:
    """``{(σ, N): models}`` of every run under runs/v3/sigma-n, and the notes of the grid's missing runs."""
    found = {}
    for path in sorted((runs / "v3" / "sigma-n").glob("noise*-n*")):
        frame = read_run(runs, f"v3/sigma-n/{path.name}")
        if frame is not None and len(frame):
            found[(float(frame["sigma"].iloc[0]), int(frame["samples"].iloc[0]))] = frame
    notes = [note(f"v3/sigma-n/noise{s:g}-n{n}", command(f"v3/sigma-n/noise{s:g}-n{n}"))
             for s in SIGMAS for n in SAMPLES if (s, n) not in found]
    return found, notes


def _interval(t: float, se: float, why: str) -> str:
    if why or not np.isfinite(se):
        return DASH + (f" ({why})" if why else "")
    return f"{t:.2f} [{t - fit.Z95 * se:.2f}, {t + fit.Z95 * se:.2f}]"


def sigma_n_block(runs: Path) -> str:
    found, notes = sigma_n_runs(runs)
    if not found:
        return " ".join(notes) + "\n"
    for frame in found.values():
        notes += no_dprime(frame)
    kinds = {"lt": "log10 λ0^T", "ld": "log10 d′0 measured", "lp": "log10 d′ theory"}
    rows = []
    for (sigma, n), frame in sorted(found.items()):
        y = frame["success"].to_numpy(float)
        row = {"σ": sigma, "N": n, "models": len(frame), "k": int(y.sum())}
        for col in kinds:
            ok = frame[col].notna().to_numpy()
            row[col] = fit.single_threshold(np.maximum(frame[col].to_numpy(float)[ok], CLIP), y[ok])
        rows.append(row)
    anchor = next((r for r in rows if np.isclose(r["σ"], 0.1) and r["N"] == 10000), None)
    out = ["| σ | N | successes | " + " | ".join(f"{v} at P = 0.5 [95%]" for v in kinds.values())
           + " | detectability predicts: log10 λ0^T* | log10 d′* |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        pred = [DASH, DASH]
        if anchor is not None:
            shift = -0.5 * np.log10(r["N"] / anchor["N"])
            pred = [f"{anchor[c][0] + shift + (np.log10(r['σ'] / anchor['σ']) if c == 'lt' else 0):.2f}"
                    if not anchor[c][2] else DASH for c in ("lt", "lp")]
        out.append(f"| {r['σ']:g} | {r['N']} | {fit.frac(r['k'], r['models'])} | "
                   + " | ".join(_interval(*r[c]) for c in kinds) + " | " + " | ".join(pred) + " |")
    slopes = ["| slope | " + " | ".join(kinds.values()) + " | detectability predicts |", "|---|---|---|---|---|"]
    for by, over, name, predicts in (("σ", "N", "on log10 N, σ = {:g}", "−0.5 (all)"),
                                     ("N", "σ", "on log10 σ, N = {}", "+1 (λ0^T), 0 (d′)")):
        for value in sorted({r[by] for r in rows}):
            part = [r for r in rows if r[by] == value]
            cells = []
            for c in kinds:
                b, se = fit.wls_slope([np.log10(r[over]) for r in part], [r[c][0] for r in part],
                                      [r[c][1] for r in part])
                cells.append(f"{b:+.2f} [{se:.2f}]" if np.isfinite(b) else DASH)
            slopes.append(f"| {name.format(value)} | " + " | ".join(cells) + f" | {predicts} |")
    text = ("\n".join(out) + "\n\nSlopes of the thresholds (weighted least squares, [SE]); the anchor of the "
            "predictions is σ = 0.1, N = 10000. N also sets the number of updates (a fixed number of epochs), and the "
            "measured d′0 cannot fall below its zero-signal floor of about 1.6/√(0.2 N).\n\n" + "\n".join(slopes))
    head = " ".join(dict.fromkeys(notes))
    return (head + "\n\n" if head else "") + text + "\n"


def blocks(runs: Path, figures: Path | None = None) -> dict[str, str]:
    """Marker name -> markdown block (see the module's docstring); ``figures`` is not used."""
    runs = Path(runs)
    return {"v3-dprime": dprime_block(runs), "v3-logistic": logistic_block(runs), "v3-window": window_block(runs),
            "v3-sigma-n": sigma_n_block(runs)}


if __name__ == "__main__":
    for key, block in blocks(Path(sys.argv[1] if len(sys.argv) > 1 else "runs")).items():
        print(f"<!-- {key} -->\n{block}")
