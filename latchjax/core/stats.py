"""Statistics of success: Wilson's score interval for a frequency (Wilson 1927, JASA 22: 209-212), and for
paired comparisons McNemar's exact test and Newcombe's interval for paired proportions.

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


def wilson_interval(successes: np.ndarray | int, n: np.ndarray | int, z: float = 1.959964) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (95% by default) for a binomial proportion successes / n."""
    k = np.asarray(successes, np.float64)
    n = np.asarray(n, np.float64)
    p = np.where(n > 0, k / np.maximum(n, 1), 0.0)
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


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
