"""Steps to success: each model records the training sequences seen when its success rule first held, or is
right-censored at the budget when it never succeeded; :func:`kaplan_meier` and :func:`km_median` estimate the
distribution of that time without dropping the censored models."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

_KM_TOL = math.sqrt(np.finfo(np.float64).eps)


def _km_table(times: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct event times, S(t) just after each, and Greenwood's sum  sum_{t_i <= t} d_i / (n_i (n_i - d_i))
    (inf from the time S reaches 0)."""
    t = np.asarray(times, np.float64)
    ok = np.asarray(observed, bool)
    if t.ndim != 1 or t.shape != ok.shape:
        raise ValueError(f"kaplan_meier needs 1-d times and observed of one shape, got {t.shape} and {ok.shape}")
    if np.isnan(t).any():
        raise ValueError("kaplan_meier: times contain NaN")
    event_times = np.unique(t[ok])
    # at risk at t_i: everyone whose time is >= t_i, so those censored at t_i count as at risk (events first)
    at_risk = t.size - np.searchsorted(np.sort(t), event_times, side="left")
    deaths = np.searchsorted(np.sort(t[ok]), event_times, side="right") - np.searchsorted(
        np.sort(t[ok]), event_times, side="left")
    at_risk, deaths = at_risk.astype(np.float64), deaths.astype(np.float64)
    survival = np.cumprod(1.0 - deaths / at_risk)
    with np.errstate(divide="ignore"):
        terms = np.where(at_risk > deaths, deaths / (at_risk * np.maximum(at_risk - deaths, 1.0)), np.inf)
    return event_times, survival, np.cumsum(terms)


def kaplan_meier(times: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate of S(t) = P(T > t) from right-censored times (E. L. Kaplan and P. Meier,
    "Nonparametric estimation from incomplete observations", JASA 53 (1958) 457-481).

    ``times`` (n,): the time of each unit; ``observed`` (n,): True where the event (success) was seen at that
    time, False where the unit was censored there (still unsuccessful when last seen, e.g. at the budget).
    With t_1 < t_2 < ... the distinct event times, d_i the events at t_i and n_i the units at risk there
    (time >= t_i; a unit censored at t_i counts as at risk, i.e. events come before censorings at a tie)::

        S(t) = prod_{t_i <= t} (1 - d_i / n_i)
        Var S(t) = S(t)^2 sum_{t_i <= t} d_i / (n_i (n_i - d_i))      (Greenwood 1926)

    Returns ``(event_times, survival, greenwood_var)``: the distinct event times in increasing order, S just
    after each, and Greenwood's variance there; the variance is NaN where S = 0 (n_i = d_i: undefined).
    Empty arrays when there are no events (n = 0 or everything censored).
    """
    event_times, survival, gsum = _km_table(times, observed)
    with np.errstate(invalid="ignore"):
        var = np.where(survival > 0, survival**2 * gsum, np.nan)
    return event_times, survival, var


def km_median(times: np.ndarray, observed: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Median time to the event from :func:`kaplan_meier`, with Brookmeyer and Crowley's interval
    (R. Brookmeyer and J. Crowley, "A confidence interval for the median survival time", Biometrics 38
    (1982) 29-41) on the log(-log) scale (Kalbfleisch and Prentice 1980), as R's
    ``survfit(conf.type="log-log")`` reports it.

    The median is the smallest event time t with S(t) <= 0.5. With sigma^2(t) = sum_{t_i <= t} d_i / (n_i (n_i -
    d_i)) (Greenwood's variance of log S) and z the normal quantile of (1 + level) / 2, the pointwise interval
    of S(t), for 0 < S < 1, is::

        lower(t) = S(t) ** exp(+z sigma(t) / -log S(t))
        upper(t) = S(t) ** exp(-z sigma(t) / -log S(t))

    and both are 0 where S = 0. The median's limits are where the bands cross 0.5: ``low`` = the smallest event
    time with lower(t) <= 0.5, ``high`` = the smallest event time with upper(t) <= 0.5 (lower <= S <= upper, so
    low <= median <= high). A crossing that never happens within the data is ``np.inf`` (not reached within
    the budget); all censored gives (inf, inf, inf), n = 0 gives (nan, nan, nan). "<= 0.5" allows a relative
    tolerance of sqrt(machine eps), as R does.

    Departures from R's ``quantile.survfit``: (1) when S(t) equals 0.5 exactly up to the next event time, R
    reports the midpoint of t and that next time; here the median is t itself, a time some model actually
    reached (lifelines does the same). (2) Where S = 0, R leaves the bands undefined (NA) and so can report an
    unbounded upper limit; here they are 0, so ``high`` is at most the time at which S reaches 0.
    """
    if not 0 < level < 1:
        raise ValueError(f"km_median: level must be in (0, 1), got {level}")
    if np.asarray(times).size == 0:
        _km_table(times, observed)  # the same shape checks
        return math.nan, math.nan, math.nan
    event_times, survival, gsum = _km_table(times, observed)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    inside = (survival > 0) & (survival < 1)
    s = np.where(inside, survival, 0.5)  # placeholders where S = 0 keep the logs finite; overwritten below
    theta = z * np.sqrt(np.where(inside, gsum, 0.0)) / -np.log(s)
    lower = np.where(inside, s ** np.exp(theta), 0.0)
    upper = np.where(inside, s ** np.exp(-theta), 0.0)

    def first_at_or_below_half(curve: np.ndarray) -> float:
        hit = np.flatnonzero(curve <= 0.5 * (1 + _KM_TOL))
        return float(event_times[hit[0]]) if hit.size else math.inf

    return first_at_or_below_half(survival), first_at_or_below_half(lower), first_at_or_below_half(upper)


def km_medians(times: np.ndarray, observed: np.ndarray, axis: int = -1,
               level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`km_median` along ``axis`` (the models) of arrays of one shape, e.g. (..., n): three float arrays
    ``(median, low, high)`` of the remaining shape (...)."""
    t = np.moveaxis(np.asarray(times, np.float64), axis, -1)
    ok = np.moveaxis(np.asarray(observed, bool), axis, -1)
    if t.shape != ok.shape:
        raise ValueError(f"km_medians needs times and observed of one shape, got {t.shape} and {ok.shape}")
    out = np.empty((3, *t.shape[:-1]), np.float64)
    for index in np.ndindex(t.shape[:-1]):
        out[(slice(None), *index)] = km_median(t[index], ok[index], level)
    return out[0], out[1], out[2]
