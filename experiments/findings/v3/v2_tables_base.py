"""Shared reading, formatting and statistics of FINDINGS v3's re-made v2 tables (:mod:`v2_tables`,
:mod:`v2_tables_paired`): a run's models as a frame, success counts with Wilson intervals, paired tables with
McNemar's exact test, Newcombe's interval and Holm's correction, AUCs with exact rank-sum p-values, and a small
logistic fit with likelihood-ratio tests. Nothing is trained here.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special, stats

from latchjax.core.cells import uses_forget_bias
from latchjax.core.stats import holm, paired_comparison, wilson_interval

DASH = "—"
MIN_AUC = 10  # an AUC needs at least this many successes and as many failures
FLAVORS = ("keras2", "keras3", "torch")
CELLS = ("srnn", "lstm", "gru")

_has_forget_bias = functools.cache(uses_forget_bias)

# the commands that make a run, for the note a block gives while the run is missing
_V3_SWEEPS = {
    "heads-d1": "--preset findings/v3/heads-reversed",
    "heads-d1-x2": "--preset findings/v3/heads-reversed --head-lr-scale 2",
    "heads-d2-half": "--preset findings/v3/heads-reversed --head softmax --head-lr-scale 0.5",
    "janet-chrono": "--preset findings/v3/janet-chrono",
}


def command(name: str) -> str:
    """The command that makes ``runs/<name>`` (``name`` like ``v2/e2-lambda``)."""
    version, _, run = name.partition("/")
    if name == "v2/dataset-variance":
        return "python experiments/findings/v2/dataset_variance.py runs/v2/dataset-variance"
    if run.startswith("e6/") or run == "e6":
        return "bash experiments/findings/v2/e6_update_bit_relay.sh runs/v2/e6"
    if version == "v2" and run.endswith("-perseed"):
        preset = run.removesuffix("-perseed")
        return (f"latchjax sweep --preset findings/v2/{preset} --data per-seed --out runs/{name} && "
                f"latchjax explain runs/{name}")
    if version == "v2":
        return f"latchjax sweep --preset findings/v2/{run} --out runs/{name} && latchjax explain runs/{name}"
    if run in _V3_SWEEPS:
        return f"latchjax sweep {_V3_SWEEPS[run]} --out runs/{name} && latchjax explain runs/{name}"
    return "bash experiments/findings/v3/run_v3.sh runs/v3 runs/v2"


def missing(name: str) -> str:
    return f"*(run runs/{name} missing: `{command(name)}`)*"


def load(runs: Path, name: str, explain: bool = False) -> pd.DataFrame | None:
    """The models of ``runs/<name>``, one row each: its explain.csv (initial features) or, without one and unless
    ``explain`` is required, its results.csv; None while neither exists. A cell without a forget gate is written
    once per forget bias of the run (the same model): only its first copy is kept. ``success`` is boolean."""
    run = Path(runs) / name
    path = run / "explain.csv"
    if not path.is_file():
        if explain or not (run / "results.csv").is_file():
            return None
        path = run / "results.csv"
    frame = pd.read_csv(path)
    frame["success"] = frame["success"].astype(str).str.lower().isin(("1", "1.0", "true"))
    for key in ("length", "seed"):
        frame[key] = frame[key].astype(int)
    frame["has_fb"] = frame["cell"].map(_has_forget_bias).astype(bool)
    frame["_fb"] = frame["forget_bias"].where(frame["has_fb"])
    frame = frame.drop_duplicates(["cell", "length", "lr", "seed", "_fb"]).drop(columns="_fb")
    return frame.reset_index(drop=True)


def pick(frame: pd.DataFrame, **where) -> pd.DataFrame:
    keep = np.ones(len(frame), bool)
    for key, value in where.items():
        column = frame[key].to_numpy()
        keep &= np.isclose(column.astype(float), value) if isinstance(value, float) else column == value
    return frame[keep]


def by_seed(frame: pd.DataFrame, **where) -> pd.Series:
    """Success per seed (index: seed) of the models matching ``where`` (one setting)."""
    rows = pick(frame, **where)
    return rows.set_index("seed")["success"].sort_index()


def fmt_p(p: float) -> str:
    """p-values as the findings write them: 2e-13, 0.004, 0.31, 1."""
    if p is None or not np.isfinite(p):
        return DASH
    if p >= 0.995:
        return "1"
    if p >= 0.01:
        return f"{p:.2f}"
    if p >= 0.00095:  # rounds to 0.001, not 1e-3
        return f"{p:.1g}"
    if p == 0:
        return "<1e-300"
    mantissa, exponent = f"{p:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def frac(k: int, n: int) -> str:
    """k/n [Wilson 95%], or a dash for no models."""
    if n == 0:
        return DASH
    low, high = wilson_interval(np.asarray(k), np.asarray(n))
    return f"{k}/{n} [{float(low):.2f}, {float(high):.2f}]"


def count(ok: pd.Series | np.ndarray, wilson: bool = True) -> str:
    ok = np.asarray(ok, bool)
    if not wilson:
        return f"{int(ok.sum())}/{ok.size}" if ok.size else DASH
    return frac(int(ok.sum()), ok.size)


def lengths_of(frame: pd.DataFrame) -> list[int]:
    return sorted(int(t) for t in frame["length"].unique())


def setting_label(cell: str, forget_bias: float, has_fb: bool) -> str:
    return f"{cell} b_f={forget_bias:g}" if has_fb else cell


# ---- paired tables -------------------------------------------------------------------------------------------

PAIRED_HEAD = ["| comparison | A | B | A only / B only | A − B [Newcombe 95%] | McNemar p | Holm p |",
               "|---|---|---|---|---|---|---|"]


def paired(a: pd.Series, b: pd.Series) -> dict:
    """:func:`paired_comparison` of two per-seed success series over the seeds both have."""
    both = pd.concat({"a": a, "b": b}, axis=1, join="inner")
    return paired_comparison(both["a"].to_numpy(bool), both["b"].to_numpy(bool))


def paired_rows(tests: list[tuple[str, pd.Series | None, pd.Series | None]], family: str = "this table") -> list[str]:
    """A paired table: one row per (label, A, B) with McNemar's exact p and Holm's p over the table's tests. A
    test whose B is a string instead of a series is a row of that note (no test, not counted in Holm)."""
    results = [paired(a, b) if isinstance(b, pd.Series) else None for _, a, b in tests]
    raw = np.array([r["p_mcnemar"] if r else np.nan for r in results])
    adjusted = holm(raw)
    lines = list(PAIRED_HEAD)
    for (label, _, b), r, p_holm in zip(tests, results, adjusted):
        if r is None:
            lines.append(f"| {label} | {b} |  |  |  |  |  |")
            continue
        n = r["n"]
        lines.append(f"| {label} | {r['successes_a']}/{n} | {r['successes_b']}/{n} | {r['a_only']} / {r['b_only']} | "
                     f"{r['diff']:+.2f} [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}] | {fmt_p(r['p_mcnemar'])} | "
                     f"{fmt_p(p_holm)} |")
    m = int(np.isfinite(raw).sum())
    lines.append(f"\nHolm over the {m} McNemar tests of {family}.")
    return lines


# ---- AUC with exact rank-sum p ----------------------------------------------------------------------------------

def auc_p(positive: np.ndarray, negative: np.ndarray) -> tuple[float, float, str]:
    """(AUC, p, note) of a feature for success: AUC = U / (n1 n0) (ties count 1/2) with the two-sided exact
    Mann–Whitney p when the values have no ties; for a two-valued feature the exact conditional test of the rank
    sum is Fisher's on the 2x2 table; otherwise the normal approximation with the tie correction (note "≈")."""
    x, y = np.asarray(positive, float), np.asarray(negative, float)
    values = np.unique(np.concatenate([x, y]))
    if len(values) == 1:
        return 0.5, 1.0, "constant"
    u = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic").statistic
    auc = float(u) / (len(x) * len(y))
    if len(values) == 2:
        high = values[1]
        table = [[int((x == high).sum()), int((x != high).sum())], [int((y == high).sum()), int((y != high).sum())]]
        return auc, float(stats.fisher_exact(table).pvalue), "Fisher"
    if len(values) == len(x) + len(y):
        return auc, float(stats.mannwhitneyu(x, y, alternative="two-sided", method="exact").pvalue), ""
    return auc, float(stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic").pvalue), "≈"


def auc_cell(values: pd.Series, success: pd.Series) -> str:
    """"0.91 (p = 2e-9)", or a dash below :data:`MIN_AUC` successes or failures (with their counts)."""
    ok = success.to_numpy(bool)
    x = values.to_numpy(float)
    good = np.isfinite(x)
    k, f = int((ok & good).sum()), int((~ok & good).sum())
    if k < MIN_AUC or f < MIN_AUC:
        return DASH
    auc, p, note = auc_p(x[ok & good], x[~ok & good])
    if note == "constant":
        return "0.50 (constant)"
    return f"{auc:.2f} (p {'≈' if note == '≈' else '='} {fmt_p(p)})"


# ---- logistic regression by IRLS --------------------------------------------------------------------------------

def _logit_fit(x: np.ndarray, y: np.ndarray, iterations: int = 200) -> dict:
    """Maximum-likelihood logistic regression of 0/1 ``y`` on the columns of ``x`` (an intercept is added) by
    iteratively reweighted least squares with step halving. Returns coef (intercept first), deviance and
    ``separated`` (complete or quasi-complete separation: some coefficients run off to infinity; the deviance still
    converges to its infimum, so likelihood-ratio tests stay meaningful)."""
    x = np.column_stack([np.ones(len(y)), np.asarray(x, float).reshape(len(y), -1)])
    y = np.asarray(y, float)

    def deviance(beta):
        eta = x @ beta
        return float(2 * np.sum(np.logaddexp(0, eta) - y * eta))

    beta = np.zeros(x.shape[1])
    dev = deviance(beta)
    for _ in range(iterations):
        p = special.expit(x @ beta)
        w = np.maximum(p * (1 - p), 1e-12)
        step = np.linalg.lstsq(x.T @ (w[:, None] * x), x.T @ (y - p), rcond=None)[0]
        scale = 1.0
        while scale > 1e-6 and deviance(beta + scale * step) > dev + 1e-12:
            scale /= 2
        beta = beta + scale * step
        new = deviance(beta)
        done = abs(dev - new) < 1e-10 * (1 + abs(new))
        dev = new
        if done:
            break
    eta = x @ beta
    # (quasi-)complete separation: the fitted direction splits successes from failures (ties allowed), so the
    # likelihood has no maximum and the coefficients along it only stop growing with the iterations
    separated = bool(y.min() < y.max() and eta[y == 1].min() >= eta[y == 0].max() - 1e-9 * (1 + np.abs(eta).max()))
    return {"coef": beta, "deviance": dev, "separated": separated}


def logit_terms(columns: dict[str, np.ndarray], y: np.ndarray) -> dict[str, tuple[float, float, bool]]:
    """For each column of ``success ~ all columns``: (coefficient, likelihood-ratio p for dropping it, separated)."""
    names = list(columns)
    full = _logit_fit(np.column_stack([columns[n] for n in names]), y)
    out = {}
    for i, name in enumerate(names):
        rest = [columns[n] for n in names if n != name]
        reduced = _logit_fit(np.column_stack(rest) if rest else np.zeros((len(y), 0)), y)
        stat = max(reduced["deviance"] - full["deviance"], 0.0)
        out[name] = (float(full["coef"][i + 1]), float(stats.chi2.sf(stat, 1)), full["separated"])
    return out


def cochran_q(x: np.ndarray) -> tuple[float, float]:
    """Cochran's Q for a (seeds, settings) 0/1 table (related samples): Q ~ chi^2(k - 1) when the settings do not
    differ. Returns (Q, p); seeds that succeed or fail everywhere carry no information."""
    x = np.asarray(x, float)
    k = x.shape[1]
    col, row, total = x.sum(0), x.sum(1), x.sum()
    denom = k * total - np.sum(row**2)
    if denom == 0:
        return 0.0, 1.0
    q = (k - 1) * (k * np.sum(col**2) - total**2) / denom
    return float(q), float(stats.chi2.sf(q, k - 1))


# ---- compute -----------------------------------------------------------------------------------------------------

def _models(run: Path) -> int | str:
    try:
        from latchjax.rundir.upgrade import upgrade_config
        from latchjax.sweep.settings import from_settings

        cfg = from_settings(upgrade_config(json.loads((run / "config.json").read_text())))
        per_cell = [len(cfg.forget_biases) if _has_forget_bias(c) else 1 for c in cfg.cells]
        return sum(per_cell) * len(cfg.lengths) * len(cfg.lrs) * cfg.seeds
    except Exception:  # an older or damaged config: count the trained rows instead
        frame = load(run.parent, run.name)
        return len(frame) if frame is not None else DASH


def compute(runs: Path) -> str:
    metas = sorted(p for version in ("v2", "v3") for p in (runs / version).rglob("meta.json"))
    if not metas:
        return missing("v2/e2-lambda") + "\n"
    lines = ["| run | models | compile s | training s | wall s |", "|---|---|---|---|---|"]
    total = [0, 0.0, 0.0, 0.0]
    for path in metas:
        meta = json.loads(path.read_text())
        timing = meta.get("timing", {}).values()
        compile_s = float(meta.get("compile_s", sum(t.get("compile_s", 0) for t in timing)))
        run_s = float(meta.get("run_s", sum(t.get("run_s", 0) for t in timing)))
        try:
            wall = (datetime.fromisoformat(meta["end"]) - datetime.fromisoformat(meta["start"])).total_seconds()
        except (KeyError, TypeError, ValueError):
            wall = np.nan
        models = _models(path.parent)
        total = [total[0] + (models if isinstance(models, int) else 0), total[1] + compile_s, total[2] + run_s,
                 total[3] + (wall if np.isfinite(wall) else 0)]
        lines.append(f"| `{path.parent.relative_to(runs)}` | {models} | {compile_s:.0f} | {run_s:.0f} | "
                     f"{f'{wall:.0f}' if np.isfinite(wall) else DASH} |")
    lines.append(f"| total | {total[0]} | {total[1]:.0f} | {total[2]:.0f} | {total[3]:.0f} |")
    return "\n".join(["From each run's meta.json (runs that shared the CPU with other work are upper bounds; "
                      "`latchjax explain` not included).", "", *lines]) + "\n"
