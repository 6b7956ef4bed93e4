"""Minibatch orders (:mod:`latchjax.core.shuffle`): the fast sort draws exactly what JAX's permutation draws."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latchjax.core.shuffle import epoch_order, permutation, sort_rounds, stable_argsort


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 8000, 70_000])
def test_the_fast_shuffle_draws_jax_random_permutations_bit_for_bit(n):
    keys = jax.random.split(jax.random.key(n), 16)
    fast = jax.jit(jax.vmap(lambda k: permutation(k, n)))(keys)
    reference = jax.vmap(lambda k: jax.random.permutation(k, n))(keys)
    np.testing.assert_array_equal(fast, reference)
    assert fast.dtype == jnp.int32 and jnp.zeros(1).dtype == jnp.float32  # 64 bits only inside the sort


def test_stable_argsort_orders_equal_keys_by_position():
    keys = jax.random.randint(jax.random.key(0), (5, 300), 0, 4).astype(jnp.uint32)  # many ties
    keys = keys.at[0, :3].set(jnp.uint32(2**32 - 1))  # the largest key too
    np.testing.assert_array_equal(jax.jit(jax.vmap(stable_argsort))(keys),
                                  np.argsort(np.asarray(keys), axis=-1, kind="stable"))


def test_an_epoch_order_is_the_epoch_keys_permutation_in_keras_sized_minibatches():
    key, epochs, n, batch = jax.random.key(5), 3, 50, 16
    order = epoch_order(key, 2, epochs, n, batch)
    _, k_shuffle = jax.random.split(key)
    perm = jax.random.permutation(jax.random.split(k_shuffle, epochs)[2], n)
    assert order.shape == (4, 16) and sort_rounds(n) == 1 and sort_rounds(8000) == 2
    np.testing.assert_array_equal(order.ravel()[:n], perm)  # every sample once ...
    np.testing.assert_array_equal(order.ravel()[n:], perm[: 4 * 16 - n])  # ... then the last batch filled up
