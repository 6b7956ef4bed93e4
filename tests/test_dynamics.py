"""Attractors of trained models, λ through training and the untrained model's class separability
(latchjax.analysis.dynamics), against closed forms and brute force."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import optimize

from latchjax.analysis.dynamics import attractors, landscape_of_attractors, separability, trajectory
from latchjax.core.cells import RNNCell
from latchjax.core.model import run_cell


def stacked(params_list):
    return jax.tree.map(lambda *a: jnp.stack(a), *params_list)


def srnn_params(w, b):
    return {"kernel": jnp.ones((1, 1)), "recurrent_kernel": jnp.full((1, 1), w), "bias": jnp.full((1,), b)}


def test_a_one_unit_srnn_has_the_stable_fixed_points_and_saddle_of_tanh():
    """h = tanh(w h + b): w = 2 (b = 0, 0.2) bistable, the saddle's slope w (1 - h_s^2) at the middle root;
    w = 0.5 one stable point; w = -2 a stable period-2 orbit around an unstable 0: no stable fixed point."""
    cell = RNNCell("srnn", 1, "keras2")
    cases = [(2.0, 0.0), (2.0, 0.2), (0.5, 0.0), (-2.0, 0.0), (1.5, 0.0)]
    out = landscape_of_attractors(cell, stacked([srnn_params(w, b) for w, b in cases]), n_in=1)
    assert out["n_stable"].tolist() == [2, 2, 1, 0, 2]
    assert out["n_cycles"].tolist() == [0, 0, 0, 1, 0]  # w = -2: one stable orbit h* <-> -h*, a bit held by its phase
    for i, (w, b) in enumerate(cases[:2] + cases[4:]):
        i = [0, 1, 4][i]
        roots = sorted({round(r, 9) for r in (optimize.brentq(lambda h: np.tanh(w * h + b) - h, lo, hi)
                                               for lo, hi in [(-1, -0.3), (-0.3, 0.3), (0.3, 1)])})
        middle = roots[1]
        assert out["saddle"][i] == pytest.approx(w * (1 - np.tanh(w * middle + b) ** 2), rel=1e-4)
    assert np.isnan(out["saddle"][2]) and np.isnan(out["saddle"][3])


def brute_force(cell, params, grid=11):
    """Every zero-input fixed point of a 2-state cell: Newton (scipy) from a grid, deduplicated; stable ones and the
    spectral radii of the others."""
    from jax.flatten_util import ravel_pytree

    _, unravel = ravel_pytree(cell.initial_carry(1, 1))
    x0 = jnp.zeros((1, 1))

    def F(s):
        return np.asarray(ravel_pytree(cell.step(params, unravel(jnp.asarray(s, jnp.float32)), x0)[0])[0], np.float64)

    jac = jax.jit(jax.jacfwd(lambda s: ravel_pytree(cell.step(params, unravel(s), x0)[0])[0]))
    points = []
    for h in np.linspace(-1, 1, grid):
        for c in np.linspace(-4, 4, grid):
            sol = optimize.root(lambda s: F(s) - s, [h, c], tol=1e-12)
            if sol.success and np.max(np.abs(F(sol.x) - sol.x)) < 1e-6 and \
                    not any(np.max(np.abs(sol.x - p)) < 1e-3 * max(1.0, np.max(np.abs(p))) for p in points):
                points.append(sol.x)
    radii = [float(np.max(np.abs(np.linalg.eigvals(np.asarray(jac(jnp.asarray(p, jnp.float32)), np.float64)))))
             for p in points]
    return sum(r < 1 for r in radii), sorted(r for r in radii if r >= 1)


def test_an_lstm_has_the_attractors_and_saddle_that_brute_force_finds():
    """One-unit keras3 LSTMs with a strong candidate feedback and a forget gate near 1 (bistable in (h, c)): the
    count of stable fixed points and, with two of them, the saddle's largest |eigenvalue| equal what Newton from a
    11 x 11 grid finds."""
    cell = RNNCell("lstm", 1, "keras3")
    models = []
    for seed, (uc, bf) in enumerate([(6.0, 3.0), (8.0, 4.0), (0.5, 1.0), (5.0, 2.0)]):
        p = cell.init(jax.random.key(seed), 1)
        rk = p["recurrent_kernel"].at[0, 2].set(uc)  # blocks i, f, c, o: U_c
        models.append(p | {"recurrent_kernel": rk, "bias": p["bias"].at[1].set(bf).at[2].set(0.0)})
    out = landscape_of_attractors(cell, stacked(models), n_in=1)
    for i, p in enumerate(models):
        n_stable, unstable = brute_force(cell, p)
        assert out["n_stable"][i] == n_stable
        if n_stable == 2:
            assert out["saddle"][i] == pytest.approx(unstable[0], rel=1e-3)
    assert out["n_stable"].tolist()[:3] == [2, 2, 1]  # the cases span both outcomes


def test_attractors_merge_nearby_end_points_and_drop_unstable_or_unfixed_ones():
    end = np.array([[0.5], [0.5 + 1e-6], [-0.5], [0.0], [0.3]])
    residual = np.array([0, 0, 0, 0, 1e-2])
    radius = np.array([0.2, 0.2, 0.3, 2.0, 0.1])
    found = attractors(end, residual, radius)
    assert len(found) == 2 and found[0][0] == pytest.approx(0.5, abs=1e-5) and found[1][0] == -0.5


def test_trajectory_ends_at_explains_lambda_final(tmp_path):
    """λ at the last snapshot of a run with --snapshots is explain's lambda_final of the trained model."""
    from latchjax.analysis.explain import cell_features
    from latchjax.sweep.config import SweepConfig
    from latchjax.sweep.runner import run_sweep

    cfg = SweepConfig(cells=("lstm",), lengths=(5,), seeds=3, epochs=3, samples=64, snapshots=True)
    result = run_sweep(cfg)
    snaps = result.snapshots["lstm"][0]["cell"]  # the first length's: (model, round, ...)
    lam = trajectory(cfg.resolved.cells[0], snaps, n_in=1)
    assert lam["lambda"].shape == (3, 3) and "gate_forget" in lam
    final_params = jax.tree.map(lambda a: a[None], result.params["lstm"][0])  # (length, model, ...)
    final = cell_features("lstm", cfg, final_params)["lambda_final"][0]
    np.testing.assert_allclose(lam["lambda"][:, -1], final, rtol=1e-6)
    assert not np.allclose(lam["lambda"][:, 0], lam["lambda"][:, -1])  # it moves


def test_separability_is_the_fisher_distance_of_the_final_states():
    """d′ = sqrt(Δμᵀ Σ⁻¹ Δμ) with the pooled covariance, against NumPy; one unit: |μ1 - μ0| / σ."""
    x = jax.random.normal(jax.random.key(0), (400, 6, 2))
    y = (jax.random.uniform(jax.random.key(1), (400,)) < 0.4).astype(jnp.int32)
    x = x.at[:, 0, 0].add(1.5 * (2 * y - 1))  # the class shows in the first step
    for units in (1, 3):
        cell = RNNCell("srnn", units, "keras3")
        p = cell.init(jax.random.key(2), 2)
        h = np.asarray(run_cell(cell, p, x), np.float64)
        yn = np.asarray(y)
        d = h[yn == 1].mean(0) - h[yn == 0].mean(0)
        centred = np.concatenate([h[yn == 1] - h[yn == 1].mean(0), h[yn == 0] - h[yn == 0].mean(0)])
        cov = centred.T @ centred / (len(h) - 2)
        expected = np.sqrt(d @ np.linalg.solve(cov, d))
        assert float(separability(cell, p, x, y)) == pytest.approx(expected, rel=1e-4)
    assert expected > 0.1


@pytest.mark.integration
def test_explain_dynamics_writes_attractors_separability_and_the_parameters_through_training(tmp_path):
    """``explain --dynamics``: explain.csv gains n_stable_final, saddle_final and dprime0 (the values the functions
    give for those models); with --snapshots dynamics.csv has a row per model and epoch, λ and every parameter of a
    one-unit cell by name, its last epoch's forget bias the trained one. Without the flag explain is unchanged."""
    import csv

    from latchjax.cli import run
    from latchjax.rundir.files import load_params

    out = tmp_path / "run"
    assert run(["sweep", "--task", "latch", "--cells", "srnn,lstm", "--lengths", "5,8", "--seeds", "3", "--epochs",
                "3", "--samples", "120", "--lr", "0.05", "--snapshots", "--quiet", "--out", str(out)]) == 0
    assert run(["explain", str(out)]) == 0
    plain = (out / "explain.csv").read_text()
    assert "dprime0" not in plain and not (out / "dynamics.csv").exists()
    assert run(["explain", str(out), "--dynamics"]) == 0
    with open(out / "explain.csv") as f:
        rows = list(csv.DictReader(f))
    with open(out / "dynamics.csv") as f:
        dyn = list(csv.DictReader(f))
    assert len(dyn) == 2 * 2 * 3 * 4  # cells x lengths x seeds x (the initialisation and 3 epochs)
    first = [r for r in dyn if r["round"] == "0"]
    assert [float(r["lambda"]) for r in first] == pytest.approx(
        [float(r["lambda0"]) for r in rows_in_dynamics_order(out)], rel=1e-5)
    params = load_params(out / "params.npz")
    last = [r for r in dyn if r["cell"] == "lstm" and r["length"] == "8" and r["seed"] == "2" and r["round"] == "3"]
    assert float(last[0]["cell.bias[f]"]) == pytest.approx(float(params["lstm"][8]["cell"]["bias"][2, 1]), rel=1e-5)
    lstm = [r for r in rows if r["cell"] == "lstm" and r["length"] == "8"]
    final = jax.tree.map(jnp.asarray, params["lstm"][8]["cell"])
    cell = RNNCell("lstm", 1, "keras2")
    found = landscape_of_attractors(cell, final, n_in=1)
    assert [float(r["n_stable_final"]) for r in lstm] == found["n_stable"].tolist()
    assert all(float(r["dprime0"]) > 0 for r in rows)


def rows_in_dynamics_order(out):
    """explain.csv's rows in dynamics.csv's order (cell, length, seed)."""
    import csv

    with open(out / "explain.csv") as f:
        rows = list(csv.DictReader(f))
    order = {"srnn": 0, "lstm": 1}
    return sorted(rows, key=lambda r: (order[r["cell"]], int(r["length"]), int(r["seed"])))
