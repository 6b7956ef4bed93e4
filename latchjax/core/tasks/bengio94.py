"""Bengio, Simard & Frasconi 1994's 2-sequence and parity problems, at a fixed length (the sweeps') and at
positions of any shape (random guessing draws one length per row: :mod:`latchjax.studies.guess_tasks`)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from latchjax.core.tasks.common import positions, signs_positive_first


def two_sequence_at(key: jax.Array, j: jax.Array, *, noise: float, informative: int) -> tuple[jax.Array, jax.Array]:
    """Bengio's 2-sequence problem at positions ``j (n, T)``: elements ``j < informative`` are the row's
    sign (+1 for the first n//2 rows, -1 for the rest), the others N(0, noise^2), padding (``j < 0``) 0.
    Returns ``x (n, T, 1)`` and the signs ``(n,)``."""
    s = signs_positive_first(j.shape[0])
    eps = noise * jax.random.normal(key, j.shape, jnp.float32)
    x = jnp.where(j < informative, s[:, None], eps)
    return jnp.where(j >= 0, x, 0.0)[..., None], s


def parity_at(key: jax.Array, j: jax.Array) -> tuple[jax.Array, jax.Array]:
    """+-1 elements at positions ``j (n, T)`` (padding, ``j < 0``: 0); the first n//2 rows have an odd
    number of +1 (the element at ``j == 0`` is flipped where needed), the rest an even one. Returns
    ``x (n, T, 1)`` and whether each row is odd ``(n,)``."""
    bits = jnp.where(jax.random.bernoulli(key, 0.5, j.shape), 1.0, -1.0)
    bits = jnp.where(j >= 0, bits, 0.0)
    odd = (jnp.sum(bits > 0, axis=1) % 2) == 1
    want_odd = signs_positive_first(j.shape[0]) > 0
    bits = jnp.where((j == 0) & (odd != want_odd)[:, None], -bits, bits)  # flip the first bit to balance
    return bits[..., None].astype(jnp.float32), want_odd


def two_sequence(key: jax.Array, n: int, length: int, *, noise: float = 0.2 ** 0.5,
                 informative: int = 1) -> tuple[jax.Array, jax.Array]:
    """Bengio's 2-sequence problem at a fixed length: the first ``informative`` elements are +1
    (label 1) or -1 (label 0), the rest N(0, noise^2) (H&S: variance 0.2). Positives first.

    :mod:`latchjax.studies.guessing` draws the variable-length version (lengths in [T, T + T/10]) from the
    same :func:`two_sequence_at`.
    """
    if not 1 <= informative <= length:
        raise ValueError(f"informative: must be in [1, {length}] for length {length}, got {informative}")
    x, s = two_sequence_at(key, positions(n, length), noise=noise, informative=informative)
    return x, (s > 0).astype(jnp.int32)


def parity(key: jax.Array, n: int, length: int) -> tuple[jax.Array, jax.Array]:
    """+-1 sequences; label 1 for an odd number of +1. The first n//2 rows are odd (the first
    element is flipped where needed), the rest even (see :func:`parity_at`)."""
    x, odd = parity_at(key, positions(n, length))
    return x, odd.astype(jnp.int32)
