"""Cells against an independent NumPy transcription of the Keras equations (SPEC.md section 3)."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latchjax.core.cells import FlaxCell, RNNCell, make_cell, orthogonal
from latchjax.core.model import run_cell


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0, 1)


def keras_step(kind, flavor, p, carry, x):
    """One step written straight from the Keras docs/source equations, per gate block."""
    gate = np_hard_sigmoid if flavor == "keras2" else np_sigmoid
    W, U = np.asarray(p["kernel"], np.float64), np.asarray(p["recurrent_kernel"], np.float64)
    b = np.asarray(p["bias"], np.float64)
    if kind == "srnn":
        h = np.tanh(x @ W + carry @ U + b)
        return h, h
    u = U.shape[0]
    blk = lambda M, k: M[..., k * u : (k + 1) * u]  # noqa: E731
    if kind == "lstm":
        h, c = carry
        i = gate(x @ blk(W, 0) + h @ blk(U, 0) + blk(b, 0))
        f = gate(x @ blk(W, 1) + h @ blk(U, 1) + blk(b, 1))
        cc = np.tanh(x @ blk(W, 2) + h @ blk(U, 2) + blk(b, 2))
        o = gate(x @ blk(W, 3) + h @ blk(U, 3) + blk(b, 3))
        c = f * c + i * cc
        h = o * np.tanh(c)
        return (h, c), h
    h = carry
    if flavor == "keras2":  # reset_after=False
        z = gate(x @ blk(W, 0) + h @ blk(U, 0) + blk(b, 0))
        r = gate(x @ blk(W, 1) + h @ blk(U, 1) + blk(b, 1))
        hh = np.tanh(x @ blk(W, 2) + blk(b, 2) + (r * h) @ blk(U, 2))
    else:  # reset_after=True, bias rows: input, recurrent
        bi, br = b[0], b[1]
        z = gate(x @ blk(W, 0) + blk(bi, 0) + h @ blk(U, 0) + blk(br, 0))
        r = gate(x @ blk(W, 1) + blk(bi, 1) + h @ blk(U, 1) + blk(br, 1))
        hh = np.tanh(x @ blk(W, 2) + blk(bi, 2) + r * (h @ blk(U, 2) + blk(br, 2)))
    h = z * h + (1 - z) * hh
    return h, h


@pytest.mark.parametrize("kind", ["srnn", "lstm", "gru"])
@pytest.mark.parametrize("flavor", ["keras2", "keras3"])
@pytest.mark.parametrize("units,n_in", [(1, 1), (3, 2), (6, 5)])
def test_cell_matches_numpy_reference(kind, flavor, units, n_in):
    cell = RNNCell(kind, units, flavor)
    key = jax.random.key(units * 10 + n_in)
    params = cell.init(key, n_in)
    # random (not just initial) biases so every term of the equations is exercised
    params["bias"] = jax.random.normal(jax.random.key(7), params["bias"].shape)
    x = np.asarray(jax.random.normal(jax.random.key(1), (5, 4, n_in)))
    carry = cell.initial_carry(4, n_in)
    ref = jax.tree.map(lambda a: np.asarray(a, np.float64), carry)
    for t in range(5):
        carry, h = cell.step(params, carry, jnp.asarray(x[t]))
        ref, h_ref = keras_step(kind, flavor, params, ref, x[t])
        np.testing.assert_allclose(h, h_ref, rtol=1e-5, atol=1e-6)


def test_hard_sigmoid_gates_saturate_exactly():
    cell = RNNCell("lstm", 1, "keras2")
    assert float(cell.gate(jnp.float32(3.0))) == 1.0
    assert float(cell.gate(jnp.float32(-3.0))) == 0.0
    assert float(cell.gate(jnp.float32(1.0))) == pytest.approx(0.7)  # forget gate at init


def test_keras_initialisation():
    # one unit: the 1x1 orthogonal recurrent weight of SimpleRNN is exactly +1 or -1
    values = {float(RNNCell("srnn").init(jax.random.key(s), 1)["recurrent_kernel"][0, 0]) for s in range(20)}
    assert values == {1.0, -1.0}
    lstm = RNNCell("lstm", units=3).init(jax.random.key(0), 2, forget_bias=2.5)
    np.testing.assert_array_equal(lstm["bias"], [0, 0, 0, 2.5, 2.5, 2.5, 0, 0, 0, 0, 0, 0])
    # the (3, 12) recurrent kernel has orthonormal rows; glorot bound sqrt(6 / (2 + 12))
    rec = np.asarray(lstm["recurrent_kernel"])
    np.testing.assert_allclose(rec @ rec.T, np.eye(3), atol=1e-5)
    assert np.abs(lstm["kernel"]).max() <= np.sqrt(6 / 14)
    assert RNNCell("gru", 2, "keras3").init(jax.random.key(0), 1)["bias"].shape == (2, 6)
    assert RNNCell("gru", 2, "keras2").init(jax.random.key(0), 1)["bias"].shape == (6,)


def test_a_batch_of_orthogonal_inits_factors_one_matrix_per_lapack_call_and_the_same_factors():
    """On CPU, vmapped over models (as every sweep's initialisation is), the QR of Keras's orthogonal init is one
    LAPACK call per matrix: jaxlib 0.10's batched kernel can deadlock when two CPU devices run it at once
    (benchmarks/lapack_hang.py). The factors equal the batched QR's bit for bit."""
    from latchjax.core.cells.common import orthogonal

    keys = jax.random.split(jax.random.key(0), 6)
    program = jax.jit(jax.vmap(lambda k: orthogonal(k, (4, 16)))).lower(keys).as_text()
    calls = [line for line in program.splitlines() if "geqrf" in line and "custom_call" in line]
    assert calls and all('num_batch_dims = "0"' in line for line in calls)
    a = jax.vmap(lambda k: jax.random.normal(k, (16, 4)))(keys)
    q, r = jnp.linalg.qr(a)  # the batched kernel, once
    expected = jnp.swapaxes(q * jnp.sign(jnp.diagonal(r, axis1=-2, axis2=-1))[:, None, :], 1, 2)
    np.testing.assert_array_equal(jax.vmap(lambda k: orthogonal(k, (4, 16)))(keys), expected)


def test_orthogonal_square_is_orthogonal():
    q = np.asarray(orthogonal(jax.random.key(3), (5, 5)))
    np.testing.assert_allclose(q @ q.T, np.eye(5), atol=1e-5)


@pytest.mark.parametrize("module", [nn.LSTMCell(features=3), nn.GRUCell(features=3), nn.SimpleCell(features=3)])
def test_flax_cell_path_matches_flax_rnn(module):
    cell = make_cell(module)
    assert isinstance(cell, FlaxCell) and cell.units == 3
    params = cell.init(jax.random.key(0), 2)
    x = jax.random.normal(jax.random.key(1), (4, 7, 2))
    ours = run_cell(cell, params, x)
    theirs = nn.RNN(module).apply({"params": {"cell": params["params"]}}, x)[:, -1]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["srnn", "lstm", "gru"])
def test_left_padding_changes_nothing(kind):
    cell = RNNCell(kind, 2, "keras3")
    params = cell.init(jax.random.key(0), 1)
    params["bias"] = params["bias"] + 0.3  # non-zero bias: a padded step would move the state
    x = jax.random.normal(jax.random.key(1), (3, 6, 1))
    padded = jnp.concatenate([jax.random.normal(jax.random.key(2), (3, 9, 1)), x], axis=1)
    np.testing.assert_allclose(run_cell(cell, params, padded, start=9), run_cell(cell, params, x), rtol=1e-6, atol=1e-7)
    assert not np.allclose(run_cell(cell, params, padded, start=0), run_cell(cell, params, x), atol=1e-3)


def test_unknown_cell_and_flavor_are_rejected():
    with pytest.raises(ValueError, match="cell: unknown cell 'rnn'.*srnn, lstm, gru"):
        RNNCell("rnn")
    with pytest.raises(ValueError, match="flavor: unknown flavor 'keras1'"):
        RNNCell("lstm", flavor="keras1")
    with pytest.raises(ValueError, match="units"):
        RNNCell("lstm", units=0)


def test_cell_specs_for_experiments():
    from latchjax.core.cells import parse_cell

    srnn = parse_cell("srnn:rec=1.5")
    assert srnn.name == "srnn:rec=1.5" and not srnn.has_forget_bias
    assert float(srnn.init(jax.random.key(0), 1)["recurrent_kernel"][0, 0]) == 1.5
    wide = parse_cell("lstm:units=3:rec=0.5", units=1)
    np.testing.assert_array_equal(wide.init(jax.random.key(0), 1)["recurrent_kernel"], 0.5 * np.tile(np.eye(3), 4))
    chrono = parse_cell("lstm:chrono=200:units=50")
    assert not chrono.has_forget_bias and parse_cell("lstm").has_forget_bias
    bias = np.asarray(chrono.init(jax.random.key(1), 1, forget_bias=9.0)["bias"])
    b_i, b_f = bias[:50], bias[50:100]
    assert (b_f >= 0).all() and (b_f <= np.log(199) + 1e-6).all() and b_f.std() > 0.3  # log U[1, 199]
    np.testing.assert_allclose(b_i, -b_f)
    hard, soft = parse_cell("lstm"), parse_cell("lstm:gate=sigmoid")
    assert float(hard.gate(jnp.float32(3.0))) == 1.0 and float(soft.gate(jnp.float32(3.0))) < 1.0
    assert parse_cell("gru:flavor=keras3").flavor == "keras3"
    for bad, message in [("lstm:foo=1", "bad option 'foo=1'"), ("srnn:rec=big", "rec must be a number"),
                         ("srnn:chrono=100", "chrono: srnn has no such option; it applies to lstm, cifg, janet"), ("lstm:gate=relu", "unknown gate")]:
        with pytest.raises(ValueError, match=message):
            parse_cell(bad)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_trajectories_match_the_cell(kind):
    from latchjax.analysis.diagnostics import trajectories

    cell = RNNCell(kind, 2)
    params = cell.init(jax.random.key(0), 1)
    x = jax.random.normal(jax.random.key(1), (3, 7, 1))
    out = trajectories(cell, params, x)
    assert out["h"].shape == (7, 3, 2)
    np.testing.assert_allclose(out["h"][-1], run_cell(cell, params, x), rtol=1e-6)
    if kind == "gru":  # h_t = z h_{t-1} + (1 - z) candidate
        z, cand, h = out["update"], out["candidate"], out["h"]
        np.testing.assert_allclose(h[1:], z[1:] * h[:-1] + (1 - z[1:]) * cand[1:], rtol=1e-5, atol=1e-6)
    else:
        assert ((out["forget"] >= 0) & (out["forget"] <= 1)).all()


def test_every_recurrence_follows_the_one_cell_protocol():
    """Cells, Bengio's latch and the nets of random guessing are all Recurrences; cells are Cells."""
    from latchjax.core.cells import Cell, Recurrence, RNNCell
    from latchjax.studies.bengio import LATCH
    from latchjax.studies.guessing import TASKS, make_arch

    cells = [RNNCell(kind, 2, flavor) for kind, flavor in [("srnn", "keras2"), ("lstm", "torch"), ("brc", "keras3")]]
    cells += [make_cell(nn.LSTMCell(features=2)), make_cell(nn.GRUCell(features=2))]
    nets = [make_arch(spec, TASKS[task]) for task, spec in
            [("latch1", "latch1"), ("latch2", "unit"), ("parity", "a1"), ("parity", "a2"), ("parity", "gru")]]
    for cell in cells:
        assert isinstance(cell, Cell) and isinstance(cell, Recurrence)
    for recurrence in [*nets, LATCH]:
        assert isinstance(recurrence, Recurrence) and not isinstance(recurrence, Cell)
    assert not isinstance(nn.LSTMCell(features=2), Recurrence)  # a bare Flax cell needs its FlaxCell
    for cell in cells:  # with_output replaces exactly what output reads
        carry = cell.initial_carry(3, 1)
        h = jnp.full((3, 2), 0.5)
        new = cell.with_output(carry, h)
        np.testing.assert_array_equal(cell.output(new), h)
        assert jax.tree.structure(new) == jax.tree.structure(carry)
        leaves = jax.tree.leaves(new)
        assert sum(leaf is h for leaf in leaves) == 1  # the other parts of the carry are kept
