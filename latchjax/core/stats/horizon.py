"""Memory horizon: success against length falls like a logistic curve in log T; :func:`memory_horizon` fits it over
every length and reads off T50 and T90, the lengths at which success falls to 50% and 90%, with a bootstrap over
seeds."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def _logit(q: float) -> float:
    return math.log(q / (1 - q))


def _separation(x: np.ndarray, k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether the logistic fit of ``k[..., j]`` successes of ``n[j]`` at ``x[j]`` has a finite maximum: codes
    (..., ) 0 identified, 1 no success, 2 no failure, 3 separated falling (every success at x <= c, every failure
    at x >= c), 4 separated rising; and the boundary ``(c_success, c_failure)`` for code 3.

    With one covariate the maximum likelihood estimate exists, finite and unique, exactly when the data are not
    (quasi-)completely separated (A. Albert and J. A. Anderson, "On the existence of maximum likelihood estimates
    in logistic regression models", Biometrika 71 (1984) 1-10): for some (alpha, beta) != 0, alpha + beta x >= 0
    at every success and <= 0 at every failure. beta = 0 is "all successes" or "none"; beta < 0 is "the largest x
    with a success <= the smallest x with a failure"; beta > 0 the mirror image.
    """
    has_s, has_f = k > 0, k < n
    big = np.inf
    min_s, max_s = np.where(has_s, x, big).min(-1), np.where(has_s, x, -big).max(-1)
    min_f, max_f = np.where(has_f, x, big).min(-1), np.where(has_f, x, -big).max(-1)
    code = np.select([~has_s.any(-1), ~has_f.any(-1), max_s <= min_f, max_f <= min_s], [1, 2, 3, 4], 0)
    return code, np.stack([max_s, min_f], -1)


def _logistic_mle(x: np.ndarray, k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximum likelihood (a, b) of logit P(success at x) = a + b x from ``k[..., j]`` successes of ``n[j]`` trials
    at ``x[j]``, by Newton's method with step halving, vectorised over the leading axes (the bootstrap's
    resamples). The log-likelihood and its derivatives, with p_j = 1 / (1 + exp(-(a + b x_j)))::

        l = sum_j k_j (a + b x_j) - n_j log(1 + exp(a + b x_j))
        g = sum_j (k_j - n_j p_j) (1, x_j),   H = -sum_j n_j p_j (1 - p_j) (1, x_j)(1, x_j)^T

    l is concave, so from a = logit(overall frequency), b = 0 each halved Newton step raises it; where the data
    are not separated (:func:`_separation`) the maximum is finite and Newton converges to it. Returns ``(a, b,
    converged)``; where the data are separated the iterates run off and ``converged`` is usually false.
    """
    x0 = x.mean()
    xc = x - x0  # centred: a and b decouple better, Newton needs fewer steps
    n = np.broadcast_to(n, k.shape).astype(np.float64)
    total = np.clip(k.sum(-1) / n.sum(-1), 1e-3, 1 - 1e-3)
    a, b = np.log(total / (1 - total)), np.zeros(k.shape[:-1])

    def loglik(a, b):
        eta = a[..., None] + b[..., None] * xc
        return np.sum(k * eta - n * np.logaddexp(0.0, eta), -1)

    converged = np.zeros(a.shape, bool)
    ll = loglik(a, b)
    for _ in range(100):
        eta = a[..., None] + b[..., None] * xc
        p = 1 / (1 + np.exp(-eta))
        r, w = k - n * p, n * p * (1 - p)
        g0, g1 = r.sum(-1), (r * xc).sum(-1)
        h00, h01, h11 = w.sum(-1), (w * xc).sum(-1), (w * xc * xc).sum(-1)
        det = h00 * h11 - h01 * h01
        with np.errstate(divide="ignore", invalid="ignore"):
            da, db = (h11 * g0 - h01 * g1) / det, (h00 * g1 - h01 * g0) / det
        stuck = ~(np.isfinite(da) & np.isfinite(db))  # a singular H: every p at 0 or 1 (separated data)
        da, db = np.where(stuck, 0.0, da), np.where(stuck, 0.0, db)
        t = np.ones(a.shape)
        for _ in range(40):  # halve the step where it lowers the likelihood
            new = loglik(a + t * da, b + t * db)
            worse = new < ll - 1e-12 * np.abs(ll)
            if not worse.any():
                break
            t = np.where(worse, t / 2, t)
        a, b, ll = a + t * da, b + t * db, loglik(a + t * da, b + t * db)
        converged = (np.abs(t * da) < 1e-10 * (1 + np.abs(a))) & (np.abs(t * db) < 1e-10 * (1 + np.abs(b)))
        if converged.all():
            break
    return a - b * x0, b, converged


@dataclass(frozen=True)
class Horizon:
    """What :func:`memory_horizon` found. ``t[i]`` is T at which success falls to ``levels[i]``, with the
    bootstrap interval ``(low[i], high[i])``; ``intercept`` and ``slope`` are the fit's a and b (logit P = a + b log
    T); ``boots`` resamples were drawn, ``failed`` of them gave no identified fit (they are left out of the
    interval); ``note`` says why there is no number (NaNs), or what to keep in mind about the numbers ("" when
    nothing)."""

    levels: tuple[float, ...]
    t: np.ndarray
    low: np.ndarray
    high: np.ndarray
    intercept: float
    slope: float
    boots: int
    failed: int
    note: str

    @property
    def identified(self) -> bool:
        return bool(np.isfinite(self.slope))


def _why_not(code: int, bounds: np.ndarray) -> str:
    """The note of an unidentified fit (:func:`_separation`'s code; ``bounds``: the last length with a success and
    the first with a failure)."""
    last_success, first_failure = (f"{math.exp(v):.6g}" for v in bounds)
    return {1: f"not identified: no seed succeeded at any length (the horizon lies below T = {first_failure})",
            2: f"not identified: every seed succeeded at every length (the horizon lies beyond T = {last_success})",
            3: f"not identified: perfectly separated (every success at T <= {last_success}, every failure at T >= "
               f"{first_failure}): a step, too steep for a finite logistic slope",
            4: "not identified: success rises with length (successes only at the longer lengths)",
            5: "not identified: success does not fall with length (fitted slope >= 0)",
            6: "not identified: the maximum likelihood fit did not converge"}[code]


def memory_horizon(lengths: np.ndarray, success: np.ndarray, level: tuple[float, ...] = (0.5, 0.9),
                   boot: int = 1000, seed: int = 0, clustered: bool = True, ci: float = 0.95) -> Horizon:
    """The memory horizon of a cell on a task: the lengths T_q at which its success falls to q (T50, T90), from a
    logistic regression of success on log T over every length, with a bootstrap interval over seeds.

    ``success[j, i]``: whether seed i succeeded at ``lengths[j]``. The model, fitted by maximum likelihood
    (:func:`_logistic_mle`)::

        logit P(success | T) = a + b log T,        T_q = exp((logit(q) - a) / b)

    It is identified only where the successes and failures overlap in T (no perfect or quasi-complete
    separation, Albert and Anderson 1984: all successes, none, or a clean step) and the fitted slope is negative
    (success falls with length); otherwise every number is NaN and ``note`` says which.

    The interval is the percentile bootstrap (Efron and Tibshirani, An Introduction to the Bootstrap, 1993,
    ch. 13) over seeds: ``boot`` resamples of the seed indices with replacement, refitted, and the (1 - ci) / 2
    and (1 + ci) / 2 quantiles of T_q. ``clustered``: one draw of seeds for every length, so a seed's outcomes
    at all lengths stay together -- right when seed i's models share something across lengths (in latchjax
    always: repeat i's initialisation key does not depend on the length, and with ``shared`` data all seeds of
    a length see one dataset); otherwise each length's seeds are drawn independently. Resamples whose fit is not
    identified are left out and counted (``failed``); the note says so, as it says when a T_q lies outside the
    trained lengths (extrapolated).
    """
    t_train = np.asarray(lengths, np.float64)
    ok = np.asarray(success, bool)
    if t_train.ndim != 1 or ok.ndim != 2 or ok.shape[0] != t_train.size:
        raise ValueError(f"memory_horizon needs lengths (L,) and success (L, seeds), got {t_train.shape} and {ok.shape}")
    if np.any(t_train <= 0) or np.unique(t_train).size < 2:
        raise ValueError("memory_horizon needs at least two distinct positive lengths")
    if not all(0 < q < 1 for q in level) or not 0 < ci < 1:
        raise ValueError(f"memory_horizon: levels and ci must be in (0, 1), got {level} and {ci}")
    x, seeds = np.log(t_train), ok.shape[1]
    logits = np.array([_logit(q) for q in level])

    def fit(k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(a, b, code, bounds) for counts k (..., L) out of ``seeds`` (:func:`_separation`'s code and bounds; code
        5 where b >= 0, 6 where Newton did not converge)."""
        code, bounds = _separation(x, k, np.full(x.shape, seeds))
        a, b, converged = _logistic_mle(x, k, np.full(x.shape, seeds))
        code = np.where(code == 0, np.select([~converged, b >= 0], [6, 5], 0), code)
        return np.where(code == 0, a, np.nan), np.where(code == 0, b, np.nan), code, bounds

    a, b, code, bounds = fit(ok.sum(-1))
    nan = np.full(len(level), np.nan)
    if code != 0:
        return Horizon(tuple(level), nan, nan, nan, math.nan, math.nan, 0, 0, _why_not(int(code), bounds))
    estimate = np.exp((logits - a) / b)
    rng = np.random.default_rng(seed)
    if clustered:  # (boot, seeds): one draw per resample, used at every length
        k = ok[:, rng.integers(0, seeds, (boot, seeds))].sum(-1).T
    else:  # (boot, L, seeds): each length's seeds drawn on their own
        picks = rng.integers(0, seeds, (boot, x.size, seeds))
        k = np.take_along_axis(np.broadcast_to(ok, (boot, *ok.shape)), picks, -1).sum(-1)
    ab, bb, codes, _ = fit(k)
    good = codes == 0
    log_t = (logits[:, None] - ab[good]) / bb[good]  # (levels, good resamples)
    if good.any():
        low = np.exp(np.quantile(log_t, (1 - ci) / 2, axis=-1))
        high = np.exp(np.quantile(log_t, (1 + ci) / 2, axis=-1))
    else:
        low, high = nan, nan
    notes = []
    failed = int(boot - good.sum())
    if failed:
        notes.append(f"{failed} of {boot} resamples not identified (left out of the interval)")
    for q, t in zip(level, estimate):
        if not t_train.min() <= t <= t_train.max():
            notes.append(f"T{100 * q:g} extrapolated ({'below' if t < t_train.min() else 'above'} the trained lengths)")
    return Horizon(tuple(level), estimate, low, high, float(a), float(b), boot, failed, "; ".join(notes))
