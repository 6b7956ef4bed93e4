"""The Equinox adapter: :class:`latchjax.EquinoxCell` wraps any Equinox RNN cell as a latchjax cell."""

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

eqx = pytest.importorskip("equinox")

import latchjax  # noqa: E402
from latchjax.analysis.explain import run_initial_params  # noqa: E402
from latchjax.core.cells import Cell, EquinoxCell, RNNCell, make_cell  # noqa: E402
from latchjax.core.forward import forward_value_and_grad  # noqa: E402
from latchjax.core.model import init_head, model_loss  # noqa: E402
from latchjax.core.vocabulary import SettingsError  # noqa: E402
from latchjax.rundir.files import load_params, save_params  # noqa: E402
from latchjax.sweep.config import SweepConfig  # noqa: E402
from latchjax.sweep.runner import run_sweep  # noqa: E402


def gru(units):
    return EquinoxCell(lambda key, n_in: eqx.nn.GRUCell(n_in, units, key=key))


def lstm(units):
    return EquinoxCell(lambda key, n_in: eqx.nn.LSTMCell(n_in, units, key=key))


def run_both(ours, params, theirs, their_params, x):
    """Both cells stepped over ``x`` (batch, T, n_in): every step's output of each."""
    def outputs(cell, p):
        def body(carry, x_t):
            carry, h = cell.step(p, carry, x_t)
            return carry, h
        return jax.lax.scan(body, cell.initial_carry(x.shape[0], x.shape[-1]), jnp.swapaxes(x, 0, 1))[1]
    return outputs(ours, params), outputs(theirs, their_params)


@pytest.mark.parametrize("units", [1, 3])
def test_equinox_gru_matches_latchjax_torch_gru_with_the_same_weights(units):
    # Equinox's GRUCell is PyTorch's GRU: gates r, z, n in that order, sigmoid gates, the reset gate applied
    # after the recurrent product (n = tanh(W_in x + b_in + r*(W_hn h + b_hn))), h' = (1 - z) n + z h. Its
    # ``bias`` (3H) is the input bias of all three blocks and ``bias_n`` (H) the recurrent bias of n only, so
    # in the torch layout: bias_ih = bias, bias_hh = (0, 0, bias_n).
    n_in = 2
    cell = gru(units)
    params = cell.init(jax.random.key(0), n_in)
    params["bias_n"] = jax.random.normal(jax.random.key(5), (units,))  # Equinox starts bias_n at its own draw
    torch_gru = RNNCell("gru", units, "torch")
    theirs = {"weight_ih": params["weight_ih"], "weight_hh": params["weight_hh"], "bias_ih": params["bias"],
              "bias_hh": jnp.concatenate([jnp.zeros(2 * units), params["bias_n"]])}
    x = 2.0 * jax.random.normal(jax.random.key(1), (4, 30, n_in))
    ours, reference = run_both(cell, params, torch_gru, theirs, x)
    assert ours.shape == (30, 4, units)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6)
    # the reset gate's placement is what picks the flavour: before the recurrent product (Keras 2's) is another cell
    _, before = run_both(cell, params, RNNCell("gru", units, "torch", reset_after=False), theirs, x)
    assert np.abs(ours - before).max() > 1e-3
    # and the module itself, one example at a time, is what the adapter vmaps
    module = cell.module(params, n_in)
    np.testing.assert_allclose(module(x[0, 0], jnp.zeros(units)), ours[0, 0], rtol=0, atol=1e-7)


@pytest.mark.integration
def test_a_sweep_trains_an_equinox_gru_on_the_latch_task_one_row_per_seed(tmp_path):
    cell = gru(2)
    cfg = SweepConfig(task="latch", cells=(cell,), lengths=(5,), seeds=3, epochs=2, samples=160, batch_size=16,
                      length_buckets=1, lrs=(1e-2,))
    result = latchjax.run_sweep(cfg)
    assert result.coords["cell"] == ["equinox.GRUCell"]
    assert result.coords["cell_info"] == [{"kind": "equinox.GRUCell", "flavor": "keras3", "units": 2,
                                           "has_forget_bias": False}]
    loss = result.metrics["train_loss"]
    assert loss.shape == (1, 1, 1, 1, 3, 2)  # (cell, length, lr, forget_bias, seed, epoch): a row per seed
    assert all(np.all(np.isfinite(v)) for v in result.metrics.values()) and not result.diverged.any()
    trained = result.params["equinox.GRUCell"][0]["cell"]
    assert sorted(trained) == ["bias", "bias_n", "weight_hh", "weight_ih"]
    assert all(v.shape[0] == 3 for v in trained.values())
    # each seed started from its own draw (what the trainer started from, regenerated from the config)
    start = run_initial_params(cfg, cell)[0]["cell"]
    for name, value in start.items():
        assert value.shape == (3, *getattr(eqx.nn.GRUCell(1, 2, key=jax.random.key(0)), name).shape)
        assert not np.allclose(value[0], value[1]) and not np.allclose(value[1], value[2])
    # the parameters are plain named arrays, so params.npz holds them like any cell's
    save_params(result, tmp_path / "params.npz")
    loaded = load_params(tmp_path / "params.npz", result, cfg)
    np.testing.assert_array_equal(loaded["equinox.GRUCell"][5]["cell"]["weight_hh"], trained["weight_hh"])


@pytest.mark.integration
def test_equinox_lstm_cell_works_with_its_h_c_carry():
    cell = lstm(3)
    assert isinstance(cell, Cell) and cell.name == "equinox.LSTMCell" and cell.units == 3
    carry = cell.initial_carry(4, 2)
    assert isinstance(carry, tuple) and [c.shape for c in carry] == [(4, 3), (4, 3)]
    h = jnp.full((4, 3), 0.5)
    new = cell.with_output(carry, h)  # the output is h, the first of Equinox's (h, c)
    np.testing.assert_array_equal(cell.output(new), h)
    np.testing.assert_array_equal(new[1], carry[1])
    # Equinox's LSTMCell is PyTorch's LSTM (gates i, f, g, o; one bias): the same outputs as latchjax's torch LSTM
    params = cell.init(jax.random.key(0), 2)
    torch_lstm = RNNCell("lstm", 3, "torch")
    theirs = {"weight_ih": params["weight_ih"], "weight_hh": params["weight_hh"], "bias_ih": params["bias"],
              "bias_hh": jnp.zeros(12)}
    x = jax.random.normal(jax.random.key(1), (4, 20, 2))
    ours, reference = run_both(cell, params, torch_lstm, theirs, x)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6)
    # and it trains in a sweep beside latchjax's own LSTM (a gradient step through the tuple carry)
    result = run_sweep(SweepConfig(cells=("lstm", cell), lengths=(4,), seeds=2, epochs=1, samples=64,
                                   length_buckets=1))
    assert result.coords["cell"] == ["lstm", "equinox.LSTMCell"]
    assert np.all(np.isfinite(result.metrics["train_loss"])) and not result.diverged.any()


def test_forward_mode_gradients_of_an_equinox_cell_match_backprop():
    # --gradient forward (RTRL) differentiates a cell through its step: the tuple carry and the named parameters
    cell = lstm(2)
    k_cell, k_head, k_x, k_y = jax.random.split(jax.random.key(3), 4)
    params = {"cell": cell.init(k_cell, 1), "head": init_head(k_head, cell, "sigmoid")}
    x = jax.random.normal(k_x, (6, 9, 1))
    y = jax.random.bernoulli(k_y, 0.5, (6,)).astype(jnp.int32)
    weight = jnp.ones(6)
    (loss, _), grads = jax.jit(lambda: forward_value_and_grad(cell, "sigmoid", params, x, y, weight, 2))()
    (want, _), expected = jax.value_and_grad(lambda p: model_loss(cell, "sigmoid", p, x, y, weight, 2),
                                             has_aux=True)(params)
    np.testing.assert_allclose(loss, want, rtol=1e-5)
    assert jax.tree.structure(grads) == jax.tree.structure(expected)
    for got, ref in zip(jax.tree.leaves(grads), jax.tree.leaves(expected)):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_a_bad_input_is_refused_in_one_line():
    module = eqx.nn.GRUCell(1, 2, key=jax.random.key(0))
    cases = [
        (lambda: EquinoxCell(module), TypeError, "a factory"),  # one draw of parameters, not a factory
        (lambda: EquinoxCell(3), TypeError, "a factory"),
        (lambda: EquinoxCell(lambda key: module), TypeError, "make(key, n_in) failed"),
        (lambda: EquinoxCell(lambda key, n_in: jnp.zeros(3)), TypeError, "not an equinox.Module"),
        (lambda: EquinoxCell(lambda key, n_in: eqx.nn.Linear(n_in, 2, key=key)), TypeError, "hidden_size"),
        (lambda: EquinoxCell(lambda key, n_in: eqx.nn.GRUCell(n_in, 2, key=key), initial_state=lambda u: 0.0),
         ValueError, "initial_state"),
        (lambda: make_cell(module), ValueError, "EquinoxCell(lambda key, n_in"),
        (lambda: SweepConfig(cells=("lstm", module)), SettingsError, "one draw of parameters"),
    ]
    for make, error, words in cases:
        with pytest.raises(error) as info:
            make()
        assert words in str(info.value) and "\n" not in str(info.value), str(info.value)


def test_latchjax_imports_without_equinox_and_the_adapter_says_what_is_missing(monkeypatch):
    code = "import sys, latchjax; assert 'equinox' not in sys.modules, 'latchjax imported equinox'"
    subprocess.run([sys.executable, "-c", code], check=True)
    monkeypatch.setitem(sys.modules, "equinox", None)  # import fails as if not installed
    with pytest.raises(ImportError, match=r"^EquinoxCell needs equinox: pip install 'latchjax\[equinox\]'$"):
        gru(2)
