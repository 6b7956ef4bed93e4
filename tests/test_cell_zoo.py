"""The torch flavour and the literature's cells against NumPy transcriptions of their sources
(PyTorch's documented equations; each paper's equations), their initialisation, options and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from latchjax.core.cells import CELL_KINDS, KINDS, RNNCell, parse_cell
from latchjax.core.model import init_head, run_cell


def sig(x):
    return 1 / (1 + np.exp(-x))


def hard(x):
    return np.clip(0.2 * x + 0.5, 0, 1)


def torch_step(kind, p, carry, x):
    """torch.nn.RNN / LSTM / GRU as PyTorch documents them: rows of weight_ih/weight_hh in blocks
    (LSTM i, f, g, o; GRU r, z, n), two bias vectors."""
    Wi, Wh = (np.asarray(p[k], np.float64) for k in ("weight_ih", "weight_hh"))
    bi, bh = (np.asarray(p[k], np.float64) for k in ("bias_ih", "bias_hh"))
    H = Wh.shape[1]
    blk = lambda M, k: M[k * H : (k + 1) * H]  # noqa: E731
    gi = lambda k: x @ blk(Wi, k).T + blk(bi, k)  # noqa: E731
    h = carry[0] if kind == "lstm" else carry
    gh = lambda k: h @ blk(Wh, k).T + blk(bh, k)  # noqa: E731
    if kind == "srnn":
        h = np.tanh(gi(0) + gh(0))
        return h, h
    if kind == "lstm":
        i, f, g, o = sig(gi(0) + gh(0)), sig(gi(1) + gh(1)), np.tanh(gi(2) + gh(2)), sig(gi(3) + gh(3))
        c = f * carry[1] + i * g
        h = o * np.tanh(c)
        return (h, c), h
    r, z = sig(gi(0) + gh(0)), sig(gi(1) + gh(1))
    n = np.tanh(gi(2) + r * gh(2))
    h = (1 - z) * n + z * h
    return h, h


def literature_step(kind, flavor, p, carry, x, beta=1.0):
    """Each paper's equations, written per block from the packed parameters of either layout."""
    gate = hard if flavor == "keras2" else sig
    if "weight_ih" in p:
        W, U = np.asarray(p["weight_ih"], np.float64).T, np.asarray(p["weight_hh"], np.float64).T
        b = np.asarray(p["bias_ih"], np.float64) + np.asarray(p["bias_hh"], np.float64)
    else:
        W, U, b = (np.asarray(p[k], np.float64) for k in ("kernel", "recurrent_kernel", "bias"))
    H = W.shape[1] // 3 if kind in ("brc", "nbrc") else U.shape[0]
    col = lambda M, k: M[..., k * H : (k + 1) * H]  # noqa: E731
    if kind in ("brc", "nbrc"):  # Vecoven et al. 2021, eqs. for BRC and nBRC; blocks c, a, h
        h = carry
        rec_c = h * U[:H] if kind == "brc" else h @ col(U, 0)
        rec_a = h * U[H:] if kind == "brc" else h @ col(U, 1)
        c = gate(x @ col(W, 0) + rec_c + b[:H])
        a = 1 + np.tanh(x @ col(W, 1) + rec_a + b[H:])
        h = c * h + (1 - c) * np.tanh(x @ col(W, 2) + a * h)
        return h, h
    pre = lambda k, h: x @ col(W, k) + h @ col(U, k) + col(b, k)  # noqa: E731
    if kind == "janet":  # van der Westhuizen & Lasenby 2018, eqs. 8-11; blocks f, c
        c = carry
        s = pre(0, c)
        c = sig(s) * c + (1 - sig(s - beta)) * np.tanh(pre(1, c)) if gate is sig else \
            hard(s) * c + (1 - hard(s - beta)) * np.tanh(pre(1, c))
        return c, c
    h, c = carry
    if kind == "cifg":  # Greff et al. 2017: i = 1 - f; blocks f, c, o
        f, g, o = gate(pre(0, h)), np.tanh(pre(1, h)), gate(pre(2, h))
        c = f * c + (1 - f) * g
    else:  # lstm97, Hochreiter & Schmidhuber 1997: c' = c + i g; blocks i, c, o
        i, g, o = gate(pre(0, h)), np.tanh(pre(1, h)), gate(pre(2, h))
        c = c + i * g
    h = o * np.tanh(c)
    return (h, c), h


def _run_against(cell, reference, n_in, seed=0):
    params = cell.init(jax.random.key(seed), n_in)
    # random (not just initial) biases and feedback so every term of the equations is exercised
    params = {k: v + 0.3 * jax.random.normal(jax.random.fold_in(jax.random.key(7), i), v.shape)
              for i, (k, v) in enumerate(params.items())}
    x = np.asarray(jax.random.normal(jax.random.key(1), (6, 4, n_in)))
    carry = cell.initial_carry(4, n_in)
    ref = jax.tree.map(lambda a: np.asarray(a, np.float64), carry)
    for t in range(6):
        carry, h = cell.step(params, carry, jnp.asarray(x[t]))
        ref, h_ref = reference(params, ref, x[t])
        np.testing.assert_allclose(h, h_ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["srnn", "lstm", "gru"])
@pytest.mark.parametrize("units,n_in", [(1, 1), (3, 2)])
def test_torch_flavour_matches_pytorchs_equations(kind, units, n_in):
    _run_against(RNNCell(kind, units, "torch"), lambda p, c, x: torch_step(kind, p, c, x), n_in)


@pytest.mark.parametrize("kind,flavor", [(k, f) for k in ("cifg", "janet", "lstm97", "brc", "nbrc")
                                         for f in KINDS[k].flavors])
@pytest.mark.parametrize("units,n_in", [(1, 1), (3, 2)])
def test_literature_cell_matches_its_paper(kind, flavor, units, n_in):
    _run_against(RNNCell(kind, units, flavor), lambda p, c, x: literature_step(kind, flavor, p, c, x), n_in)


def test_janet_beta_shifts_the_input_gate():
    cell = parse_cell("janet:beta=3:flavor=keras3")
    _run_against(cell, lambda p, c, x: literature_step("janet", "keras3", p, c, x, beta=3.0), 1)


def test_torch_initialisation_has_pytorchs_distribution():
    """10^4 seeds: every weight and bias U(-1/sqrt(H), 1/sqrt(H)); the LSTM(1)'s effective forget bias
    b_ih,f + b_hh,f is the sum of two U(-1, 1), triangular on (-2, 2); the head is nn.Linear's."""
    keys = jax.random.split(jax.random.key(0), 10_000)
    one = RNNCell("lstm", 1, "torch")
    p = jax.vmap(lambda k: one.init(k, 1))(keys)
    forget = np.asarray(p["bias_ih"][:, 1] + p["bias_hh"][:, 1])
    assert stats.kstest(forget, stats.triang(c=0.5, loc=-2, scale=4).cdf).pvalue > 1e-3
    three = jax.vmap(lambda k: RNNCell("gru", 3, "torch").init(k, 2))(keys[:2000])
    bound = 1 / np.sqrt(3)
    for name, value in three.items():
        assert stats.kstest(np.asarray(value).ravel(), stats.uniform(-bound, 2 * bound).cdf).pvalue > 1e-3, name
    head = jax.vmap(lambda k: init_head(k, RNNCell("srnn", 4, "torch"), "softmax"))(keys)
    for value in head.values():
        assert stats.kstest(np.asarray(value).ravel(), stats.uniform(-0.5, 1.0).cdf).pvalue > 1e-3


def test_keras_initialisation_is_deterministic_where_keras_is():
    """Keras: LSTM(1) forget bias exactly 1 for every seed; SimpleRNN(1) recurrent weight exactly +-1,
    each sign about half the time; glorot_uniform input kernel."""
    keys = jax.random.split(jax.random.key(0), 10_000)
    lstm = jax.vmap(lambda k: RNNCell("lstm", 1, "keras3").init(k, 1))(keys)
    assert np.all(np.asarray(lstm["bias"]) == np.array([0, 1, 0, 0], np.float32))
    w = np.asarray(jax.vmap(lambda k: RNNCell("srnn", 1, "keras2").init(k, 1))(keys)["recurrent_kernel"]).ravel()
    assert set(np.unique(w)) == {-1.0, 1.0}
    assert stats.binomtest(int((w > 0).sum()), len(w)).pvalue > 1e-3
    limit = np.sqrt(6 / (1 + 4))
    assert stats.kstest(np.asarray(lstm["kernel"]).ravel(), stats.uniform(-limit, 2 * limit).cdf).pvalue > 1e-3


def test_brc_starts_as_its_authors_code_does():
    p = RNNCell("brc", 3).init(jax.random.key(0), 2)
    np.testing.assert_array_equal(p["recurrent_kernel"], np.ones(6))  # w_c = w_a = 1
    np.testing.assert_array_equal(p["bias"], np.zeros(6))
    assert p["kernel"].shape == (2, 9) and np.abs(p["kernel"]).max() <= np.sqrt(6 / (2 + 3))  # glorot per block
    assert RNNCell("nbrc", 3).init(jax.random.key(0), 2)["recurrent_kernel"].shape == (3, 6)


@pytest.mark.parametrize("flavor", ["keras2", "torch"])
def test_interventions_set_the_weights_they_name(flavor):
    lstm = parse_cell("lstm:uc=0.5", flavor=flavor)
    p = lstm.init(jax.random.key(0), 1)
    assert float(lstm.weights(p).U[0, 2]) == 0.5  # the candidate block (Keras c, PyTorch g)
    gru = parse_cell("gru:bz=2", flavor=flavor)
    w = gru.weights(gru.init(jax.random.key(0), 1))
    z = gru.block("z")
    assert float(w.b[z]) == 2.0 and (w.b2 is None or float(w.b2[z]) == 0.0)
    srnn = parse_cell("srnn:rec=1.1", flavor=flavor)
    assert float(srnn.weights(srnn.init(jax.random.key(0), 1)).U[0, 0]) == pytest.approx(1.1)


def test_forget_bias_sets_the_effective_bias_in_every_flavour():
    for flavor in ("keras2", "torch"):
        cell = RNNCell("lstm", 2, flavor)
        w = cell.weights(cell.init(jax.random.key(3), 1, forget_bias=2.5))
        effective = w.b[2:4] + (0 if w.b2 is None else w.b2[2:4])
        np.testing.assert_allclose(effective, [2.5, 2.5])
    drawn = RNNCell("lstm", 1, "torch").init(jax.random.key(3), 1)
    kept = RNNCell("lstm", 1, "torch").init(jax.random.key(3), 1, forget_bias=float("nan"))
    np.testing.assert_array_equal(drawn["bias_ih"], kept["bias_ih"])  # NaN (the torch default): PyTorch's draw


@pytest.mark.parametrize("kind", CELL_KINDS)
def test_every_cell_ignores_left_padding(kind):
    flavor = KINDS[kind].flavors[-1]
    cell = RNNCell(kind, 2, flavor)
    params = jax.tree.map(lambda a: a + 0.3, cell.init(jax.random.key(0), 1))
    x = jax.random.normal(jax.random.key(1), (3, 6, 1))
    padded = jnp.concatenate([jax.random.normal(jax.random.key(2), (3, 9, 1)), x], axis=1)
    np.testing.assert_allclose(run_cell(cell, params, padded, start=9), run_cell(cell, params, x), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("spec,message", [
    ("tanhcell", "cell: unknown cell 'tanhcell'"),
    ("lstm:flavor=keras1", "flavor: unknown flavor 'keras1'"),
    ("brc:flavor=torch", "flavor: brc is defined by its authors' Keras code and has no torch form"),
    ("lstm97:chrono=100", "chrono: lstm97 has no such option"),
    ("srnn:uc=0.5", "uc: srnn has no such option"),
    ("lstm:bz=1", "bz: lstm has no such option"),
    ("lstm:beta=2", "beta: lstm has no such option"),
    ("gru:reset_after=2", "reset_after must be 0 or 1"),
])
def test_bad_cell_specs_name_the_argument(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_cell(spec)
