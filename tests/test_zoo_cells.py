"""The memory literature's cells (ZooCell) against NumPy transcriptions written from each paper and its authors'
code, named per cell; their initialisation against the authors' distributions; explain's λ0 where it is exact;
their options and refusals."""

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from scipy import stats

from latchjax.analysis.explain import rest_jacobian, spectral_radius
from latchjax.core.cells import ZOO_KINDS, ZooCell, make_cell, parse_cell


def sig(x):
    return 1 / (1 + np.exp(-x))


def softplus(x):
    return np.log1p(np.exp(x))


def relu(x):
    return np.maximum(x, 0)


def g(x):  # lucidrains/minGRU-pytorch minGRU.py: g(x) = where(x >= 0, x + 0.5, sigmoid(x))
    return np.where(x >= 0, x + 0.5, sig(x))


def reference_step(kind, p, carry, x, cell):
    """One step of each cell, transcribed (float64) from the file its docstring names."""
    if kind == "irnn":  # keras-team/keras examples/mnist_irnn.py: SimpleRNN(relu): h' = relu(x K + h R + b)
        h = relu(x @ p["kernel"] + carry @ p["recurrent_kernel"] + p["bias"])
        return h, h
    if kind == "indrnn":  # batzner/indrnn ind_rnn_cell.py call(): relu(x W + state * clip(u, 0, max) + b)
        u = p["recurrent_kernel"]
        if cell.opt("rmax") is not None:
            u = np.clip(u, 0, cell.opt("rmax"))
        h = relu(x @ p["kernel"] + carry * u + p["bias"])
        return h, h
    if kind == "lru":  # NicolasZucchet/minimal-LRU lru/model.py LRU.__call__, in complex arithmetic
        lam = np.exp(-np.exp(p["nu_log"]) + 1j * np.exp(p["theta_log"]))
        B = (p["B_re"] + 1j * p["B_im"]) * np.exp(p["gamma_log"])[:, None]
        C = p["C_re"] + 1j * p["C_im"]
        h = lam * (carry[1] + 1j * carry[2]) + x @ B.T
        y = (h @ C.T).real + x @ p["D"]
        return (y, h.real, h.imag), y
    if kind == "mingru":  # lucidrains/minGRU-pytorch minGRU.py forward (seq_len == 1): lerp(prev, g(hidden), gate)
        hidden, gate = np.split(x @ p["weight"].T, 2, axis=-1)
        h = carry + sig(gate) * (g(hidden) - carry)
        return h, h
    if kind == "minlstm":  # lucidrains/minGRU-pytorch minLSTM.py forward (seq_len == 1)
        hidden, f, i = np.split(x @ p["weight"].T, 3, axis=-1)
        f, i = sig(f), sig(i)
        h = carry * (f / (f + i)) + g(hidden) * (i / (f + i))
        return h, h
    if kind == "s6":  # state-spaces/mamba selective_scan_interface.py selective_scan_ref, one step; Mamba's x_proj/dt_proj
        n, r = cell.opt("state"), -(-cell.units // 16)
        u = x @ p["in_proj"].T
        x_dbl = u @ p["x_proj"].T
        dt, B, C = x_dbl[:, :r], x_dbl[:, r : r + n], x_dbl[:, r + n :]
        delta = softplus(dt @ p["dt_proj"].T + p["dt_bias"])
        A = -np.exp(p["A_log"])
        deltaA = np.exp(np.einsum("bd,dn->bdn", delta, A))
        deltaB_u = np.einsum("bd,bn,bd->bdn", delta, B, u)
        h = deltaA * carry[1] + deltaB_u
        y = np.einsum("bdn,bn->bd", h, C) + u * p["D"]
        return (y, h), y
    if kind == "exprnn":  # lezcano/expRNN exprnn.py ExpRNN.forward: modrelu(input_kernel(x) + hidden @ expm(S))
        upper = np.triu(p["A"], 1)
        z = x @ p["input_kernel"].T + carry @ scipy.linalg.expm(upper - upper.T)
        h = np.sign(z) * relu(np.abs(z) + p["modrelu_b"])
        return h, h
    if kind in ("asrnn", "lipschitz"):  # erichson/LipschitzRNN models.py rnn_models.forward (asymRNN, LipschitzRNN)
        eye, z = np.eye(cell.units), x @ p["E_weight"].T + p["E_bias"]
        eps, gamma = cell.opt("eps"), cell.opt("gamma")
        if kind == "asrnn":
            W = p["C"] - p["C"].T - gamma * eye
            step = np.tanh(carry @ W + z)
            if cell.opt("gated"):  # Chang et al. 2019 eq. 13
                step = step * sig(carry @ W + x @ p["E_gate_weight"].T + p["E_gate_bias"])
            h = carry + eps * step
            return h, h
        beta = cell.opt("beta")
        A = beta * (p["B"] - p["B"].T) + (1 - beta) * (p["B"] + p["B"].T) - gamma * eye
        W = beta * (p["C"] - p["C"].T) + (1 - beta) * (p["C"] + p["C"].T) - gamma * eye
        h = carry + eps * carry @ A + eps * np.tanh(carry @ W + z)
        return h, h
    if kind == "cornn":  # tk-rusch/coRNN adding/model.py coRNNCell.forward: i2h(cat(x, hz, hy))
        hy, hz = carry
        hz = hz + cell.opt("dt") * (np.tanh(np.concatenate([x, hz, hy], 1) @ p["i2h_weight"].T + p["i2h_bias"])
                                    - cell.opt("gamma") * hy - cell.opt("eps") * hz)
        hy = hy + cell.opt("dt") * hz
        return (hy, hz), hy
    if kind == "lem":  # tk-rusch/LEM psMNIST/network.py LEMCell.forward
        y, z = carry
        i_dt1, i_dt2, i_z, i_y = np.split(x @ p["inp2hid_weight"].T + p["inp2hid_bias"], 4, axis=1)
        h_dt1, h_dt2, h_y = np.split(y @ p["hid2hid_weight"].T + p["hid2hid_bias"], 3, axis=1)
        ms_dt_bar, ms_dt = cell.opt("dt") * sig(i_dt1 + h_dt1), cell.opt("dt") * sig(i_dt2 + h_dt2)
        z = (1 - ms_dt) * z + ms_dt * np.tanh(i_y + h_y)
        y = (1 - ms_dt_bar) * y + ms_dt_bar * np.tanh(z @ p["transform_z_weight"].T + p["transform_z_bias"] + i_z)
        return (y, z), y
    raise KeyError(kind)


SPECS = ["irnn", "irnn:scale=0.9", "indrnn", "indrnn:rmax=2", "lru:rmin=0.5:rmax=0.99", "mingru", "minlstm",
         "s6:state=3:dtmin=0.3:dtmax=1", "exprnn", "exprnn:init=1", "asrnn:eps=0.5", "asrnn:gated=1:eps=0.5",
         "lipschitz:eps=0.5:beta=0.65", "cornn", "cornn:dt=0.076:gamma=0.4:eps=8", "lem", "lem:dt=0.5"]  # steps Δ large enough that A counts within six steps


def random_params(cell, key, n_in):
    """The cell's init with every leaf moved by N(0, 0.3^2), so every term of the step is nonzero and counts."""
    params = cell.init(key, n_in)
    leaves, tree = jax.tree.flatten(params)
    keys = jax.random.split(jax.random.fold_in(key, 7), len(leaves))
    return tree.unflatten([leaf + 0.3 * jax.random.normal(k, leaf.shape) for leaf, k in zip(leaves, keys)])


def run_ours(cell, params, xs):
    """The cell's output after each step of ``xs`` (T, batch, n_in)."""
    step = lambda carry, x: cell.step(params, carry, x)  # noqa: E731
    return np.asarray(jax.lax.scan(step, cell.initial_carry(xs.shape[1], xs.shape[2]), jnp.asarray(xs))[1])


def run_reference(cell, params, xs):
    """The transcription's output after each step of ``xs``, in float64."""
    carry = jax.tree.map(lambda a: np.asarray(a, np.float64), cell.initial_carry(xs.shape[1], xs.shape[2]))
    p64 = jax.tree.map(lambda a: np.asarray(a, np.float64), params)
    outs = []
    for x in np.asarray(xs, np.float64):
        carry, y = reference_step(cell.kind, p64, carry, x, cell)
        outs.append(y)
    return np.stack(outs)


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("units", [1, 3])
def test_cell_matches_its_authors_equations_and_every_parameter_counts(spec, units):
    """Six steps from random parameters equal the transcription; moving any one parameter by N(0, 0.1^2) in the
    transcription alone makes the comparison fail (the mutation check: every term is compared)."""
    cell = parse_cell(spec, units)
    n_in = 2
    params = random_params(cell, jax.random.key(units), n_in)
    xs = np.asarray(jax.random.uniform(jax.random.key(1), (6, 4, n_in), minval=-1.0, maxval=2.0))
    ours = run_ours(cell, params, xs)
    np.testing.assert_allclose(ours, run_reference(cell, params, xs), rtol=2e-5, atol=2e-6)
    for name in params:
        if units == 1 and (cell.kind, name) in (("exprnn", "A"), ("asrnn", "C")):
            continue  # a one-unit skew-symmetric matrix is 0: these enter only through A - Aᵀ
        nudge = 0.1 * jax.random.normal(jax.random.key(9), params[name].shape)  # no symmetry for A - Aᵀ to cancel
        mutated = params | {name: params[name] + nudge}
        mutated_theirs = run_reference(cell, mutated, xs)
        assert np.max(np.abs(ours - mutated_theirs)) > 1e-4, f"{name} of {spec} does not count"


def ks(sample, cdf, *args):
    return stats.kstest(np.ravel(sample), cdf, args=args).pvalue


def draws(spec, n_in=2, units=4, n=200):
    cell = parse_cell(spec, units)
    return jax.vmap(lambda k: cell.init(k, n_in))(jax.random.split(jax.random.key(0), n))


def test_irnn_starts_at_the_identity_with_small_gaussian_input_weights():
    """Le et al. 2015 / Keras's mnist_irnn.py: W_h = I exactly (scaled by ``scale``), b = 0, W_x ~ N(0, 0.001^2)."""
    p = draws("irnn:scale=0.5")
    assert np.all(np.asarray(p["recurrent_kernel"]) == 0.5 * np.eye(4)) and not np.any(p["bias"])
    assert ks(p["kernel"], "norm", 0, 0.001) > 1e-3


def test_indrnn_draws_its_recurrent_weights_uniform_up_to_rmax():
    """batzner/indrnn: u ~ U(0, rmax) (U(0, 1) without rmax), glorot_uniform input kernel, zero bias."""
    assert ks(draws("indrnn:rmax=1.01")["recurrent_kernel"], "uniform", 0, 1.01) > 1e-3
    p = draws("indrnn")
    assert ks(p["recurrent_kernel"], "uniform", 0, 1) > 1e-3
    limit = np.sqrt(6 / (2 + 4))
    assert ks(p["kernel"], "uniform", -limit, 2 * limit) > 1e-3 and not np.any(p["bias"])


def test_lru_eigenvalues_are_uniform_on_the_ring():
    """minimal-LRU: |λ|^2 ~ U[rmin^2, rmax^2] (uniform on the ring's area), phase ~ U[0, max_phase],
    γ = sqrt(1 - |λ|^2) exactly, B parts N(0, 1/(2 n_in)), C parts N(0, 1/N), D N(0, 1)."""
    p = jax.tree.map(lambda a: np.asarray(a, np.float64), draws("lru:rmin=0.4:rmax=0.9:phase=3"))
    modulus = np.exp(-np.exp(p["nu_log"]))
    assert ks(modulus**2, "uniform", 0.16, 0.81 - 0.16) > 1e-3
    assert ks(np.exp(p["theta_log"]), "uniform", 0, 3) > 1e-3
    np.testing.assert_allclose(np.exp(p["gamma_log"]), np.sqrt(1 - modulus**2), rtol=1e-5)
    assert ks(p["B_im"], "norm", 0, 1 / np.sqrt(4)) > 1e-3 and ks(p["C_re"], "norm", 0, 1 / np.sqrt(4)) > 1e-3
    assert ks(p["D"], "norm", 0, 1) > 1e-3


@pytest.mark.parametrize("spec,blocks", [("mingru", 2), ("minlstm", 3)])
def test_min_rnns_draw_pytorchs_linear_without_bias(spec, blocks):
    p = draws(spec, n_in=3)
    assert p["weight"].shape == (200, blocks * 4, 3) and set(p) == {"weight"}
    assert ks(p["weight"], "uniform", -1 / np.sqrt(3), 2 / np.sqrt(3)) > 1e-3


def test_s6_starts_with_s4d_real_a_unit_d_and_log_uniform_steps():
    """Mamba: A_log = log(1..N) per channel, D = 1, Δ = softplus(dt_bias) ~ exp(U[log dtmin, log dtmax])."""
    p = draws("s6:state=5:dtmin=0.01:dtmax=0.2")
    np.testing.assert_allclose(p["A_log"][3], np.log(np.tile(np.arange(1, 6), (4, 1))), rtol=1e-6)
    assert np.all(np.asarray(p["D"]) == 1)
    delta = np.log(softplus(np.asarray(p["dt_bias"], np.float64)))
    assert ks(delta, "uniform", np.log(0.01), np.log(0.2) - np.log(0.01)) > 1e-3


def lambda0(cell, params, n_in=2):
    return float(spectral_radius(np.asarray(rest_jacobian(cell, params, n_in)[0])))


@pytest.mark.parametrize("spec", ["irnn", "irnn:scale=0.7", "indrnn", "lru:rmin=0.9:rmax=0.999", "mingru",
                                  "minlstm", "s6:state=4"])
def test_lambda0_of_a_diagonal_or_linear_cell_is_its_largest_eigenvalue_modulus(spec):
    """At the authors' init: IRNN ρ(W_h) = scale; IndRNN max u; LRU max |λ|; minGRU/minLSTM 1 - σ(0) = 1/2 and
    σ(0) / (2 σ(0)) = 1/2 (no bias); S6 max exp(-Δ_c) with Δ = softplus(dt_bias) and A's first entry -1."""
    cell = parse_cell(spec, 5)
    p = cell.init(jax.random.key(3), 2)
    p64 = jax.tree.map(lambda a: np.asarray(a, np.float64), p)
    expected = {"irnn": lambda: cell.opt("scale"),
                "indrnn": lambda: np.max(p64["recurrent_kernel"]),
                "lru": lambda: np.max(np.exp(-np.exp(p64["nu_log"]))),
                "mingru": lambda: 0.5, "minlstm": lambda: 0.5,
                "s6": lambda: np.max(np.exp(-softplus(p64["dt_bias"])))}[cell.kind]()
    assert lambda0(cell, p) == pytest.approx(expected, rel=1e-6)


def test_a_relu_cell_linearised_at_rest_keeps_its_values():
    """explain's right-derivative ReLU changes no value of the step, only its derivative at exactly 0."""
    cell = parse_cell("irnn", 3)
    p = random_params(cell, jax.random.key(0), 2)
    x, h = jax.random.normal(jax.random.key(1), (4, 2)), jax.random.normal(jax.random.key(2), (4, 3))
    assert np.array_equal(cell.step(p, h, x)[1], cell.for_jacobian().step(p, h, x)[1])


@pytest.mark.parametrize("spec,message", [
    ("lru:rmin=0.99:rmax=0.9", "rmin: lru needs r_min <= r_max"),
    ("lru:rmax=1.5", "rmax: lru's largest eigenvalue modulus must be in \\(0, 1\\]"),
    ("s6:dtmin=-0.1", "dtmin: s6's smallest initial step Δ must be > 0"),
    ("s6:state=0", "state: s6's state size N must be an integer in"),
    ("s6:state=2.5", "state: must be an integer"),
    ("indrnn:rmax=abc", "rmax: must be a number"),
    ("mingru:rmax=2", "bad option 'rmax=2' in 'mingru:rmax=2'; mingru takes units, flavor"),
    ("mingru:flavor=keras2", "flavor: mingru is defined by its authors' PyTorch code and has no keras2 form"),
    ("irnn:flavor=torch", "flavor: irnn is defined by its authors' Keras/JAX code and has no torch form"),
    ("irnn:chrono=3", "bad option 'chrono=3'"),
    ("lstm:rmin=0.5", "bad option 'rmin=0.5'"),
])
def test_bad_options_are_refused_in_one_line_naming_the_option(spec, message):
    with pytest.raises(ValueError, match=message) as err:
        parse_cell(spec)
    assert "\n" not in str(err.value)


def test_a_sweeps_flavour_applies_where_the_cell_has_it():
    assert parse_cell("irnn", 1, "keras3").flavor == "keras3" and parse_cell("mingru", 1, "torch").flavor == "torch"
    assert parse_cell("mingru", 1, "keras2").flavor == "torch"  # the default flavour gives way to the cell's own
    assert parse_cell("lru:units=4", 2).units == 4 and parse_cell("lru:rmin=0.9").name == "lru:rmin=0.9"
    assert make_cell(ZooCell("s6", 2, options=(("state", 4),))).name == "s6:state=4"


@pytest.mark.parametrize("cells, flavor, cell, has", [
    (("srnn", "cornn"), "keras3", "cornn", "torch"),
    (("lru:rmin=0.5",), "torch", "lru", "keras3, keras2"),
    (("mingru",), "keras3", "mingru", "torch"),
])
def test_a_sweeps_flavour_a_zoo_cell_lacks_is_refused_in_one_line_naming_the_flag(cells, flavor, cell, has):
    from latchjax import SweepConfig
    from latchjax.core.vocabulary import SettingsError

    with pytest.raises(SettingsError) as err:
        SweepConfig(cells=cells, flavor=flavor)
    line = err.value.as_flag()
    assert line.startswith(f"--flavor: cell {cell} has no {flavor} form") and f"its flavours: {has}." in line
    assert "\n" not in line


def test_the_default_flavour_lets_each_zoo_cell_use_its_own_and_records_it():
    from latchjax import SweepConfig
    from latchjax.sweep.results import cell_info

    cells = SweepConfig(cells=("srnn", "cornn", "lru", "mingru")).resolved.cells
    assert [cell_info(c)["flavor"] for c in cells] == ["keras2", "torch", "keras2", "torch"]
    assert [c.flavor for c in SweepConfig(cells=("cornn", "mingru"), flavor="torch").resolved.cells] == ["torch"] * 2


def test_every_zoo_kind_is_built_by_name_and_holds_real_float32_parameters():
    for kind in ZOO_KINDS:
        cell = make_cell(kind, 2)
        leaves = jax.tree.leaves(cell.init(jax.random.key(0), 3))
        assert leaves and all(leaf.dtype == jnp.float32 for leaf in leaves), kind


@pytest.mark.integration
@pytest.mark.parametrize("kind", list(ZOO_KINDS))
def test_every_zoo_cell_trains_on_the_latch_through_a_tiny_sweep(kind):
    """Two seeds, two short lengths, one epoch of a few samples: finite losses, no divergence, and the sweep
    records the cell under its name with its flavour."""
    from latchjax import SweepConfig, run_sweep

    r = run_sweep(SweepConfig(cells=(kind,), lengths=(3, 6), seeds=2, epochs=1, samples=32, batch_size=16,
                              units=2, lrs=(1e-2,)))
    own = ZOO_KINDS[kind].flavors
    assert r.coords["cell"] == [kind] and r.coords["cell_info"][0]["flavor"] == ("keras2" if "keras2" in own else own[0])
    assert np.all(np.isfinite(r.metrics["train_loss"])) and not np.any(r.diverged)


def test_exprnn_starts_orthogonal_with_the_authors_rotations():
    """Henaff: 2x2 rotation blocks by angles U[-π, π] (an odd unit alone keeps 1); Cayley: blocks
    [[0, s], [-s, 0]], s = -tan(φ/2), φ ~ U[0, π/2]; W = expm(S) orthogonal; input N(0, 2/n_in); b U(±0.01)."""
    p = jax.tree.map(lambda a: np.asarray(a, np.float64), draws("exprnn", n_in=2, units=5))
    s = p["A"][:, [0, 2], [1, 3]]
    assert ks(s, "uniform", -np.pi, 2 * np.pi) > 1e-3 and not np.any(p["A"][:, 4])
    W = np.stack([scipy.linalg.expm(a) for a in p["A"][:10]])
    np.testing.assert_allclose(W @ np.swapaxes(W, 1, 2), np.broadcast_to(np.eye(5), W.shape), atol=1e-6)
    assert ks(p["input_kernel"], "norm", 0, 1) > 1e-3 and ks(p["modrelu_b"], "uniform", -0.01, 0.02) > 1e-3
    phi = 2 * np.arctan(-np.asarray(draws("exprnn:init=1", units=4)["A"], np.float64)[:, [0, 2], [1, 3]])
    assert ks(phi, "uniform", 0, np.pi / 2) > 1e-3


@pytest.mark.parametrize("spec", ["asrnn", "lipschitz:std=3"])
def test_antisymmetric_cells_draw_gaussian_matrices_of_std_over_n(spec):
    """LipschitzRNN tools.py gaussian_init_: N(0, (init_std / N)^2); E xavier_normal N(0, 2/(n_in + N)), zero bias."""
    cell = parse_cell(spec, 4)
    p = draws(spec)
    for name in ("B", "C") if cell.kind == "lipschitz" else ("C",):
        assert ks(p[name], "norm", 0, cell.opt("std") / 4) > 1e-3
    assert ks(p["E_weight"], "norm", 0, np.sqrt(2 / 6)) > 1e-3 and not np.any(p["E_bias"])


@pytest.mark.parametrize("spec,fan_in", [("cornn", 2 + 8), ("lem", 4)])
def test_oscillator_cells_draw_pytorchs_uniform_weights(spec, fan_in):
    """coRNN: nn.Linear(n_in + 2N, N) default, U(±1/sqrt(n_in + 2N)); LEM: every parameter U(±1/sqrt(N))."""
    for leaf in jax.tree.leaves(draws(spec)):
        bound = 1 / np.sqrt(fan_in)
        assert ks(leaf, "uniform", -bound, 2 * bound) > 1e-3


@pytest.mark.parametrize("spec", ["asrnn", "asrnn:gated=1", "lipschitz", "cornn", "lem"])
def test_lambda0_of_a_nonlinear_cell_is_the_radius_of_a_finite_difference_jacobian_at_rest(spec):
    cell = parse_cell(spec, 3)
    p = random_params(cell, jax.random.key(5), 2)
    jac, residual, _ = rest_jacobian(cell, p, 2)
    flat0, unravel = jax.flatten_util.ravel_pytree(cell.initial_carry(1, 2))
    step = jax.jit(lambda s: jax.flatten_util.ravel_pytree(cell.step(p, unravel(s), jnp.zeros((1, 2)))[0])[0])
    rest = flat0
    for _ in range(500):
        rest = step(rest)
    rest = np.asarray(rest, np.float64)
    columns = [(np.asarray(step(jnp.asarray(rest + 1e-3 * e, jnp.float32)), np.float64)
                - np.asarray(step(jnp.asarray(rest - 1e-3 * e, jnp.float32)), np.float64)) / 2e-3 for e in np.eye(len(rest))]
    numeric = np.max(np.abs(np.linalg.eigvals(np.stack(columns, axis=1))))
    assert float(spectral_radius(np.asarray(jac))) == pytest.approx(numeric, abs=2e-3)


def test_exprnn_lambda0_is_the_radius_of_w_on_the_units_whose_modrelu_bias_is_not_negative():
    """modReLU is flat on |z| < -b (b < 0) and has slope 1 beside 0 where b >= 0; explain linearises h = 0 on that
    slope, so λ0 = ρ(diag(1[b >= 0]) Wᵀ): 1 for one unit with b >= 0 (W = expm(0) = 1), 0 with b < 0. The values
    of the step are unchanged."""
    cell = parse_cell("exprnn", 6)
    for seed in range(4):
        p = cell.init(jax.random.key(seed), 2)
        p64 = jax.tree.map(lambda a: np.asarray(a, np.float64), p)
        W = scipy.linalg.expm(np.triu(p64["A"], 1) - np.triu(p64["A"], 1).T)
        expected = spectral_radius(np.diag((p64["modrelu_b"] >= 0).astype(float)) @ W.T)
        assert 0 < expected <= 1 + 1e-9
        assert lambda0(cell, p) == pytest.approx(expected, rel=1e-5)
    one = parse_cell("exprnn", 1)
    p = one.init(jax.random.key(0), 2)
    for b, expected in [(0.004, 1.0), (0.0, 1.0), (-0.004, 0.0)]:
        assert lambda0(one, p | {"modrelu_b": jnp.full((1,), b)}) == pytest.approx(expected, abs=1e-6)
    x, h = jax.random.normal(jax.random.key(1), (5, 2)), jax.random.normal(jax.random.key(2), (5, 6)) * 0.01
    h = h.at[0, :].set(0.0)  # rows at rest too
    p = cell.init(jax.random.key(0), 2)
    assert np.array_equal(cell.step(p, h, x)[1], cell.for_jacobian().step(p, h, x)[1])


@pytest.mark.parametrize("optimizer", ["torch_adam", "keras_adam", "sgd"])
def test_exprnn_trains_a_at_lr_orth_times_the_learning_rate(optimizer):
    """The authors train A with a second optimizer of the same kind at lr_orth = lr / 10: after one step A moves by
    lr_orth times what it moves at ratio 1, every other parameter by the same amount."""
    from latchjax.sweep.config import SweepConfig
    from latchjax.sweep.runner import train_one

    cfg = SweepConfig(cells=("exprnn",), lengths=(5,), seeds=1, epochs=1, samples=48, val_fraction=0.666,
                      batch_size=16, units=4, lrs=(0.05,), optimizer=optimizer)
    start = initial(cfg, "exprnn:lr_orth=1")
    moved = {r: jax.tree.map(lambda a, b: np.asarray(a, np.float64) - b, train_one(cfg, f"exprnn:lr_orth={r}", 5,
                                                                                   0)["params"]["cell"], start)
             for r in (1.0, 0.1, 0.25)}
    assert np.abs(moved[1.0]["A"]).max() > 1e-4
    for r in (0.1, 0.25):
        np.testing.assert_allclose(moved[r]["A"], r * moved[1.0]["A"], rtol=1e-3, atol=1e-8)
        for name in ("input_kernel", "modrelu_b"):
            np.testing.assert_allclose(moved[r][name], moved[1.0][name], rtol=1e-4, atol=1e-8)
    assert parse_cell("exprnn", 2).lr_scales() == {"A": 0.1}  # the authors' ratio by default
    assert all(parse_cell(kind, 2).lr_scales() == {} for kind in ZOO_KINDS if kind != "exprnn")


def initial(cfg, spec):
    from latchjax.sweep.trainer import initial_params

    cell = parse_cell(spec, cfg.units)
    key = jax.random.fold_in(jax.random.key(cfg.seed), 0)
    p = initial_params(cell, cfg, key, jnp.float32(cfg.forget_biases[0]), 1, 5, 5)
    return jax.tree.map(lambda a: np.asarray(a, np.float64), p["cell"])
