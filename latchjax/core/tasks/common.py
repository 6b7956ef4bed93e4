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


def check_spread(spread: float) -> None:
    """A task's ``spread`` option: each row's length drawn in [T, T + spread T] (H&S 1997: 0.1)."""
    if not (isinstance(spread, (int, float)) and not isinstance(spread, bool) and 0 <= spread <= 10):
        raise ValueError(f"spread: must be a number in [0, 10], got {spread!r}")


def row_lengths(key: jax.Array, n: int, length: int, spread: float) -> tuple[jax.Array | None, int]:
    """``(rows, width)``: each row's length drawn uniformly from ``T .. T + floor(spread T)`` and the width
    ``T + floor(spread T)`` every draw at ``T`` is padded to; ``rows`` is ``None`` when ``spread T < 1`` (every row
    ``T``)."""
    check_spread(spread)
    extra = int(spread * length)
    if not extra:
        return None, length
    return jax.random.randint(key, (n,), length, length + extra + 1), length + extra


def row_steps(rows: jax.Array | None, n: int, width: int) -> jax.Array:
    """Each row's own step at every position, ``(n, width)``: ``0 .. rows[i] - 1`` on its last ``rows[i]``
    positions, negative on its left padding (``rows`` ``None``: every row fills the width)."""
    if rows is None:
        return positions(n, width)
    return jnp.arange(width) - (width - rows)[:, None]
