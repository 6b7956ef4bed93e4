"""Forward-mode gradients (latchjax.core.forward) against reverse mode (jax.value_and_grad of model_loss)."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latchjax.core.cells import KINDS, FlaxCell, RNNCell
from latchjax.core.forward import forward_is_cheaper, forward_value_and_grad, n_cell_params
from latchjax.core.model import init_head, model_loss

T, BATCH = 12, 8
KIND_FLAVORS = [(kind, flavor) for kind, spec in KINDS.items() for flavor in spec.flavors]


def randomized(key, tree, scale=0.8):
    """Every leaf redrawn N(0, scale^2): nonzero biases (both of them where there are two), so every term of
    every gradient counts."""
    leaves, treedef = jax.tree.flatten(tree)
    keys = jax.random.split(key, len(leaves))
    return treedef.unflatten([scale * jax.random.normal(k, leaf.shape, leaf.dtype) for k, leaf in zip(keys, leaves)])


def problem(cell, head, n_in, seed):
    k_cell, k_head, k_x, k_y, k_w = jax.random.split(jax.random.key(seed), 5)
    params = {"cell": randomized(k_cell, cell.init(k_cell, n_in)), "head": randomized(k_head, init_head(k_head, cell, head))}
    x = jax.random.normal(k_x, (BATCH, T, n_in))  # the padding steps hold garbage: masking must ignore it
    y = jax.random.bernoulli(k_y, 0.5, (BATCH,)).astype(jnp.int32)
    weight = jnp.where(jnp.arange(BATCH) < BATCH - 2, 1.0, 0.0) * jax.random.uniform(k_w, (BATCH,), minval=0.5)
    return params, x, y, weight


def reverse(cell, head, params, x, y, weight, start):
    return jax.value_and_grad(lambda p: model_loss(cell, head, p, x, y, weight, start), has_aux=True)(params)


def assert_same(got, want):
    for path, g in jax.tree_util.tree_leaves_with_path(got):
        w = dict(jax.tree_util.tree_leaves_with_path(want))[path]
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6, err_msg=jax.tree_util.keystr(path))
    assert jax.tree.structure(got) == jax.tree.structure(want)


# every kind and flavour at one unit; at three units (a 3x3 recurrent Jacobian) the LSTM and GRU of each
# framework in the everyday suite, the rest with the slow tests (compiling is most of their time)
CASES = [(kind, flavor, 1, 1) for kind, flavor in KIND_FLAVORS] + [
    pytest.param(kind, flavor, 3, 2, marks=() if kind in ("lstm", "gru") else pytest.mark.slow)
    for kind, flavor in KIND_FLAVORS]


@pytest.mark.parametrize("kind,flavor,units,n_in", CASES)
def test_forward_gradients_equal_reverse_for_every_cell_kind_and_flavor(kind, flavor, units, n_in):
    cell = RNNCell(kind, units, flavor)
    start = 4  # left padding: the state (and its sensitivities) must hold through the first 4 steps
    cases = {head: problem(cell, head, n_in, seed) for seed, head in enumerate(("softmax", "sigmoid"))}

    @jax.jit  # one compilation for both heads and both modes: the test's time is mostly compiling
    def both(cases):
        return {head: (forward_value_and_grad(cell, head, *case, start), reverse(cell, head, *case, start))
                for head, case in cases.items()}

    for head, (got, want) in both(cases).items():
        assert_same(got, want)
        # every cell parameter matters (random biases): no gradient leaf is identically zero
        assert all(float(jnp.abs(g).max()) > 0 for g in jax.tree.leaves(want[1]["cell"])), head


def test_forward_gradients_per_row_start_vmapped_models_and_extra_params():
    """A start per row, models vmapped with their own start (as the trainer's length axis does), and a
    params entry the loss does not read (zero gradient, as reverse mode gives)."""
    cell = RNNCell("lstm", 2, "torch")
    params, x, y, weight = problem(cell, "softmax", 1, 7)
    params = params | {"unused": jnp.ones(3)}
    rows = jnp.array([0, 1, 2, 3, 5, 8, 11, 12])
    stacked = jax.tree.map(lambda a: jnp.stack([a, 0.5 * a, -a]), params)
    starts = jnp.array([0, 3, 12])
    over_models = (None, None, 0, None, None, None, 0)

    @jax.jit
    def both():
        return ((forward_value_and_grad(cell, "softmax", params, x, y, weight, rows),
                 reverse(cell, "softmax", params, x, y, weight, rows)),
                (jax.vmap(forward_value_and_grad, over_models)(cell, "softmax", stacked, x, y, weight, starts),
                 jax.vmap(reverse, over_models)(cell, "softmax", stacked, x, y, weight, starts)))

    for got, want in both():
        assert_same(got, want)


def test_forward_gradients_of_a_flax_cell():
    cell = FlaxCell(nn.GRUCell(features=2))
    params, x, y, weight = problem(cell, "sigmoid", 1, 3)
    assert_same(jax.jit(lambda: forward_value_and_grad(cell, "sigmoid", params, x, y, weight, 2))(),
                jax.jit(lambda: reverse(cell, "sigmoid", params, x, y, weight, 2))())


def test_forward_is_cheaper_for_tiny_cells_only():
    assert n_cell_params(RNNCell("lstm", 1, "keras2"), 1) == 12
    for kind, flavor in KIND_FLAVORS:  # on the CPU: reverse mode, whose results earlier releases reproduce
        assert not forward_is_cheaper(RNNCell(kind, 1, flavor), 1, "cpu")
    for kind, flavor in KIND_FLAVORS:  # on a GPU: every one-unit cell, no cell of 4 units
        assert forward_is_cheaper(RNNCell(kind, 1, flavor), 1, "gpu")
        assert not forward_is_cheaper(RNNCell(kind, 4, flavor), 1, "gpu")
    assert not forward_is_cheaper(RNNCell("lstm", 2), 1, "gpu")
    assert not forward_is_cheaper(RNNCell("gru", 32), 1)
