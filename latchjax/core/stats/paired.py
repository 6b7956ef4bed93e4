"""Paired comparisons: McNemar's exact test, Newcombe's interval for paired proportions and Holm's correction for
testing at several lengths.

Two models trained from the same seed (same initialisation key, same shuffles and, with shared data,
the same dataset) form a pair. Over n pairs, with A and B the two conditions::

                  B success   B failure
    A success         a           b
    A failure         c           d

only the discordant pairs (b, c) carry information about the difference p_A - p_B = (b - c) / n.
"""

from __future__ import annotations

import math

import numpy as np

from latchjax.core.stats.frequency import wilson_interval


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
