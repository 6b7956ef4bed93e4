"""Diagnostics of trained models: gradient norms over time, fixed points, the diagnose command."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latchjax.analysis.diagnostics import fixed_points, hidden_grad_norms
from latchjax.cli import run
from latchjax.core.cells import RNNCell, make_cell
from latchjax.core.model import head_loss, run_cell


def test_fixed_points_of_one_tanh_unit():
    assert fixed_points(0.5) == [0.0]
    points = fixed_points(2.0)
    assert len(points) == 3 and points[1] == 0.0
    assert points[2] == pytest.approx(np.tanh(2 * points[2]), abs=1e-7) and points[0] == pytest.approx(-points[2])


@pytest.mark.parametrize("kind", ["srnn", "lstm", "flax.LSTMCell"])
def test_gradient_norms_match_jax_grad_on_one_model(kind):
    cell = make_cell(nn.LSTMCell(features=2)) if kind.startswith("flax") else RNNCell(kind, 2)
    params = {"cell": cell.init(jax.random.key(0), 1),
              "head": {"kernel": jnp.array([[0.5, -0.5], [1.0, 0.3]]), "bias": jnp.zeros(2)}}
    x = jax.random.normal(jax.random.key(1), (6, 9, 1))
    y = jnp.array([0, 1, 0, 1, 1, 0])
    norms = hidden_grad_norms(cell, params, x, y)
    assert norms.shape == (9,)

    def loss_of_h(h):
        return head_loss("softmax", h @ params["head"]["kernel"] + params["head"]["bias"], y)[0].mean()

    # last step: d loss / d h_T directly
    h_last = run_cell(cell, params["cell"], x)
    np.testing.assert_allclose(norms[-1], jnp.linalg.norm(jax.grad(loss_of_h)(h_last)), rtol=1e-5)

    # first step: restart the scan from h_0 as a variable
    carry0, _ = cell.step(params["cell"], cell.initial_carry(6, 1), x[:, 0])

    def from_h0(h0):
        carry = cell.with_output(carry0, h0)  # an LSTM keeps its c
        for t in range(1, 9):
            carry, h = cell.step(params["cell"], carry, x[:, t])
        return loss_of_h(h)

    np.testing.assert_allclose(norms[0], jnp.linalg.norm(jax.grad(from_h0)(cell.output(carry0))), rtol=1e-4)


@pytest.mark.integration
def test_diagnose_command(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(["sweep", "--cells", "srnn,lstm", "--lengths", "4,12", "--seeds", "3", "--epochs", "1",
                "--samples", "64", "--quiet", "--out", str(out)]) == 0
    assert run(["diagnose", str(out), "--samples", "8"]) == 0
    printed = capsys.readouterr().out
    assert "srnn: T=12" in printed and "lstm: T=12" in printed
    for name in ("gradient_norms.png", "trajectories.png", "fixed_points.png", "gradient_norms.npz"):
        assert (out / "diagnostics" / name).is_file(), name
    with np.load(out / "diagnostics" / "gradient_norms.npz") as data:
        assert data["srnn"].shape == (3, 12)
    assert run(["diagnose", str(out), "--length", "7"]) == 2
    assert "--length: 7 was not trained" in capsys.readouterr().err
