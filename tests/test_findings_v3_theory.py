"""FINDINGS v3's theory tables (experiments/findings/v3/theory.py, theory_fit.py): the linear memory's predicted d′
against its closed forms and a simulation, the logistic fit against a direct optimisation, the likelihood-ratio test,
the separation check, and the blocks on synthetic explain tables with known answers (nothing is trained)."""

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special

HERE = Path(__file__).resolve().parents[1] / "experiments" / "findings" / "v3"


if str(HERE) not in sys.path:  # this folder's modules import each other by name (it is not a package)
    sys.path.insert(0, str(HERE))


theory = importlib.import_module("theory")
fit = importlib.import_module("theory_fit")


def test_predicted_dprime_matches_the_closed_forms():
    s = 0.1
    # λ < 1, long T: 2 λ^(T−1) √(1 − λ²) / σ
    assert theory.predicted_dprime(0.8, 200, s) == pytest.approx(2 * 0.8**199 * np.sqrt(1 - 0.64) / s, rel=1e-9)
    # λ = 1: 2 / (σ √T), and continuous through λ = 1
    for T in (1, 20, 100):
        assert theory.predicted_dprime(1.0, T, s) == pytest.approx(2 / (s * np.sqrt(T)), rel=1e-12)
        assert theory.predicted_dprime(1 + 1e-9, T, s) == pytest.approx(2 / (s * np.sqrt(T)), rel=1e-6)
    # λ > 1: 2 √(λ² − 1) / (σ λ), independent of T
    assert theory.predicted_dprime(1.2, 200, s) == pytest.approx(2 * np.sqrt(1.44 - 1) / (s * 1.2), rel=1e-9)
    # the exact sum at short T, vectorised
    lam, T = np.array([0.3, 0.9, 1.0, 1.5]), np.array([[3], [7]])
    exact = 2 * lam ** (T - 1) / (s * np.sqrt(sum(lam ** (2 * k) * (k < T) for k in range(7))))
    np.testing.assert_allclose(theory.predicted_dprime(lam, T, s), exact, rtol=1e-12)
    # far below float range the log stays finite and exact
    log10 = theory.log10_predicted_dprime(0.1, 500, s)
    assert log10 == pytest.approx(-499 + np.log10(2 * np.sqrt(0.99) / s), abs=1e-9)
    assert theory.predicted_dprime(0.1, 500, s) == 0.0
    # the Bayes accuracy of a λ = 1 integrator, as the review computed it
    acc = [float(theory.bayes_accuracy(theory.predicted_dprime(1.0, T, 0.1))) for T in (20, 50, 100, 200)]
    assert np.round(acc, 2).tolist() == [0.99, 0.92, 0.84, 0.76]


@pytest.mark.parametrize("lam", [0.7, 1.0, 1.1])
def test_predicted_dprime_matches_a_simulated_linear_memory(lam):
    rng = np.random.default_rng(0)
    n, T, s = 40_000, 10, 0.05
    signs = np.where(np.arange(n) < n // 2, 1.0, -1.0)
    x = s * rng.standard_normal((n, T))
    x[:, 0] += signs
    h = np.zeros(n)
    for t in range(T):
        h = lam * h + 0.5 * x[:, t]  # the input weight a cancels in d′
    pos, neg = h[signs > 0], h[signs < 0]
    measured = abs(pos.mean() - neg.mean()) / np.sqrt((pos.var(ddof=1) + neg.var(ddof=1)) / 2)
    assert measured == pytest.approx(float(theory.predicted_dprime(lam, T, s)), rel=0.03)


def synthetic(n=20_000, beta=(-0.5, 1.5, 2.0), seed=1):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.standard_normal(n), rng.integers(0, 2, n)])
    y = (rng.random(n) < special.expit(X @ np.array(beta))).astype(float)
    return X, y


def test_irls_recovers_known_coefficients_and_agrees_with_a_direct_fit():
    X, y = synthetic()
    one = fit.logistic(X, y, ["const", "x", "aligned"])
    assert one.converged and not one.separated and one.rank == 3
    assert np.all(np.abs(one.coef - np.array([-0.5, 1.5, 2.0])) < 4 * one.se)
    direct = optimize.minimize(lambda b: -fit.loglik(X, y, b), np.zeros(3), method="BFGS",
                               jac=lambda b: -X.T @ (y - special.expit(X @ b)), options={"gtol": 1e-8})
    np.testing.assert_allclose(one.coef, direct.x, atol=1e-4)
    assert one.loglik == pytest.approx(-direct.fun, abs=1e-6)
    # the delta-method crossing: where b0 + b1 x + b2 = 0
    t, se = fit.crossing(one, "x", {"const": 1.0, "aligned": 1.0})
    b = one.coef
    assert t == pytest.approx(-(b[0] + b[2]) / b[1]) and 0 < se < 0.1


def test_the_likelihood_ratio_test_sees_a_factor_that_matters_and_not_one_that_does_not():
    X, y = synthetic(n=5000, seed=2)
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 3, len(y))
    base = fit.logistic(X, y)
    dummies = np.column_stack([noise == 1, noise == 2]).astype(float)
    with_noise = fit.logistic(np.column_stack([X, dummies]), y)
    test = fit.lr_test(with_noise, base)
    assert test["df"] == 2 and test["p"] > 0.05
    # a factor that shifts the log-odds by 1
    shifted = (rng.random(len(y)) < special.expit(X @ np.array([-0.5, 1.5, 2.0]) + (noise == 2))).astype(float)
    test = fit.lr_test(fit.logistic(np.column_stack([X, dummies]), shifted), fit.logistic(X, shifted))
    assert test["df"] == 2 and test["p"] < 1e-6
    assert fit.fmt_p(2e-13) == "2e-13" and fit.fmt_p(0.0042) == "0.004" and fit.fmt_p(0.314) == "0.31"


def test_separation_is_detected():
    x = np.linspace(-1, 1, 40)
    X = np.column_stack([np.ones(40), x])
    separated = fit.logistic(X, (x > 0).astype(float), ["const", "x"])
    assert separated.separated and fit.single_threshold(x, (x > 0).astype(float))[2] == "separated"
    # one category with no success: quasi-separation along its dummy
    rng = np.random.default_rng(4)
    group = np.arange(200) % 4 == 0
    y = np.where(group, 0.0, (rng.random(200) < 0.5).astype(float))
    quasi = fit.logistic(np.column_stack([np.ones(200), rng.standard_normal(200), group]), y, ["const", "x", "g"])
    assert "g" in quasi.separated
    X, y = synthetic(n=500)
    assert not fit.logistic(X, y).separated


def test_blocks_on_an_empty_runs_folder_say_what_is_missing(tmp_path):
    blocks = theory.blocks(tmp_path, None)
    assert set(blocks) == {"v3-dprime", "v3-logistic", "v3-window", "v3-sigma-n"}
    for block in blocks.values():
        assert block.startswith("*(run ") and block.endswith("\n") and "|" not in block
    assert "latchjax explain runs/v3/sigma-n/noise0.3-n50000 --dynamics" in blocks["v3-sigma-n"]


def write_run(path: Path, frame: pd.DataFrame, **config):
    path.mkdir(parents=True)
    frame.to_csv(path / "explain.csv", index=False)
    (path / "config.json").write_text(json.dumps({"noise": 0.1, "samples": 10000, "val_fraction": 0.2} | config))


def models(cell, lam, length, success, seed0=0, lr=1e-3, flavor="keras2", dprime=0.1, aligned=1.0):
    n = len(success)
    return pd.DataFrame({"cell": cell, "flavor": flavor, "units": 1, "length": length, "lr": lr, "forget_bias": 1.0,
                         "seed": np.arange(seed0, seed0 + n), "success": np.asarray(success, bool),
                         "val_acc": 0.5, "lambda0": lam, "proto_acc0": aligned, "dprime0": dprime})


def test_the_window_counts_are_right_and_shared_models_count_once(tmp_path):
    runs = tmp_path / "runs"
    # λ0 = 10^(-5.5/50) at T = 50: every model in the bin [-6, -5); 3 of 10 succeed
    lstm = models("lstm", 10 ** (-5.5 / 50), 50, [1, 1, 1] + [0] * 7)
    # a SimpleRNN at λ0 = 1 (outside λ0 < 1) and GRUs far below the window
    srnn = models("srnn", 1.0, 50, [1] * 5 + [0] * 5)
    gru = models("gru", 0.5, 50, [0] * 10)
    write_run(runs / "v2" / "e4-keras2", pd.concat([lstm, srnn, gru]))
    write_run(runs / "v2" / "e2-lambda", pd.concat([lstm, srnn]))  # the same models again: counted once
    write_run(runs / "v2" / "e4-torch", models("lstm", 10 ** (-2.5 / 20), 20, [1, 0], flavor="torch"))
    window = theory.blocks(runs)["v3-window"]
    rows = {line.split(" | ")[0]: line for line in window.splitlines() if line.startswith("| ")}
    assert "| Keras 2/3, Adam lr 1e-3 | PyTorch, Adam lr 1e-3 |" in window
    assert "3/10 [" in rows["| [-6, -5)"] and "0/10 [" in rows["| < -8"] and "1/2 [" in rows["| [-3, -2)"]
    assert "run v2/e5-latch missing" in window
    # the d′ table: the shared models once, measured d′0 = 0.1 against the theory at λ0 = 0.776, T = 50
    dprime = theory.blocks(runs)["v3-dprime"]
    predicted = float(theory.predicted_dprime(10 ** (-5.5 / 50), 50, 0.1))
    assert f"| lstm | 0.1 | 0.7–0.8 | 50 | 10 | 0.776 | 0.1 | {predicted:.1e} |" in dprime
    assert "| 100 | 0.84 | 1.00 | 0.63 |" in dprime and "| largest T with accuracy ≥ 0.9 | 60 |" in dprime


def test_the_sigma_n_thresholds_recover_a_known_step_and_the_logistic_table_has_its_rows(tmp_path):
    runs = tmp_path / "runs"
    rng = np.random.default_rng(5)
    for sigma in (0.1, 0.3):
        for n in (2000, 10000):
            lam = rng.uniform(0.5, 0.95, 400)
            lt = 20 * np.log10(lam)
            success = rng.random(400) < special.expit(2.0 * (lt + 3.0))  # P = 0.5 at λ0^T = 1e-3
            frame = models("lstm", lam, 20, success, dprime=theory.predicted_dprime(lam, 20, sigma),
                           aligned=rng.integers(0, 2, 400))
            write_run(runs / "v3" / "sigma-n" / f"noise{sigma:g}-n{n}", frame, noise=sigma, samples=n)
    block = theory.blocks(runs)["v3-sigma-n"]
    rows = [line for line in block.splitlines() if line.startswith("| 0.")]
    assert len(rows) == 4 and all("/400 [" in r for r in rows)
    for row in rows:
        t = float(row.split(" | ")[3].split(" [")[0])
        assert t == pytest.approx(-3.0, abs=0.35)
    assert "on log10 N, σ = 0.1" in block and "noise0.03-n2000 missing" in block
    write_run(runs / "v2" / "e4-torch", pd.concat([models("lstm", lam, 20, success, dprime=10 ** (lt + 1),
                                                          aligned=1.0, flavor="torch")]))
    logistic = theory.blocks(runs)["v3-logistic"]
    torch_rows = [line for line in logistic.splitlines() if line.startswith("| PyTorch")]
    assert len(torch_rows) == 3  # measured d′0, theory d′, λ0^T
    x_grid, p_grid = theory.fitted_curve("torch", runs, kind="lambda")
    assert p_grid[0] < 0.1 < 0.9 < p_grid[-1] and np.all(np.diff(p_grid) > 0) and len(x_grid) == len(p_grid)
