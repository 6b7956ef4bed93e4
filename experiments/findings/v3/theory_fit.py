"""Statistics of experiments/findings/v3/theory.py: logistic regression by Newton-Raphson (iteratively reweighted
least squares) with step-halving and an exact separation check, likelihood-ratio tests between nested fits, the
predictor's value where P(success) = 0.5 with its delta-method interval, and the findings' number formats.

Separation (some combination of the predictors splits successes from failures, so the maximum-likelihood
coefficients do not exist and diverge) is found by the linear programme of Konis (2007): the data are (quasi-)
separated iff some b != 0 has (2y - 1) x·b >= 0 for every row; the programme maximises the sum of those margins
with |b_j| <= 1 and finds such a b if there is one. A separated fit keeps its last iterate: its log-likelihood is
(close to) the supremum, its coefficients and standard errors mean nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats
from v2_tables_base import DASH, fmt_p, frac  # noqa: F401 (frac: theory.py's); the findings' formats, one copy

CLIP = -10.0  # predictors (log10 d′0, log10 λ0^T) are clipped here: below it float32 holds no signal anyway
MIN_EACH = 5  # a fit needs this many successes and this many failures
PREDICTORS = {"dprime": "log10 d′0 measured", "theory": "log10 d′ theory (λ0, T, σ)", "lambda": "log10 λ0^T (λ0 < 1)"}
Z95 = float(stats.norm.ppf(0.975))


@dataclass
class Fit:
    """One logistic fit. ``separated`` names the columns along which the data are separated (empty: none)."""

    names: list[str]
    coef: np.ndarray
    cov: np.ndarray
    loglik: float
    n: int
    successes: int
    rank: int
    converged: bool
    iterations: int
    separated: list[str] = field(default_factory=list)

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.maximum(np.diag(self.cov), 0.0))

    def __getitem__(self, name: str) -> tuple[float, float]:
        """(coefficient, standard error) of the column ``name``."""
        i = self.names.index(name)
        return float(self.coef[i]), float(self.se[i])


def loglik(X: np.ndarray, y: np.ndarray, beta: np.ndarray) -> float:
    eta = X @ beta
    return float(np.sum(y * eta - np.logaddexp(0.0, eta)))


def separation(X: np.ndarray, y: np.ndarray, tol: float = 1e-7) -> np.ndarray | None:
    """A direction b (|b_j| <= 1) with (2y - 1) X b >= 0 everywhere and > 0 somewhere, or None: the data are not
    separated and the maximum-likelihood estimate exists (X of full column rank)."""
    signed = X * (2.0 * y - 1.0)[:, None]
    scale = np.maximum(np.abs(X).max(axis=0), 1e-300)  # columns to a common scale, so the bound |b| <= 1 is fair
    signed = signed / scale
    res = optimize.linprog(-signed.sum(axis=0), A_ub=-signed, b_ub=np.zeros(len(y)),
                           bounds=[(-1.0, 1.0)] * X.shape[1], method="highs")
    if res.status != 0 or -res.fun <= tol * len(y):
        return None
    return res.x / scale


def logistic(X, y, names: list[str] | None = None, max_iter: int = 100, tol: float = 1e-10) -> Fit:
    """Maximum-likelihood logistic regression of ``y`` (0/1) on the columns of ``X`` (give the intercept as a
    column of ones) by Newton steps, each halved until the log-likelihood does not fall."""
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
    n, p = X.shape
    names = list(names) if names is not None else [f"x{j}" for j in range(p)]
    beta, ll = np.zeros(p), loglik(X, y, np.zeros(p))
    converged, it = False, 0
    while it < max_iter:
        it += 1
        mu = special.expit(X @ beta)
        hess = (X * (mu * (1.0 - mu))[:, None]).T @ X
        step = np.linalg.lstsq(hess, X.T @ (y - mu), rcond=None)[0]
        t = 1.0
        while True:
            new_ll = loglik(X, y, beta + t * step)
            if new_ll >= ll - 1e-12 * abs(ll) or t < 1e-10:
                break
            t /= 2.0
        beta, change, ll = beta + t * step, new_ll - ll, new_ll
        if abs(change) <= tol * (1.0 + abs(ll)) and np.max(np.abs(t * step)) <= 1e-7 * (1.0 + np.max(np.abs(beta))):
            converged = True
            break
    mu = special.expit(X @ beta)
    cov = np.linalg.pinv((X * (mu * (1.0 - mu))[:, None]).T @ X)
    direction = separation(X, y) if 0 < y.sum() < n else np.ones(p)
    separated = [] if direction is None else [
        names[j] for j in np.flatnonzero(np.abs(direction) > 1e-6 * np.abs(direction).max())]
    return Fit(names, beta, cov, ll, n, int(y.sum()), int(np.linalg.matrix_rank(X)), converged, it, separated)


def lr_test(full: Fit, reduced: Fit) -> dict:
    """Likelihood-ratio test of ``reduced`` (nested) against ``full``: chi2, df (difference of ranks), p, and
    whether either fit is separated (then chi2 rests on the likelihood's supremum)."""
    df = full.rank - reduced.rank
    chi2 = max(0.0, 2.0 * (full.loglik - reduced.loglik))
    p = float(stats.chi2.sf(chi2, df)) if df > 0 else float("nan")
    return {"chi2": chi2, "df": df, "p": p, "separated": bool(full.separated or reduced.separated)}


def crossing(fit: Fit, variable: str, fixed: dict[str, float]) -> tuple[float, float]:
    """The value of ``variable`` where the linear predictor is 0 (P = 0.5), the other columns at ``fixed`` (absent
    ones at 0), and its delta-method standard error."""
    s = fit.names.index(variable)
    a = np.array([0.0 if name == variable else float(fixed.get(name, 0.0)) for name in fit.names])
    b = fit.coef
    num = float(a @ b)
    x = -num / b[s]
    grad = -a / b[s]
    grad[s] = num / b[s] ** 2
    return x, float(np.sqrt(max(grad @ fit.cov @ grad, 0.0)))


def fmt_g(x: float, digits: int = 2) -> str:
    """A number of any size in ``digits`` significant figures (1.2e-07, 0.034, 5.6, 3.1e+05)."""
    if x is None or not np.isfinite(x):
        return DASH
    return f"{x:.{digits}g}" if 1e-3 <= abs(x) < 1e5 or x == 0 else f"{x:.{digits - 1}e}"


def wls_slope(x, y, se) -> tuple[float, float]:
    """Slope of y on x by weighted least squares (weights 1/se²) and its standard error; NaNs with fewer than two
    points."""
    x, y, se = (np.asarray(v, np.float64) for v in (x, y, se))
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(se) & (se > 0)
    if ok.sum() < 2 or np.ptp(x[ok]) == 0:
        return float("nan"), float("nan")
    w = 1.0 / se[ok] ** 2
    X = np.column_stack([np.ones(ok.sum()), x[ok]])
    cov = np.linalg.inv((X * w[:, None]).T @ X)
    beta = cov @ (X * w[:, None]).T @ y[ok]
    return float(beta[1]), float(np.sqrt(cov[1, 1]))


# ---------------------------------------------------------------- the fits of the findings' tables
def design(frame: pd.DataFrame, x: np.ndarray, cell: bool = False, log_t: bool = False):
    cols, names = [np.ones(len(frame)), x], ["const", "x"]
    if frame["aligned"].nunique() > 1:  # a pool of one orientation has no alignment term
        cols.append(frame["aligned"].to_numpy(float))
        names.append("aligned")
    if cell:
        counts = frame["family"].value_counts()
        for fam in counts.index[1:]:  # the commonest family is the reference
            cols.append((frame["family"] == fam).to_numpy(float))
            names.append(f"cell={fam}")
    if log_t:
        cols.append(np.log10(frame["length"].to_numpy(float)))
        names.append("log10 T")
    return np.column_stack(cols), names


def predictor(frame: pd.DataFrame, kind: str) -> tuple[pd.DataFrame, np.ndarray, int]:
    """(models used, x clipped at CLIP, how many were clipped). ``dprime``: log10 d′0 (models with d′0);
    ``theory``: log10 of the linear theory's d′ from λ0, T and σ; ``lambda``: log10 λ0^T (0 < λ0 < 1 only)."""
    if kind == "dprime":
        frame = frame[frame["dprime0"].notna()]
        raw = frame["ld"].to_numpy(float)
    elif kind == "theory":
        raw = frame["lp"].to_numpy(float)
    else:
        frame = frame[(frame["lambda0"] > 0) & (frame["lambda0"] < 1)]
        raw = frame["lt"].to_numpy(float)
    return frame, np.maximum(raw, CLIP), int((raw < CLIP).sum())


def lr_cell(test: dict) -> str:
    if test["df"] <= 0:
        return DASH
    return f"{test['chi2']:.1f} ({test['df']}), p {fmt_p(test['p'])}" + ("†" if test["separated"] else "")


def logistic_row(label: str, frame: pd.DataFrame, kind: str) -> str:
    """One row of the collapse table: M0 = x + aligned, and the likelihood-ratio tests of adding the cell family
    (M1), log10 T (M2) or both (M3). An orientation that never (or always) succeeds separates the data; the fits
    are then made on the other orientation alone, and the row says so."""
    frame, x, clipped = predictor(frame, kind)
    k, n = int(frame["success"].sum()), len(frame)
    head = f"| {label} | {PREDICTORS[kind]} | {n} | {k} | {clipped} |"
    aside = ""
    for al, name in ((0, "reversed"), (1, "aligned")):
        part = frame["aligned"] == al
        kp, n_p = int(frame.loc[part, "success"].sum()), int(part.sum())
        if 0 < k < n and 0 < n_p < n and kp in (0, n_p):
            aside = f"{name} {kp}/{n_p}: fit without them"
            frame, x = frame[~part], x[~part.to_numpy()]
            break
    k, n = int(frame["success"].sum()), len(frame)
    if min(k, n - k) < MIN_EACH:
        return head + " too few successes or failures |" + f" {aside or DASH} |" + f" {DASH} |" * 5
    y = frame["success"].to_numpy(float)
    fits = {}
    for m in ("M0", "M1", "M2", "M3"):
        X, names = design(frame, x, cell=m in ("M1", "M3"), log_t=m in ("M2", "M3"))
        fits[m] = logistic(X, y, names)
    m0 = fits["M0"]
    if m0.separated:
        cells = [f"separated ({', '.join(m0.separated)})", aside or DASH, DASH, DASH]
    else:
        (b, se), (a, ase) = m0["x"], m0["aligned"] if "aligned" in m0.names else (np.nan, np.nan)
        cells = [f"{b:.2f} [{se:.2f}]", f"{a:.2f} [{ase:.2f}]" if np.isfinite(a) else aside or DASH]
        for al in (1, 0):
            if "aligned" not in m0.names and al != frame["aligned"].iloc[0]:
                cells.append(DASH)
                continue
            t, tse = crossing(m0, "x", {"const": 1.0, "aligned": float(al)})
            cells.append(f"{t:.2f} [{t - Z95 * tse:.2f}, {t + Z95 * tse:.2f}]" if np.isfinite(tse) else DASH)
    tests = [lr_cell(lr_test(fits[m], m0)) for m in ("M1", "M2", "M3")]
    return head + " " + " | ".join(cells + tests) + " |"


def single_threshold(x: np.ndarray, y: np.ndarray) -> tuple[float, float, str]:
    """Fit P(success) = expit(b0 + b1 x): (x where P = 0.5, its delta-method SE, "") or (nan, nan, why not)."""
    k, n = int(np.sum(y)), len(y)
    if min(k, n - k) < MIN_EACH:
        return float("nan"), float("nan"), "too few"
    one = logistic(np.column_stack([np.ones(n), x]), y, ["const", "x"])
    if one.separated:
        return float("nan"), float("nan"), "separated"
    t, se = crossing(one, "x", {"const": 1.0})
    return t, se, ""
