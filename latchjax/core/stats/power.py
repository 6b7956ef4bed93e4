"""Planning a sweep: :func:`seeds_unpaired` and :func:`seeds_paired` give the seeds a comparison needs for a given
power; :func:`mcnemar_exact_power` the power of the exact test ``latchjax compare`` runs."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np


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
