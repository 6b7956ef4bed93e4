"""What the built-in tasks share: the question's row order and per-row positions."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def signs_positive_first(n: int) -> jax.Array:
    """+1 for the first n//2 rows, -1 for the rest (the question's row order)."""
    return jnp.where(jnp.arange(n) < n // 2, 1.0, -1.0).astype(jnp.float32)


def positions(n: int, length: int) -> jax.Array:
    """Every row's position within its sequence, ``(n, length)``: ``0 .. length - 1`` for fixed-length
    sequences. The position-based task cores below take any ``j`` of shape ``(n, T)`` with one row per
    sequence, negative where a row is left padding (:mod:`latchjax.studies.guessing` draws one length per row)."""
    return jnp.broadcast_to(jnp.arange(length), (n, length))
