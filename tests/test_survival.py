"""Kaplan-Meier steps-to-success statistics (latchjax.core.stats): the estimate, Greenwood's variance, and the
median with its Brookmeyer-Crowley log(-log) interval, checked against hand computations and lifelines."""

from __future__ import annotations

import math
from fractions import Fraction as F

import numpy as np
import pytest

from latchjax.core.stats import kaplan_meier, km_median, km_medians

Z95 = 1.959963984540054  # the standard normal quantile of 0.975


def _sample(events: dict[float, int], censored: dict[float, int]) -> tuple[np.ndarray, np.ndarray]:
    times = [t for t, k in events.items() for _ in range(k)] + [t for t, k in censored.items() for _ in range(k)]
    observed = [True] * sum(events.values()) + [False] * sum(censored.values())
    return np.array(times, np.float64), np.array(observed)


def test_kaplan_meier_matches_hand_computation_with_ties_and_censoring():
    # times 1, 2, 2, 3, 4, 4, 5; observed T, T, F, F, T, T, F (2 has a tie of an event and a censoring).
    #   t  at risk n  events d  1 - d/n   S(t)                  sum d/(n(n-d))             Var = S^2 * sum
    #   1     7          1        6/7     6/7                   1/42                       36/49 * 1/42 = 6/343
    #   2     6          1        5/6     5/7                   1/42 + 1/30 = 2/35         25/49 * 2/35 = 10/343
    #   3     (censored only: no row; 4 at risk before, 3 after)
    #   4     3          2        1/3     5/21                  2/35 + 2/3 = 76/105        25/441 * 76/105 = 380/9261
    #   5     (censored only)
    times = np.array([1, 2, 2, 3, 4, 4, 5], np.float64)
    observed = np.array([True, True, False, False, True, True, False])
    event_times, survival, var = kaplan_meier(times, observed)
    np.testing.assert_array_equal(event_times, [1, 2, 4])
    np.testing.assert_allclose(survival, [6 / 7, 5 / 7, 5 / 21], rtol=1e-14)
    np.testing.assert_allclose(var, [6 / 343, 10 / 343, 380 / 9261], rtol=1e-13)
    # the order of the input does not matter
    perm = np.array([6, 3, 0, 5, 2, 4, 1])
    for got, want in zip(kaplan_meier(times[perm], observed[perm]), (event_times, survival, var)):
        np.testing.assert_allclose(got, want, rtol=1e-14)


def test_events_come_before_censorings_at_a_tied_time():
    # times 1 (censored), 2 (event), 2 (censored), 3 (event): at t = 2 the unit censored at 2 is still at risk,
    # n = 3 and S(2) = 2/3 (censoring first would give n = 2 and S(2) = 1/2); at t = 3, n = 1 and S = 0.
    event_times, survival, _ = kaplan_meier([1, 2, 2, 3], [False, True, False, True])
    np.testing.assert_array_equal(event_times, [2, 3])
    np.testing.assert_allclose(survival, [2 / 3, 0.0], atol=1e-15)


def test_greenwood_variance_is_nan_where_survival_reaches_zero():
    # all three succeed: S = 2/3, 1/3, 0; Var = 4/9 * 1/6 = 2/27, 1/9 * (1/6 + 1/2) = 2/27, then undefined
    _, survival, var = kaplan_meier([1, 2, 3], [True, True, True])
    np.testing.assert_allclose(survival, [2 / 3, 1 / 3, 0.0], atol=1e-15)
    np.testing.assert_allclose(var[:2], [2 / 27, 2 / 27], rtol=1e-14)
    assert np.isnan(var[2])


def _loglog_band(s: F, greenwood_sum: F, z: float = Z95) -> tuple[float, float]:
    """The Kalbfleisch-Prentice pointwise interval of S written out independently: log(-log S) +- z * se with
    se = sqrt(sum d/(n(n-d))) / |log S|, mapped back by S = exp(-exp(u))."""
    u = math.log(-math.log(float(s)))
    se = math.sqrt(float(greenwood_sum)) / abs(math.log(float(s)))
    return math.exp(-math.exp(u + z * se)), math.exp(-math.exp(u - z * se))


def test_median_and_loglog_interval_match_hand_computation():
    # 14 models: successes at 1 (x1), 2 (x2), 3 (x3), 5 (x2), 7 (x2); censored at 4 (x1) and at the budget 10 (x3).
    #   t  n   d   S(t)                       sum d/(n(n-d))
    #   1  14  1   13/14                      1/182
    #   2  13  2   13/14 * 11/13 = 11/14      1/182 + 2/143 = 3/154
    #   3  11  3   11/14 * 8/11  = 4/7        3/154 + 3/88  = 3/56
    #   4  (one censored: 8 -> 7 at risk)
    #   5   7  2   4/7 * 5/7     = 20/49      3/56 + 2/35   = 31/280
    #   7   5  2   20/49 * 3/5   = 12/49      31/280 + 2/15 = 41/168
    # Median: S(3) = 4/7 > 1/2 >= S(5) = 20/49, so 5.
    hand_times = [1, 2, 3, 5, 7]
    hand_s = [F(13, 14), F(11, 14), F(4, 7), F(20, 49), F(12, 49)]
    hand_sum = [F(1, 182), F(3, 154), F(3, 56), F(31, 280), F(41, 168)]
    bands = [_loglog_band(s, g) for s, g in zip(hand_s, hand_sum)]
    lower = [b[0] for b in bands]
    upper = [b[1] for b in bands]
    # The low limit is where the lower band first reaches 1/2, the high limit where the upper band does:
    # lower(1) = 0.59 > 1/2 >= lower(2) = 0.47; upper(5) = 0.65 > 1/2 >= upper(7) = 0.49.
    assert lower[0] > 0.5 >= lower[1]
    assert upper[3] > 0.5 >= upper[4]
    low = next(t for t, b in zip(hand_times, lower) if b <= 0.5)
    high = next(t for t, b in zip(hand_times, upper) if b <= 0.5)
    median = next(t for t, s in zip(hand_times, hand_s) if s <= F(1, 2))
    assert (low, median, high) == (2, 5, 7)

    times, observed = _sample({1: 1, 2: 2, 3: 3, 5: 2, 7: 2}, {4: 1, 10: 3})
    assert km_median(times, observed) == (5.0, 2.0, 7.0)
    # and the estimate itself agrees with the table
    event_times, survival, var = kaplan_meier(times, observed)
    np.testing.assert_array_equal(event_times, hand_times)
    np.testing.assert_allclose(survival, [float(s) for s in hand_s], rtol=1e-14)
    np.testing.assert_allclose(var, [float(s * s * g) for s, g in zip(hand_s, hand_sum)], rtol=1e-13)


def test_high_limit_is_infinite_when_the_upper_band_never_reaches_half():
    # 15 models: successes at 2 (x1), 3 (x2), 5 (x3), 6 (x2), 8 (x2); censored at 4 (x1) and at the budget 10 (x4).
    #   t  n   d   S                          sum d/(n(n-d))
    #   2  15  1   14/15                      1/210
    #   3  14  2   14/15 * 12/14 = 4/5        1/210 + 2/168 = 1/60
    #   5  11  3   4/5 * 8/11    = 32/55      1/60 + 3/88   = 67/1320
    #   6   8  2   32/55 * 6/8   = 24/55      67/1320 + 2/48 = 122/1320 = 61/660
    #   8   6  2   24/55 * 4/6   = 16/55      61/660 + 2/24 = 116/660 = 29/165
    # median 6 (32/55 > 1/2 >= 24/55); lower(2) > 1/2 >= lower(3); upper(8) > 1/2: high not reached.
    hand_s = [F(14, 15), F(4, 5), F(32, 55), F(24, 55), F(16, 55)]
    hand_sum = [F(1, 210), F(1, 60), F(67, 1320), F(61, 660), F(29, 165)]
    bands = [_loglog_band(s, g) for s, g in zip(hand_s, hand_sum)]
    assert bands[0][0] > 0.5 >= bands[1][0]
    assert all(upper > 0.5 for _, upper in bands)
    times, observed = _sample({2: 1, 3: 2, 5: 3, 6: 2, 8: 2}, {4: 1, 10: 4})
    assert km_median(times, observed) == (6.0, 3.0, math.inf)


def test_median_at_survival_exactly_half_is_that_event_time_not_r_midpoint():
    # 4 models succeed at 1, 2, 3, 4: S = 3/4, 1/2, 1/4, 0. S equals 1/2 on [2, 3): the median is 2 (R's
    # survfit would report the midpoint 2.5).
    assert km_median([1, 2, 3, 4], [True] * 4)[0] == 2.0
    # 24 models succeeding at 1..24: S(12) = 12/24 exactly, but the floating-point product of (1 - 1/n) is
    # 0.5000000000000001; the tolerance still makes 12 the median (13 without it).
    assert km_median(np.arange(1, 25), np.ones(24, bool))[0] == 12.0


def test_bands_are_zero_where_survival_reaches_zero():
    # 3 models succeed at 1, 2, 3: S = 2/3, 1/3, 0. The upper band at 2 is above 1/2; at 3, S = 0 and the
    # bands are taken as 0, so the high limit is 3 (R leaves the band undefined there and reports NA).
    assert _loglog_band(F(1, 3), F(1, 6) + F(1, 2))[1] > 0.5
    assert _loglog_band(F(2, 3), F(1, 6))[0] <= 0.5
    assert km_median([1, 2, 3], [True] * 3) == (2.0, 1.0, 3.0)


def test_censored_models_are_not_dropped():
    # 5 models: successes at 2, 4, 6, two never succeed within the budget 10. KM: S = 4/5, 3/5, 2/5, median 6.
    # Dropping the censored two would leave 2, 4, 6 all observed: S = 2/3, 1/3, 0 and median 4.
    times = [2, 4, 6, 10, 10]
    observed = [True, True, True, False, False]
    assert km_median(times, observed)[0] == 6.0
    assert km_median([2, 4, 6], [True] * 3)[0] == 4.0
    # with only two successes out of five, S = 4/5, 3/5 never reaches 1/2: not reached within the budget
    # (dropping the censored would claim a median of 2)
    assert km_median([2, 4, 10, 10, 10], [True, True, False, False, False])[0] == math.inf
    assert km_median([2, 4], [True, True])[0] == 2.0


def test_all_censored_gives_infinite_median():
    assert km_median([10, 10, 10], [False, False, False]) == (math.inf, math.inf, math.inf)
    event_times, survival, var = kaplan_meier([10, 10, 10], [False, False, False])
    assert event_times.size == survival.size == var.size == 0


def test_no_models_gives_nan():
    median, low, high = km_median(np.zeros(0), np.zeros(0, bool))
    assert math.isnan(median) and math.isnan(low) and math.isnan(high)


def test_mismatched_shapes_are_rejected():
    with pytest.raises(ValueError):
        km_median([1, 2, 3], [True, False])
    with pytest.raises(ValueError):
        km_medians(np.ones((2, 3)), np.ones((2, 4), bool))


def test_km_medians_shape():
    rng = np.random.default_rng(0)
    times = rng.integers(1, 20, size=(2, 3, 9)).astype(np.float64)
    observed = rng.random((2, 3, 9)) < 0.7
    median, low, high = km_medians(times, observed)
    assert median.shape == low.shape == high.shape == (2, 3)
    for index in np.ndindex(2, 3):
        assert (median[index], low[index], high[index]) == km_median(times[index], observed[index])
    # the models along another axis
    moved = km_medians(np.moveaxis(times, -1, 0), np.moveaxis(observed, -1, 0), axis=0)
    for got, want in zip(moved, (median, low, high)):
        np.testing.assert_array_equal(got, want)


def test_matches_lifelines():
    lifelines = pytest.importorskip("lifelines")
    from lifelines.utils import median_survival_times

    rng = np.random.default_rng(1)
    checked = 0
    for _ in range(40):
        n = int(rng.integers(5, 30))
        budget = 20.0
        times = rng.integers(1, 25, size=n).astype(np.float64)
        observed = times <= budget
        times = np.minimum(times, budget)
        observed &= rng.random(n) < 0.85  # some censored before the budget too
        event_times, survival, _ = kaplan_meier(times, observed)
        if np.any(np.abs(survival - 0.5) < 1e-9):
            continue  # lifelines has no tolerance at exactly 1/2
        fitter = lifelines.KaplanMeierFitter(alpha=0.05).fit(times, observed)
        np.testing.assert_allclose(survival, fitter.survival_function_.loc[event_times].to_numpy().ravel(),
                                   rtol=1e-12)
        ci = median_survival_times(fitter.confidence_interval_)
        want = (fitter.median_survival_time_, float(ci.iloc[0, 0]), float(ci.iloc[0, 1]))
        assert km_median(times, observed) == pytest.approx(want)
        checked += 1
    assert checked >= 30
