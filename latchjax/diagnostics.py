"""Look inside trained models: state and gate trajectories over time."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from latchjax.cells import KerasCell


def trajectories(cell: KerasCell, params: Any, x: jax.Array) -> dict[str, jax.Array]:
    """Hidden state and gates at every step of ``x`` (batch, T, n_in), unpadded.

    Returns arrays of shape (T, batch, units): ``h`` and each gate of
    :meth:`~latchjax.cells.KerasCell.step_with_gates` (e.g. ``update`` for a GRU, ``forget`` and
    ``cell`` for an LSTM).
    """
    def time_step(carry, x_t):
        carry, h, gates = cell.step_with_gates(params, carry, x_t)
        return carry, {"h": h, **gates}

    _, out = jax.lax.scan(time_step, cell.initial_carry(x.shape[0], x.shape[2]), jnp.swapaxes(x, 0, 1))
    return out
