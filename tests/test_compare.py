"""Paired statistics and the explain / compare commands: files, columns and bad input."""

import csv
import json
import math
import shutil
from statistics import NormalDist

import numpy as np
import pytest

from latchjax.analysis.compare import COLUMNS, compare_conditions, format_table
from latchjax.cli import run
from latchjax.core.stats import (
    clopper_pearson,
    holm,
    mcnemar_exact,
    newcombe_paired_interval,
    paired_comparison,
    wilson_interval,
)
from latchjax.sweep.results import SweepResult

RUN = ["--lengths", "3,7", "--seeds", "6", "--epochs", "1", "--samples", "64", "--buckets", "1", "--quiet"]
CELLS = ["--cells", "srnn,lstm,gru"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "explain"
    assert run(["sweep", *CELLS, *RUN, "--out", str(out)]) == 0
    return out


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_wilson_interval_is_the_score_interval_and_matches_newcombe_1998():
    """Wilson (1927): the p with |k/n - p| <= z sqrt(p (1 - p) / n), i.e. between the roots of
    (1 + z^2/n) p^2 - (2 k/n + z^2/n) p + (k/n)^2 = 0; and the published values of R. G. Newcombe, "Two-sided
    confidence intervals for the single proportion: comparison of seven methods", Stat. Med. 17 (1998) 857-872,
    Table I, method 3 (the score method), to their 4 decimals."""
    z = NormalDist().inv_cdf(0.975)
    k, n = np.array([0, 1, 5, 10, 15, 27, 81]), np.array([20, 29, 10, 10, 148, 30, 263])
    p, a = k / n, 1 + z * z / n
    b = -(2 * p + z * z / n)
    root = np.sqrt(b * b - 4 * a * p * p)
    low, high = wilson_interval(k, n, z)
    np.testing.assert_allclose(low, (-b - root) / (2 * a), rtol=0, atol=1e-12)
    np.testing.assert_allclose(high, (-b + root) / (2 * a), rtol=0, atol=1e-12)
    np.testing.assert_allclose(wilson_interval(k, n), (low, high), rtol=0, atol=1e-8)  # 95% by default
    newcombe = {(81, 263): (0.2553, 0.3662), (15, 148): (0.0624, 0.1605), (0, 20): (0.0, 0.1611),
                (1, 29): (0.0061, 0.1718)}
    for (k, n), published in newcombe.items():
        np.testing.assert_allclose(np.ravel(wilson_interval(k, n)), published, rtol=0, atol=5e-5)


def test_clopper_pearson_is_the_pair_of_beta_quantiles_and_puts_alpha_over_2_in_each_binomial_tail():
    """Against scipy's Beta quantiles (low = B^-1(a/2; k, n-k+1), high = B^-1(1-a/2; k+1, n-k)), the closed forms
    at k = 0 and k = n (high = 1 - (a/2)^(1/n), low = (a/2)^(1/n)), and the definition: the binomial tails at the
    limits, summed exactly with math.comb, are a/2."""
    beta = pytest.importorskip("scipy.stats").beta
    k = np.array([0, 1, 2, 5, 10, 3, 50, 97, 100, 0, 7, 999])
    n = np.array([10, 10, 29, 10, 10, 148, 100, 100, 100, 1, 7, 1000])
    for level in (0.95, 0.9, 0.99):
        a = 1 - level
        low, high = clopper_pearson(k, n, level)
        expect_low = np.where(k > 0, beta.ppf(a / 2, np.maximum(k, 1), n - k + 1), 0.0)
        expect_high = np.where(k < n, beta.ppf(1 - a / 2, k + 1, np.maximum(n - k, 1)), 1.0)
        np.testing.assert_allclose(low, expect_low, rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(high, expect_high, rtol=1e-9, atol=1e-14)
    low, high = clopper_pearson([0, 20], 20)
    assert high[0] == pytest.approx(1 - 0.025 ** (1 / 20), abs=1e-12) and low[1] == pytest.approx(0.025 ** (1 / 20))
    for kk, nn in ((3, 17), (12, 40)):
        lo, hi = (float(v) for v in clopper_pearson(kk, nn))
        upper_tail = sum(math.comb(nn, j) * lo**j * (1 - lo) ** (nn - j) for j in range(kk, nn + 1))
        lower_tail = sum(math.comb(nn, j) * hi**j * (1 - hi) ** (nn - j) for j in range(kk + 1))
        assert upper_tail == pytest.approx(0.025, rel=1e-9) and lower_tail == pytest.approx(0.025, rel=1e-9)
    assert np.isnan(clopper_pearson(0, 0)).all()  # no trials: no interval (as Wilson's)
    with pytest.raises(ValueError, match="0 <= k <= n"):
        clopper_pearson(5, 4)


def test_holm_adjusted_p_values_reject_exactly_what_holms_step_down_procedure_rejects():
    """By hand (Holm 1979's rule on four p-values), then against the procedure itself, written as Holm states it,
    on random families at several levels; adjusted values are monotone in p and never below p."""
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])  # 4*.005, 3*.01, 2*.03
    np.testing.assert_allclose(holm([0.5, np.nan, 0.01]), [0.5, np.nan, 0.02])  # NaN: not a test

    def step_down(p, alpha):
        rejected = np.zeros(p.size, bool)
        for j, i in enumerate(np.argsort(p)):
            if p[i] > alpha / (p.size - j):
                break
            rejected[i] = True
        return rejected

    rng = np.random.default_rng(0)
    for _ in range(300):
        p = rng.uniform(size=rng.integers(1, 9)) ** 3  # many small ones, so some are rejected
        adjusted = holm(p)
        for alpha in (0.01, 0.05, 0.2):
            np.testing.assert_array_equal(adjusted <= alpha, step_down(p, alpha))
        order = np.argsort(p)
        assert np.all(np.diff(adjusted[order]) >= 0) and np.all(adjusted >= p) and np.all(adjusted <= 1)


def test_mcnemar_exact_p_is_the_two_sided_binomial_tail_of_the_discordant_pairs():
    # 2 vs 9 discordant pairs: P(X <= 2 | n = 11, 1/2) = (1 + 11 + 55) / 2048, doubled
    assert mcnemar_exact(2, 9) == 2 * 67 / 2048
    assert mcnemar_exact(9, 2) == mcnemar_exact(2, 9)
    assert mcnemar_exact(0, 5) == 2 / 32
    assert mcnemar_exact(4, 4) == 1.0 and mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(300, 330) == pytest.approx(
        2 * sum(math.comb(630, k) for k in range(301)) / 2**630, rel=1e-12)


def test_newcombe_interval_matches_the_published_worked_example():
    # Fagerland, Lydersen & Laake, Statistical Analysis of Contingency Tables (2017), ch. 8: complete response
    # before/after consolidation therapy (Cavo et al. 2012), table [[59, 6], [16, 80]]: Newcombe's square-and-add
    # interval for the paired difference is -0.0621 (95% CI -0.1186 to -0.0046)
    low, high = newcombe_paired_interval(59, 6, 16, 80)
    assert (6 - 16) / 161 == pytest.approx(-0.0621, abs=5e-5)
    assert low == pytest.approx(-0.1186, abs=5e-5) and high == pytest.approx(-0.0046, abs=5e-5)


def test_newcombe_interval_by_hand_with_the_correlation_correction():
    # a = 30, b = 5, c = 1, d = 14: ad - bc = 415 > n/2 = 25, so phi = 390 / sqrt(35 * 15 * 31 * 19)
    a, b, c, d, z = 30, 5, 1, 14, 1.959964
    n = 50

    def wilson(k):
        p = k / n
        centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)

    (l1, u1), (l2, u2) = wilson(35), wilson(31)
    phi = 390 / math.sqrt(35 * 15 * 31 * 19)
    p1, p2 = 0.7, 0.62
    low = 0.08 - math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    high = 0.08 + math.sqrt((p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2)
    assert newcombe_paired_interval(a, b, c, d, z) == pytest.approx((low, high), abs=1e-12)
    # the correction shrinks the interval: it is narrower than the one for independent samples (phi = 0)
    assert high - low < 0.08 + math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2) - (0.08 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2))


def test_paired_comparison_counts_the_two_by_two_table():
    ok_a = np.array([1, 1, 1, 0, 0, 1, 0], bool)
    ok_b = np.array([1, 0, 0, 0, 1, 1, 0], bool)
    stats = paired_comparison(ok_a, ok_b)
    assert (stats["n"], stats["successes_a"], stats["successes_b"], stats["a_only"], stats["b_only"]) == (7, 4, 3, 2, 1)
    assert stats["diff"] == pytest.approx(1 / 7) and stats["ci_low"] < stats["diff"] < stats["ci_high"]
    assert stats["p_mcnemar"] == 1.0


def result_of(success: np.ndarray, lengths, lrs=(0.01,), fbs=(1.0,), cells=("srnn", "lstm")) -> SweepResult:
    """A SweepResult whose success (final val_acc >= 0.9) is ``success`` (cell, length, lr, forget_bias, seed)."""
    info = [{"kind": c, "flavor": "keras3", "units": 1, "has_forget_bias": c == "lstm"} for c in cells]
    coords = {"cell": list(cells), "cell_info": info, "length": list(lengths), "lr": list(lrs),
              "forget_bias": list(fbs), "seed": list(range(success.shape[-1])), "epoch": [1]}
    val = np.where(success, 1.0, 0.5)[..., None]
    return SweepResult(coords, {"val_acc": val, "val_loss": 1 - val, "diverged": np.zeros(success.shape, bool)})


def test_compare_adjusts_mcnemar_by_holm_over_the_lengths_of_each_curve_and_shows_both():
    """Two cells at four lengths and two lrs, 20 seeds: p_holm is, within each lr (the family: every key but the
    length), min(1, max_{j<=i} (m - j + 1) p_(j)) of that lr's four McNemar p-values, computed here by hand; the
    two lrs do not share a family."""
    rng = np.random.default_rng(3)
    lengths, lrs = (10, 20, 40, 80), (0.01, 0.001)
    success = np.zeros((2, 4, 2, 1, 20), bool)
    success[0] = rng.uniform(size=(4, 2, 1, 20)) < 0.8
    success[1] = rng.uniform(size=(4, 2, 1, 20)) < np.linspace(0.8, 0.1, 4)[:, None, None, None]
    rows = compare_conditions(result_of(success, lengths, lrs), 0.9, "srnn", "lstm")
    assert len(rows) == 8 and len(rows[0]) == len(COLUMNS) and COLUMNS[-1] == "p_holm"
    for lr in lrs:
        mine = [r for r in rows if r[COLUMNS.index("lr")] == lr]
        p = [r[COLUMNS.index("p_mcnemar")] for r in mine]
        order = sorted(range(4), key=lambda i: p[i])
        expected, running = [0.0] * 4, 0.0
        for j, i in enumerate(order):
            running = max(running, min(1.0, (4 - j) * p[i]))
            expected[i] = running
        assert [r[-1] for r in mine] == pytest.approx(expected, abs=1e-15)
        assert all(ph >= pm for ph, pm in zip(expected, p)) and len(set(p)) > 1
    table = format_table([[str(v) for v in r] for r in rows])
    header = table.splitlines()[1].split()
    assert header.index("p_holm") == header.index("p_mcnemar") + 1
    assert "adjusted by Holm's method over the lengths at each (lr, forget_bias)" in table.splitlines()[0]


@pytest.mark.integration
def test_explain_writes_one_row_per_model_with_its_features_and_the_auc_summary(run_dir, capsys):
    assert run(["explain", str(run_dir), "--boots", "100"]) == 0
    printed = capsys.readouterr().out
    assert "36 models explained" in printed
    table = rows(run_dir / "explain.csv")
    results = rows(run_dir / "results.csv")
    assert len(table) == len(results) == 3 * 2 * 6
    for column in ("cell", "flavor", "units", "length", "lr", "forget_bias", "seed", "success", "lambda0",
                   "lambda_final", "proto_acc0", "w_in_norm", "f0", "i0", "o0", "z0", "r0", "gate_forget0"):
        assert column in table[0], column
    for mine, theirs in zip(table, results):
        assert [mine[k] for k in ("cell", "length", "seed", "success")] == \
            [theirs[k] for k in ("cell", "length", "seed", "success")]
    assert all(float(r["lambda0"]) == 1.0 for r in table if r["cell"] == "srnn")
    assert all(r["f0"] == "0.7" for r in table if r["cell"] == "lstm")  # hard_sigmoid(1)
    assert {r["proto_acc0"] for r in table} <= {"0", "0.5", "1"}
    summary = rows(run_dir / "explain_summary.csv")
    assert {"cell", "length", "feature", "auc", "ci_low", "ci_high"} <= set(summary[0])
    assert {r["feature"] for r in summary if r["cell"] == "lstm"} >= {"lambda0", "proto_acc0", "gate_forget0"}
    assert not any(r["feature"] == "gate_forget0" for r in summary if r["cell"] == "gru")
    for name in ("success_vs_lambda0", "success_aligned_vs_reversed"):
        assert (run_dir / "figures" / f"{name}.png").stat().st_size > 10_000


@pytest.mark.integration
def test_compare_two_cells_of_a_run_prints_and_writes_the_paired_table(run_dir, tmp_path, capsys):
    out = tmp_path / "c.csv"
    assert run(["compare", str(run_dir), "srnn", "lstm", "--csv", str(out)]) == 0
    table = rows(out)
    assert len(table) == 2 and {"n", "successes_a", "successes_b", "p_mcnemar", "ci_low", "ci_high"} <= set(table[0])
    results = rows(run_dir / "results.csv")
    for row in table:
        ok = {c: [r["success"] == "1" for r in results if r["cell"] == c and r["length"] == row["length"]]
              for c in ("srnn", "lstm")}
        assert int(row["n"]) == 6 and int(row["successes_a"]) == sum(ok["srnn"])
        assert int(row["a_only"]) == sum(a and not b for a, b in zip(ok["srnn"], ok["lstm"]))
    by_length = sorted(table, key=lambda r: float(r["p_mcnemar"]))  # Holm over the run's two lengths, by hand
    assert float(by_length[0]["p_holm"]) == pytest.approx(min(1, 2 * float(by_length[0]["p_mcnemar"])), abs=1e-6)
    assert float(by_length[1]["p_holm"]) == pytest.approx(max(float(by_length[0]["p_holm"]),
                                                              float(by_length[1]["p_mcnemar"])), abs=1e-6)
    printed = capsys.readouterr().out
    assert "p_mcnemar" in printed and "p_holm" in printed


@pytest.mark.integration
def test_compare_two_runs_with_the_same_seeds_pairs_them(run_dir, tmp_path, capsys):
    other = tmp_path / "aligned"
    assert run(["sweep", *RUN, "--cells", "srnn", "--head-init", "aligned", "--out", str(other)]) == 0
    caption = json.loads((other / "config.json").read_text())
    assert caption["head_init"] == "aligned" and caption["data"] == "shared"
    assert run(["compare", str(run_dir), str(other), "--csv", str(tmp_path / "two.csv")]) == 0
    table = rows(tmp_path / "two.csv")
    assert [r["cell"] for r in table] == ["srnn", "srnn"] and all(int(r["n"]) == 6 for r in table)
    capsys.readouterr()
    assert run(["summary", str(other)]) == 0  # the summary says how the run's seeds relate and were set up
    assert "data shared (one dataset per length for all seeds), head init aligned" in capsys.readouterr().out


@pytest.mark.integration
def test_compare_pairs_a_torch_run_with_a_keras_run_and_with_a_copy_of_itself(run_dir, tmp_path):
    """PyTorch's drawn forget bias is NaN in results: it pairs with NaN, and a run at each flavour's single
    default forget bias pairs with another; a cell without a forget gate gives one row per point."""
    torch_dir = tmp_path / "torch"
    assert run(["sweep", *CELLS, *RUN, "--flavor", "torch", "--out", str(torch_dir)]) == 0
    assert run(["compare", str(run_dir), str(torch_dir), "--csv", str(tmp_path / "k.csv")]) == 0
    table = rows(tmp_path / "k.csv")
    assert len(table) == 3 * 2 and {r["forget_bias"] for r in table} == {"1|nan"}
    again = tmp_path / "torch-again"  # the same results in a second directory (a run is not compared with itself)
    shutil.copytree(torch_dir, again)
    assert run(["compare", str(torch_dir), str(again), "--csv", str(tmp_path / "t.csv")]) == 0
    same = rows(tmp_path / "t.csv")
    assert len(same) == 6 and all(r["a_only"] == r["b_only"] == "0" for r in same)


@pytest.mark.integration
@pytest.mark.parametrize("argv, message", [
    (["explain", "{run}", "--features", "lambda0,nonsense"], "--features: unknown feature(s) nonsense"),
    (["explain", "{tmp}"], "not a latchjax results directory"),
    (["explain", "{unfinished}"], "the sweep is not finished"),
    (["compare", "{run}", "srnn", "lr=0.5"], "lr 0.5 was not trained"),
    (["compare", "{run}", "srnn", "lr=0.001"], "are not values of one axis"),
    (["compare", "{run}", "nonsense", "lstm"], "not a cell of the run"),
    (["compare", "{run}", "{tmp}"], "not a latchjax results directory"),
    (["compare", "{run}", "{other_seed}"], "do not share seeds"),
    (["compare", "{run}", "srnn", "lstm", "--csv", "{tmp}/no/such.csv"], "--csv: no such directory"),
])
def test_explain_and_compare_bad_input_is_one_line_and_exit_2(run_dir, tmp_path, capsys, argv, message):
    other = tmp_path / "other"
    other.mkdir()
    (other / "results.npz").write_bytes((run_dir / "results.npz").read_bytes())
    config = json.loads((run_dir / "config.json").read_text())
    (other / "config.json").write_text(json.dumps(config | {"seed": 1}))
    empty = tmp_path / "empty"
    empty.mkdir()
    unfinished = tmp_path / "unfinished"
    (unfinished / "chunks").mkdir(parents=True)
    (unfinished / "config.json").write_text(json.dumps(config))
    paths = {"run": str(run_dir), "tmp": str(empty), "other_seed": str(other), "unfinished": str(unfinished)}
    assert run([a.format(**paths) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
