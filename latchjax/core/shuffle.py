"""Minibatch orders: which training samples each minibatch of each epoch holds, per model.

Every model shuffles its training set at the start of every epoch, as Keras does, with its own key:
epoch ``e`` of model ``key`` uses ``split(split(key)[1], epochs)[e]`` and draws the permutation that
``jax.random.permutation`` draws: a few rounds of a stable sort of the samples by fresh random 32-bit
keys (:func:`sort_rounds`).

:func:`stable_argsort` gives that sort's order faster. XLA's CPU backend sorts several operands, or
floats, with a compiled comparator called per comparison (3.5 ms for one model's 8,000 samples,
half of a SimpleRNN(1)'s epoch); a single 64-bit integer operand it sorts natively. Each 32-bit key is
packed above its position into one unsigned 64-bit integer: the packed values are distinct, so any sort
of them orders the keys exactly as a stable sort does (equal keys by position), 8x faster here. The
permutations are those of ``jax.random.permutation`` bit for bit (tests/test_shuffle.py).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def sort_rounds(n: int) -> int:
    """How many sorts ``jax.random.permutation`` makes of ``n`` items (3 log n / log(2^32 - 1), rounded
    up): enough that, with high probability, all 32-bit sort keys of some round differ."""
    return int(np.ceil(3 * np.log(max(1, n)) / np.log(np.iinfo(np.uint32).max)))


def stable_argsort(keys: jax.Array) -> jax.Array:
    """The order ``(n,)`` int32 that sorts the uint32 ``keys`` along the last axis, equal keys by position:
    ``jnp.argsort(keys, stable=True)``, computed as one native sort of 64-bit ``key << 32 | position``."""
    with jax.enable_x64(True):  # for these few operations only; the rest of the program stays 32-bit
        packed = keys.astype(jnp.uint64) << 32 | jnp.arange(keys.shape[-1], dtype=jnp.uint64)
        return (jax.lax.sort(packed) & 0xFFFFFFFF).astype(jnp.int32)


def permutation(key: jax.Array, n: int) -> jax.Array:
    """``jax.random.permutation(key, n)``: ``n`` items shuffled by :func:`sort_rounds` stable sorts."""
    order = jnp.arange(n, dtype=jnp.int32)
    for _ in range(sort_rounds(n)):
        key, subkey = jax.random.split(key)
        order = order[stable_argsort(jax.random.bits(subkey, (n,), jnp.uint32))]
    return order


def epoch_order(key: jax.Array, index: int | jax.Array, epochs: int, n: int, batch: int) -> jax.Array:
    """Model ``key``'s minibatches of epoch ``index``: ``(ceil(n / batch), batch)`` sample indices. Keras
    keeps a last, smaller batch; it is filled up with the first samples of the order (the trainer weights
    them 0). The other half of ``split(key)`` initialises the model."""
    _, k_shuffle = jax.random.split(key)
    order = permutation(jax.random.split(k_shuffle, epochs)[index], n)
    n_batches = -(-n // batch)
    return jnp.concatenate([order, order[: n_batches * batch - n]]).reshape(n_batches, batch)
