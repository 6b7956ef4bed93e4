"""The seed planner: the formulas by hand, each plan checked by simulating many experiments at the planned number
of seeds with the test that will be run, the exact McNemar power by enumerating every table, and
``latchjax plan-seeds`` (output and bad input)."""

import math
from statistics import NormalDist

import numpy as np
import pytest

from latchjax.cli import run
from latchjax.core.stats import mcnemar_exact, mcnemar_exact_power, seeds_paired, seeds_paired_exact, seeds_unpaired

Z = NormalDist().inv_cdf


def test_unpaired_plan_is_fleiss_pooled_formula_and_gives_93_seeds_for_0_5_vs_0_7():
    """z_0.975 = 1.959964, z_0.8 = 0.841621, pbar = 0.6: (1.959964 sqrt(0.48) + 0.841621 sqrt(0.46))^2 / 0.04
    = (1.357908 + 0.570820)^2 / 0.04 = 92.998, so 93 per arm (the unpooled variant would say 91)."""
    assert (1.959964 * math.sqrt(0.48) + 0.841621 * math.sqrt(0.46)) ** 2 / 0.04 == pytest.approx(92.998, abs=1e-3)
    assert seeds_unpaired(0.5, 0.7) == seeds_unpaired(0.7, 0.5) == 93
    assert math.ceil((Z(0.975) + Z(0.8)) ** 2 * 0.46 / 0.04) == 91  # unpooled: not what the planner uses
    assert seeds_unpaired(0.5, 0.7, power=0.9) > 93 and seeds_unpaired(0.5, 0.7, alpha=0.01) > 93
    with pytest.raises(ValueError):
        seeds_unpaired(0.5, 0.5)


@pytest.mark.parametrize("p1, p2, alpha, power", [(0.5, 0.7, 0.05, 0.8), (0.2, 0.4, 0.01, 0.9)])
def test_unpaired_plan_reaches_its_power_in_simulated_experiments(p1, p2, alpha, power):
    """20,000 simulated pairs of groups at the planned n, each tested with the two-sided pooled two-proportion z
    test the formula plans for: the share rejected is the power (sampling SE about 0.003), and 15% fewer seeds
    fall short."""
    rng = np.random.default_rng(1)

    def simulated_power(n):
        k1, k2 = rng.binomial(n, p1, 20_000), rng.binomial(n, p2, 20_000)
        pooled = (k1 + k2) / (2 * n)
        z = np.abs(k1 - k2) / n / np.sqrt(pooled * (1 - pooled) * 2 / n)
        return np.mean(z > Z(1 - alpha / 2))

    n = seeds_unpaired(p1, p2, alpha, power)
    assert simulated_power(n) == pytest.approx(power, abs=0.015)
    assert simulated_power(int(0.85 * n)) < power - 0.02


def test_exact_mcnemar_power_is_the_probability_of_every_rejected_table():
    """Every table (b, c, rest) of n = 14 pairs, weighted by its multinomial probability and counted where
    mcnemar_exact(b, c) <= alpha."""
    for n, p10, p01, alpha in ((14, 0.05, 0.3, 0.05), (14, 0.2, 0.1, 0.1), (9, 0.0, 0.4, 0.05)):
        total = 0.0
        for b in range(n + 1):
            for c in range(n + 1 - b):
                prob = math.comb(n, b) * math.comb(n - b, c) * p10**b * p01**c * (1 - p10 - p01) ** (n - b - c)
                total += prob * (mcnemar_exact(b, c) <= alpha)
        assert mcnemar_exact_power(n, p10, p01, alpha) == pytest.approx(total, abs=1e-12)


@pytest.mark.parametrize("p10, p01", [(0.05, 0.25), (0.2, 0.35), (0.3, 0.1)])
def test_paired_plan_reaches_its_power_with_the_exact_mcnemar_test_compare_runs(p10, p01):
    """20,000 simulated sweeps of n pairs (multinomial tables), each tested with mcnemar_exact at 0.05: at the
    planned n the share rejected is at least the 0.8 asked for (less a sampling margin) and agrees with the exact
    power. Connor's n (the normal approximation) is below it: there the exact test falls short of 0.8, which is
    why the planner searches the exact test's n."""
    rng = np.random.default_rng(2)
    n = seeds_paired_exact(p10, p01)
    tables = rng.multinomial(n, [p10, p01, 1 - p10 - p01], size=20_000)[:, :2]
    rejected = np.mean([mcnemar_exact(b, c) <= 0.05 for b, c in tables])
    assert rejected >= 0.8 - 0.01 and rejected == pytest.approx(mcnemar_exact_power(n, p10, p01), abs=0.012)
    connor = seeds_paired(p10, p01)
    assert connor < n and mcnemar_exact_power(connor, p10, p01) < 0.8


def test_connors_paired_formula_by_hand():
    """psi = 0.3, delta = -0.2: (1.959964 sqrt(0.3) + 0.841621 sqrt(0.26))^2 / 0.04 = (1.073516 + 0.429147)^2 / 0.04
    = 56.45, so 57 pairs; a discordance of 0.2 (all in one direction) needs fewer."""
    assert (1.959964 * math.sqrt(0.3) + 0.841621 * math.sqrt(0.26)) ** 2 / 0.04 == pytest.approx(56.45, abs=0.01)
    assert seeds_paired(0.05, 0.25) == seeds_paired(0.25, 0.05) == 57
    assert seeds_paired(0.0, 0.2) < 57


@pytest.mark.integration
def test_plan_seeds_prints_the_seeds_per_arm(capsys):
    assert run(["plan-seeds", "--p1", "0.5", "--p2", "0.7"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("seeds per arm: 93\n") and "pooled under H0" in out
    assert run(["plan-seeds", "--p1", "0.5", "--p2", "0.7", "--paired", "--discordant", "0.3"]) == 0
    paired = capsys.readouterr().out
    assert paired.startswith(f"seeds per arm: {seeds_paired_exact(0.05, 0.25)} ")  # p01 - p10 = p2 - p1 = 0.2
    assert "p10 = P(A succeeds, B fails) = 0.05, p01 = P(A fails, B succeeds) = 0.25" in paired
    assert run(["plan-seeds", "--paired", "--p10", "0.05", "--p01", "0.25"]) == 0
    assert capsys.readouterr().out == paired


@pytest.mark.integration
@pytest.mark.parametrize("argv, message", [
    (["--p1", "0.5", "--p2", "0.5"], "--p1: equals --p2"),
    (["--p1", "1.2", "--p2", "0.5"], "--p1: must be in (0, 1), got 1.2"),
    (["--p1", "0.5", "--p2", "0"], "--p2: must be in (0, 1)"),
    (["--p1", "nan", "--p2", "0.5"], "--p1: must be in (0, 1)"),
    (["--p1", "0.5", "--p2", "0.7", "--power", "1"], "--power: must be in (0, 1)"),
    (["--p1", "0.5", "--p2", "0.7", "--alpha", "0"], "--alpha: must be in (0, 1)"),
    (["--p2", "0.7"], "--p1: required"),
    (["--p1", "x", "--p2", "0.7"], "--p1: invalid float value"),
    (["--p1", "0.5", "--p2", "0.7", "--paired"], "--paired: needs the discordant probability"),
    (["--p1", "0.5", "--p2", "0.7", "--discordant", "0.3"], "--discordant: only with --paired"),
    (["--p1", "0.5", "--p2", "0.7", "--paired", "--discordant", "0.1"], "= [0.2, 0.8] (and > 0) for p1 = 0.5, p2 = 0.7, got 0.1"),
    (["--paired", "--p10", "0.1"], "--p01: needs --p10 and --p01 together"),
    (["--paired", "--p10", "0.1", "--p01", "0.1"], "--p10: equals --p01"),
    (["--paired", "--p1", "0.5", "--p2", "0.7", "--p10", "0.1", "--p01", "0.2"], "must equal --p1 - --p2"),
])
def test_plan_seeds_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    assert run(["plan-seeds", *argv]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.err.count("\n") == 1 and captured.out == ""
