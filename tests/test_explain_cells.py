"""explain's rest-state eigenvalue for every cell and flavour, and the interventions that set it."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latchjax.analysis.explain import rest_jacobian, spectral_radius
from latchjax.core.cells import KINDS, RNNCell, hard_sigmoid, parse_cell


def lambda0(cell, params):
    jac, residual, _ = rest_jacobian(cell, params, 1)
    return float(spectral_radius(np.asarray(jac))), float(residual)


@pytest.mark.parametrize("kind,flavor", [(k, f) for k in KINDS for f in KINDS[k].flavors])
def test_lambda0_is_the_radius_of_a_finite_difference_jacobian_at_rest(kind, flavor):
    """Any cell, any flavour (PyTorch's random biases move the rest state away from 0): the jacfwd
    eigenvalue equals that of a central-difference Jacobian taken at the iterated rest state."""
    cell = RNNCell(kind, 2, flavor)
    params = cell.init(jax.random.key(4), 1)
    lam, residual = lambda0(cell, params)
    # lstm97 has no rest state where its candidate bias is not 0 (c' = c + i g drifts); explain's
    # rest_residual0 column says so, and lambda0 is then taken where the iteration stopped
    assert residual < 1e-5 or (kind == "lstm97" and flavor == "torch")
    flat0, unravel = jax.flatten_util.ravel_pytree(cell.initial_carry(1, 1))
    step = jax.jit(lambda s: jax.flatten_util.ravel_pytree(cell.step(params, unravel(s), jnp.zeros((1, 1)))[0])[0])
    rest = flat0
    for _ in range(500):
        rest = step(rest)
    rest = np.asarray(rest, np.float64)
    eps = 1e-3 * np.maximum(1.0, np.abs(rest))  # relative steps: a drifting lstm97 state is large
    columns = [(np.asarray(step(jnp.asarray(rest + h * e, jnp.float32)), np.float64)
                - np.asarray(step(jnp.asarray(rest - h * e, jnp.float32)), np.float64)) / (2 * h)
               for h, e in zip(eps, np.eye(len(rest)))]
    numeric = np.max(np.abs(np.linalg.eigvals(np.stack(columns, axis=1))))
    assert lam == pytest.approx(numeric, abs=2e-3)


def test_torch_lstm_rests_away_from_zero():
    cell = RNNCell("lstm", 1, "torch")
    params = cell.init(jax.random.key(0), 1)
    flat0, unravel = jax.flatten_util.ravel_pytree(cell.initial_carry(1, 1))
    carry = unravel(flat0)
    for _ in range(200):
        carry = cell.step(params, carry, jnp.zeros((1, 1)))[0]
    assert np.abs(np.asarray(carry[1])).max() > 1e-3  # the candidate bias writes into c at rest


@pytest.mark.parametrize("uc", [-0.5, 0.0, 0.5, 1.0])
@pytest.mark.parametrize("forget_bias", [1.0, 2.0, 3.0])
def test_lstm_uc_sets_lambda0_to_gate_of_forget_bias_plus_uc_over_4(uc, forget_bias):
    cell = parse_cell(f"lstm:uc={uc}")
    lam, _ = lambda0(cell, cell.init(jax.random.key(1), 1, forget_bias))
    assert lam == pytest.approx(abs(float(hard_sigmoid(jnp.float32(forget_bias))) + uc / 4), rel=1e-5)


@pytest.mark.parametrize("spec", ["gru:bz=2:uc=0", "gru:uc=2", "gru:uc=2.4", "gru:uc=4", "gru:bz=1", "gru",
                                  "srnn:rec=1.1"])
def test_gru_bz_and_uc_set_lambda0_as_designed(spec):
    """keras2 GRU(1) at rest (h = 0, x = 0, zero candidate and reset biases): d h'/d h = z0 + (1 - z0) r0 U_h with
    z0 = hard_sigmoid(b_z) and r0 = hard_sigmoid(b_r) = 1/2, i.e. |1/2 + U_h/4| at the default b_z = 0; a
    SimpleRNN(1) at rest: its recurrent weight. Each computed from the drawn parameters, which carry the spec's
    options (gru:bz sets b_z, gru:uc sets U_h, srnn:rec the recurrent weight)."""
    cell = parse_cell(spec)
    w = cell.weights(cell.init(jax.random.key(2), 1))
    options = {k: float(v) for k, v in (o.split("=") for o in spec.split(":")[1:])}
    if cell.kind == "srnn":
        u = float(w.U[0, 0])
        assert u == pytest.approx(options["rec"])
        expected = abs(u)
    else:
        b_z, b_r, u_h = float(w.b[cell.block("z")]), float(w.b[cell.block("r")]), float(w.U[0, cell.block("h")])
        assert (b_z, b_r, float(w.b[cell.block("h")])) == (options.get("bz", 0.0), 0.0, 0.0)
        if "uc" in options:
            assert u_h == pytest.approx(options["uc"])
        z0, r0 = float(hard_sigmoid(jnp.float32(b_z))), float(hard_sigmoid(jnp.float32(b_r)))
        expected = abs(z0 + (1 - z0) * r0 * u_h)
    lam, _ = lambda0(cell, cell.init(jax.random.key(2), 1))
    assert lam == pytest.approx(expected, rel=1e-5)
