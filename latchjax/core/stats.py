"""Statistics of success: Wilson's score interval for a frequency (Wilson 1927, JASA 22: 209-212) and Clopper and
Pearson's exact one (Biometrika 26 (1934) 404-413), and for paired comparisons McNemar's exact test, Newcombe's
interval for paired proportions and Holm's correction for testing at several lengths.

Two models trained from the same seed (same initialisation key, same shuffles and, with shared data,
the same dataset) form a pair. Over n pairs, with A and B the two conditions::

                  B success   B failure
    A success         a           b
    A failure         c           d

only the discordant pairs (b, c) carry information about the difference p_A - p_B = (b - c) / n.

Planning: :func:`seeds_unpaired` and :func:`seeds_paired` give the seeds a comparison needs for a given power;
:func:`mcnemar_exact_power` the power of the exact test ``latchjax compare`` runs.

Memory horizon: success against length falls like a logistic curve in log T; :func:`memory_horizon` fits it over
every length and reads off T50 and T90, the lengths at which success falls to 50% and 90%, with a bootstrap over
seeds.

Steps to success: each model records the training sequences seen when its success rule first held, or is
right-censored at the budget when it never succeeded; :func:`kaplan_meier` and :func:`km_median` estimate
the distribution of that time without dropping the censored models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


def wilson_interval(successes: np.ndarray | int, n: np.ndarray | int, z: float = 1.959964) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (95% by default) for a binomial proportion successes / n."""
    k = np.asarray(successes, np.float64)
    n = np.asarray(n, np.float64)
    p = np.where(n > 0, k / np.maximum(n, 1), 0.0)
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def _log_beta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b), elementwise (NumPy has no lgamma)."""
    lgamma = np.vectorize(math.lgamma, otypes=[np.float64])
    return lgamma(a) + lgamma(b) - lgamma(a + b)


def _betainc(a: np.ndarray, b: np.ndarray, x: np.ndarray, log_beta: np.ndarray | None = None) -> np.ndarray:
    """The regularized incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b), for a, b > 0 and 0 <= x <= 1,
    elementwise.

    The continued fraction of Numerical Recipes (Press et al., 3rd ed. 2007, section 6.4, ``betacf``), evaluated
    by the modified Lentz method::

        I_x(a, b) = x^a (1 - x)^b / (a B(a, b)) * 1 / (1 + d_1 / (1 + d_2 / (1 + ...)))
        d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)),   d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m))

    which converges fast for x < (a + 1) / (a + b + 2); above that, I_x(a, b) = 1 - I_{1-x}(b, a). It needs
    O(sqrt(max(a, b))) terms: a few hundred for a million trials. ``log_beta``: log B(a, b), if already known.
    """
    a, b, x = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (a, b, x)))
    log_beta = _log_beta(a, b) if log_beta is None else log_beta  # symmetric in (a, b): the swap keeps it
    swap = x >= (a + 1) / (a + b + 2)
    a, b, x = np.where(swap, b, a), np.where(swap, a, b), np.where(swap, 1 - x, x)
    tiny, eps = 1e-300, 1e-15

    def guard(v: np.ndarray) -> np.ndarray:
        return np.where(np.abs(v) < tiny, tiny, v)

    c = np.ones_like(x)
    d = 1 / guard(1 - (a + b) * x / (a + 1))
    h = d.copy()
    for m in range(1, 100_000):
        even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1 / guard(1 + even * d)
        c = guard(1 + even / c)
        h *= d * c
        odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1 / guard(1 + odd * d)
        c = guard(1 + odd / c)
        h *= d * c
        if np.all(np.abs(d * c - 1) < eps):
            break
    with np.errstate(divide="ignore"):
        front = np.exp(a * np.log(x) + b * np.log1p(-x) - log_beta) / a
    value = np.where(x > 0, front * h, 0.0)
    return np.where(swap, 1 - value, value)


def _beta_quantile(q: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The x in [0, 1] with I_x(a, b) = q (the Beta(a, b) quantile), elementwise: I_x is increasing in x, so 80
    bisections pin x to 2^-80 (below the spacing of doubles near any x >= 2^-28; relative error near 0 is
    that of I_x itself)."""
    a, b = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64))
    low, high, log_beta = np.zeros(a.shape), np.ones(a.shape), _log_beta(a, b)
    for _ in range(80):
        mid = (low + high) / 2
        below = _betainc(a, b, mid, log_beta) < q
        low, high = np.where(below, mid, low), np.where(below, high, mid)
    return (low + high) / 2


def clopper_pearson(k: np.ndarray | int, n: np.ndarray | int, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Clopper and Pearson's exact interval for a binomial proportion k / n (C. J. Clopper and E. S. Pearson, "The
    use of confidence or fiducial limits illustrated in the case of the binomial", Biometrika 26 (1934) 404-413).

    With alpha = 1 - level, the limits are the p at which the observed count is just in the tail of size alpha/2::

        P(X >= k | n, low) = alpha / 2,    P(X <= k | n, high) = alpha / 2,     X ~ Binomial(n, p)

    and, as the binomial tail is a regularized incomplete beta function (P(X >= k | n, p) = I_p(k, n - k + 1)),
    they are Beta quantiles::

        low  = B^{-1}(alpha / 2;     k,     n - k + 1)    (0 when k = 0)
        high = B^{-1}(1 - alpha / 2; k + 1, n - k)        (1 when k = n)

    Its coverage is at least ``level`` for every p (the price: wider than Wilson's, whose coverage is ``level``
    on average). Vectorised over ``k`` and ``n``; NaN where n = 0 (as Wilson's).
    """
    if not 0 < level < 1:
        raise ValueError(f"clopper_pearson: level must be in (0, 1), got {level}")
    k, n = np.broadcast_arrays(np.asarray(k, np.float64), np.asarray(n, np.float64))
    if np.any((k < 0) | (k > n)):
        raise ValueError("clopper_pearson: need 0 <= k <= n")
    alpha = 1 - level
    empty = n == 0
    low = np.where(k > 0, _beta_quantile(alpha / 2, np.maximum(k, 1), np.maximum(n - k + 1, 1)), 0.0)
    high = np.where(k < n, _beta_quantile(1 - alpha / 2, k + 1, np.maximum(n - k, 1)), 1.0)
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (S. Holm, "A simple sequentially rejective multiple test procedure",
    Scand. J. Statist. 6 (1979) 65-70), which control the family-wise error rate over the m tests of ``pvalues``.

    With p_(1) <= ... <= p_(m) the sorted p-values, the adjusted value of the i-th smallest is::

        p~_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))

    so that rejecting where p~ <= alpha is Holm's procedure at level alpha: reject H_(1), H_(2), ... while
    p_(j) <= alpha / (m - j + 1), and stop at the first that fails. Monotone in p, and never below p. NaN
    p-values stay NaN and do not count in m.
    """
    p = np.asarray(pvalues, np.float64)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(~np.isnan(p.ravel()))
    m = finite.size
    if m:
        order = finite[np.argsort(p.ravel()[finite], kind="stable")]
        steps = np.minimum(1.0, (m - np.arange(m)) * p.ravel()[order])
        out.ravel()[order] = np.maximum.accumulate(steps)
    return out


def mcnemar_exact(b: int, c: int) -> float:
    """Exact two-sided McNemar p-value: under H0 the b + c discordant pairs split Binomial(b + c, 1/2), and

        p = min(1, 2 P(X <= min(b, c))),  X ~ Binomial(b + c, 1/2)   (p = 1 when b + c = 0).

    Computed in exact integer arithmetic, so it holds for any number of pairs.
    """
    b, c = int(b), int(c)
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1))
    return min(1.0, float(2 * tail / 2**n))


def newcombe_paired_interval(a: int, b: int, c: int, d: int, z: float = 1.959964) -> tuple[float, float]:
    """Newcombe's interval for the difference of paired proportions theta = (a + b) / n - (a + c) / n.

    Method 10 of R. G. Newcombe, "Improved confidence intervals for the difference between binomial
    proportions based on paired data", Statistics in Medicine 17 (1998) 2635-2650: Wilson score intervals
    (l1, u1) for p1 = (a + b) / n and (l2, u2) for p2 = (a + c) / n, combined by "square and add" with
    the correlation between them::

        L = theta - sqrt((p1 - l1)^2 - 2 phi (p1 - l1)(u2 - p2) + (u2 - p2)^2)
        U = theta + sqrt((p2 - l2)^2 - 2 phi (p2 - l2)(u1 - p1) + (u1 - p1)^2)

    where phi = C / sqrt((a + b)(c + d)(a + c)(b + d)), C = ad - bc - n/2 if ad - bc > n/2, 0 if
    0 <= ad - bc <= n/2, ad - bc if ad - bc < 0; phi = 0 when a margin is empty.
    """
    a, b, c, d = (int(v) for v in (a, b, c, d))
    n = a + b + c + d
    if n == 0:
        return float("nan"), float("nan")
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = (float(v) for v in wilson_interval(a + b, n, z))
    l2, u2 = (float(v) for v in wilson_interval(a + c, n, z))
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    cross = a * d - b * c
    corrected = cross - n / 2 if cross > n / 2 else (0.0 if cross >= 0 else cross)
    phi = corrected / math.sqrt(margins) if margins > 0 else 0.0
    theta = p1 - p2
    low = theta - math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    high = theta + math.sqrt(max(0.0, (p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2))
    return max(-1.0, low), min(1.0, high)


PAIRED_COLUMNS = ("n", "successes_a", "successes_b", "a_only", "b_only", "p_mcnemar", "diff", "ci_low", "ci_high")


def paired_comparison(success_a: np.ndarray, success_b: np.ndarray) -> dict[str, float]:
    """The paired statistics of two boolean arrays over the same pairs (:data:`PAIRED_COLUMNS`):
    ``a_only`` = b (A succeeded, B failed), ``b_only`` = c, ``diff`` = p_A - p_B with Newcombe's 95% interval."""
    ok_a, ok_b = np.asarray(success_a, bool).ravel(), np.asarray(success_b, bool).ravel()
    if ok_a.shape != ok_b.shape:
        raise ValueError(f"paired comparison needs arrays of one shape, got {ok_a.shape} and {ok_b.shape}")
    a, b = int(np.sum(ok_a & ok_b)), int(np.sum(ok_a & ~ok_b))
    c, d = int(np.sum(~ok_a & ok_b)), int(np.sum(~ok_a & ~ok_b))
    n = a + b + c + d
    low, high = newcombe_paired_interval(a, b, c, d)
    return {"n": n, "successes_a": a + b, "successes_b": a + c, "a_only": b, "b_only": c,
            "p_mcnemar": mcnemar_exact(b, c), "diff": (b - c) / n if n else float("nan"), "ci_low": low,
            "ci_high": high}


# S(t) counts as <= 0.5 within this tolerance (R's quantile.survfit uses the same), so a product of
# fractions that is exactly 1/2 but rounds to 0.5000000000000001 still reaches the median.
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


def _z(q: float) -> float:
    return NormalDist().inv_cdf(q)


def _check_plan(alpha: float, power: float) -> None:
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power must be in (0, 1), got {alpha} and {power}")


def seeds_unpaired(p1: float, p2: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Seeds per arm for a two-sided test of p1 = p2 between two independent groups of seeds (different base
    seeds, or different tasks), at level ``alpha`` with the given ``power``.

    The normal-approximation formula for the pooled two-proportion z test (equivalently Pearson's chi-square
    without continuity correction), variance pooled under H0 and unpooled under H1 (J. L. Fleiss, B. Levin and
    M. C. Paik, Statistical Methods for Rates and Proportions, 3rd ed., 2003, eq. 4.14, without the continuity
    correction of 4.15)::

        n = (z_{1-alpha/2} sqrt(2 pbar (1 - pbar)) + z_{power} sqrt(p1 (1 - p1) + p2 (1 - p2)))^2 / (p1 - p2)^2

    with pbar = (p1 + p2) / 2, rounded up. 0.5 vs 0.7 at alpha 0.05 and power 0.8: 92.99..., so 93.
    """
    _check_plan(alpha, power)
    if not (0 < p1 < 1 and 0 < p2 < 1) or p1 == p2:
        raise ValueError(f"p1 and p2 must be distinct and in (0, 1), got {p1} and {p2}")
    pbar = (p1 + p2) / 2
    root = _z(1 - alpha / 2) * math.sqrt(2 * pbar * (1 - pbar)) + _z(power) * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(root**2 / (p1 - p2) ** 2 - 1e-9)  # - 1e-9: an exact integer stays itself despite rounding


def _check_discordant(p10: float, p01: float) -> None:
    if not (p10 >= 0 and p01 >= 0 and 0 < p10 + p01 <= 1) or p10 == p01:
        raise ValueError(f"p10 and p01 must be distinct, >= 0, with 0 < p10 + p01 <= 1, got {p10} and {p01}")


def seeds_paired(p10: float, p01: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Pairs (seeds, each trained in both conditions) for McNemar's test of p_A = p_B, from the probabilities of
    the two discordant outcomes: p10 = P(A succeeds, B fails), p01 = P(A fails, B succeeds).

    With psi = p10 + p01 (the discordant probability) and delta = p10 - p01 = p_A - p_B, the normal approximation
    of R. J. Connor, "Sample size for testing differences in proportions for the paired-sample design",
    Biometrics 43 (1987) 207-211::

        n = (z_{1-alpha/2} sqrt(psi) + z_{power} sqrt(psi - delta^2))^2 / delta^2

    rounded up. It plans the asymptotic test; the exact test that ``latchjax compare`` runs has a little less
    power at that n (:func:`mcnemar_exact_power`, :func:`seeds_paired_exact`).
    """
    _check_plan(alpha, power)
    _check_discordant(p10, p01)
    psi, delta = p10 + p01, p10 - p01
    root = _z(1 - alpha / 2) * math.sqrt(psi) + _z(power) * math.sqrt(psi - delta**2)
    return math.ceil(root**2 / delta**2 - 1e-9)


def _log_factorials(n: int) -> np.ndarray:
    """log j!, j = 0..n."""
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=np.float64)))])


def _binomial_pmf(n: int, p: float, log_fact: np.ndarray) -> np.ndarray:
    """P(X = j), j = 0..n, X ~ Binomial(n, p), through logs (no overflow for large n); ``log_fact``: log j! up to
    at least n."""
    j = np.arange(n + 1)
    if p in (0.0, 1.0):
        return (j == (n if p == 1.0 else 0)).astype(np.float64)
    return np.exp(log_fact[n] - log_fact[j] - log_fact[n - j] + j * math.log(p) + (n - j) * math.log1p(-p))


def _mcnemar_rejection(dmax: int, p10: float, p01: float, alpha: float) -> np.ndarray:
    """P(:func:`mcnemar_exact` <= alpha | d discordant pairs), d = 0..dmax: given d, b ~ Binomial(d, p10 / psi),
    and the test rejects where min(b, d - b) <= c_d, c_d the largest c with 2 P(X <= c | d, 1/2) <= alpha (c_d
    < d / 2, so the two tails do not overlap)."""
    share, log_fact = p10 / (p10 + p01), _log_factorials(dmax)
    out = np.zeros(dmax + 1)
    for d in range(1, dmax + 1):
        c = np.flatnonzero(2 * np.cumsum(_binomial_pmf(d, 0.5, log_fact)) <= alpha * (1 + 1e-12))
        if c.size:
            pmf = _binomial_pmf(d, share, log_fact)
            out[d] = pmf[: c[-1] + 1].sum() + pmf[d - c[-1]:].sum()
    return out


def mcnemar_exact_power(n: int, p10: float, p01: float, alpha: float = 0.05) -> float:
    """The exact power of :func:`mcnemar_exact` at level ``alpha`` over ``n`` pairs whose discordant outcomes have
    probabilities p10, p01: sum_d P(D = d) P(reject | d), D ~ Binomial(n, p10 + p01) discordant pairs."""
    _check_discordant(p10, p01)
    return float(_binomial_pmf(n, p10 + p01, _log_factorials(n)) @ _mcnemar_rejection(n, p10, p01, alpha))


def seeds_paired_exact(p10: float, p01: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """The fewest pairs at which :func:`mcnemar_exact` reaches ``power`` (:func:`mcnemar_exact_power`), searched from
    3/4 of :func:`seeds_paired`'s n up to twice it (measured: 2-10% above it for power 0.8). The exact power is a
    saw-tooth in n (the test's discrete levels), so a few n just above this one can fall short again by a little."""
    start = seeds_paired(p10, p01, alpha, power)
    last = 2 * start + 10
    reject, log_fact = _mcnemar_rejection(last, p10, p01, alpha), _log_factorials(last)
    for n in range(max(1, 3 * start // 4), last + 1):
        if _binomial_pmf(n, p10 + p01, log_fact) @ reject[: n + 1] >= power:
            return n
    raise ValueError(f"no n up to {last} reaches power {power} with the exact test")  # pragma: no cover
