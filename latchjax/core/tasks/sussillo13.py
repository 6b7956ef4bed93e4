"""Sussillo & Barak 2013 ("Opening the black box", Neural Computation 25(3)), the N-bit flip-flop: a regression at
every step.

N channels of input pulses, +1 or -1 at random steps and 0 elsewhere; at every step each output must hold the sign
of the last pulse its channel received. Drawn as the co-author's reference generator draws it (Golub & Sussillo's
FixedPointFinder, ``FlipFlopData.py``): each channel pulses at every step with probability ``rate``, the sign a
fair coin, and every channel pulses at step 0 (so that every target is +1 or -1); the target of a pulse's own step
is already its sign. *[unverified]*: the paper's pulse rate (3 bits; ``rate`` 0.05 is latchjax's, for sparse pulses;
FlipFlopData's default is 0.5) and its success criterion (S&B train to a small MSE). latchjax's rule: every output
within 0.5 of its target at every step of every validation sequence (:class:`AbsError` ``(0.5)``: each bit read on
the right side, with a margin).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from latchjax.core.tasks.output import AbsError, Output, TaskSpec

FLIP_FLOP_BITS = 3


def flip_flop_baseline(length: int, *, rate: float = 0.05) -> float:
    """The memoryless MSE: a network that sees only the current input outputs the sign at a pulse (certain) and 0
    elsewhere (the targets' mean), missing a target of +-1 by 1 at every step after step 0 without a pulse:
    ``(1 - rate) (T - 1) / T``."""
    return (1.0 - rate) * (length - 1) / length


def flip_flop_fn(key: jax.Array, n: int, length: int, *, rate: float = 0.05) -> tuple[jax.Array, jax.Array]:
    """S&B's 3 channels of pulses over T = ``length`` steps: inputs ``(n, T, 3)`` in {-1, 0, +1}, targets
    ``(n, T, 3)`` the sign of each channel's last pulse (the step's own included). The number of channels is the
    output's size, so it is fixed (no option)."""
    if length < 1:
        raise ValueError(f"lengths: flip_flop needs length >= 1, got {length}")
    if not (isinstance(rate, (int, float)) and 0 < rate <= 1):
        raise ValueError(f"rate: must be a number in (0, 1], got {rate!r}")
    bits = FLIP_FLOP_BITS
    k_pulse, k_sign = jax.random.split(key)
    pulse = jax.random.bernoulli(k_pulse, rate, (n, length, bits)).at[:, 0].set(True)
    sign = jnp.where(jax.random.bernoulli(k_sign, 0.5, (n, length, bits)), 1.0, -1.0)
    x = jnp.where(pulse, sign, 0.0)

    def _hold(held, now):
        held = jnp.where(now != 0, now, held)
        return held, held

    _, y = jax.lax.scan(_hold, jnp.zeros((n, bits)), jnp.swapaxes(x, 0, 1))
    return x.astype(jnp.float32), jnp.swapaxes(y, 0, 1).astype(jnp.float32)


flip_flop = TaskSpec(flip_flop_fn, Output("regress", FLIP_FLOP_BITS, at="every"), AbsError(0.5),
                     baseline=flip_flop_baseline, label="flip_flop")
