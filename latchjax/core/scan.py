"""The one time loop: a ``lax.scan`` that holds the state through left padding.

Every result of latchjax rests on one rule: a sequence left-padded to any length computes exactly
what it computes alone, because the state stays at its initial value until the sequence's first
element. :func:`masked_scan` is that rule, written once; the trainer, random guessing, Bengio's latch,
the diagnostics and the landscapes all run their recurrences through it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

Carry = Any


def _hold(active: jax.Array, new: Carry, old: Carry) -> Carry:
    """``new`` where ``active`` (a scalar, or one flag per row of every leaf), else ``old``."""
    def pick(n: jax.Array, o: jax.Array) -> jax.Array:
        flag = active if active.ndim == 0 else active.reshape(active.shape + (1,) * (n.ndim - active.ndim))
        return jnp.where(flag, n, o)

    return jax.tree.map(pick, new, old)


def masked_scan(step: Callable[[Carry, Any], tuple[Carry, Any]], carry: Carry, xs: Any,
                start: int | jax.Array | None = 0, *, outputs: bool = False, unroll: int = 1) -> tuple[Carry, Any]:
    """Scan ``step(carry, x_t) -> (carry, out_t)`` over the leading (time) axis of ``xs``.

    Steps ``t < start`` are left padding: the carry keeps its value (``start`` a scalar for the whole
    batch, or an array ``(batch,)`` with one start per row, matched against the leading axis of every
    carry leaf). ``start=None`` says no step is padding: every step runs unmasked, a plain ``lax.scan``
    (the diagnostics and landscapes of unpadded sequences; holding at ``start=0`` selects the same
    values, but XLA may fuse the select into the step and round the last bit differently). Returns
    ``(final carry, outs)``: ``outs`` stacks every step's ``out_t`` along a new
    leading time axis when ``outputs`` is true (what a padded step emits is ``step``'s value there;
    callers mask it if they need to), else ``None``.

    Example: a SimpleRNN's last state, the second row starting two steps late::

        def step(h, x_t):
            h = jnp.tanh(w * h + x_t)
            return h, h
        h_T, _ = masked_scan(step, jnp.zeros(2), xs, start=jnp.array([0, 2]))   # xs: (T, 2)
    """
    if start is None:
        def plain(state: Carry, x_t: Any) -> tuple[Carry, Any]:
            new, out = step(state, x_t)
            return new, (out if outputs else None)

        return jax.lax.scan(plain, carry, xs, unroll=unroll)
    start = jnp.asarray(start)
    length = jax.tree.leaves(xs)[0].shape[0]

    def masked(state: Carry, inputs: tuple[jax.Array, Any]) -> tuple[Carry, Any]:
        t, x_t = inputs
        new, out = step(state, x_t)
        return _hold(t >= start, new, state), (out if outputs else None)

    return jax.lax.scan(masked, carry, (jnp.arange(length), xs), unroll=unroll)
