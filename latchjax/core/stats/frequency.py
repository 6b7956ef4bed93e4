"""Frequencies of success: Wilson's score interval (Wilson 1927, JASA 22: 209-212) and Clopper and Pearson's exact
interval (Biometrika 26 (1934) 404-413), with the regularised incomplete beta function it rests on."""

from __future__ import annotations

import math

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
