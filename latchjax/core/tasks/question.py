"""The tasks of the question thread (``../shared/SPEC.md`` section 2): Bengio's information latching as the
question builds it, and the answer's harder bit relay."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from latchjax.core.tasks.common import signs_positive_first


def latch(key: jax.Array, n: int, length: int, *, noise: float = 0.1) -> tuple[jax.Array, jax.Array]:
    """Bengio's information latching, as the question builds it.

    x_t = s [t = 0] + eps_t, s = +1 (label 1) or -1 (label 0), eps_t ~ N(0, noise^2)
    on every element, the first included. Balanced classes, positives first.
    """
    s = signs_positive_first(n)
    x = noise * jax.random.normal(key, (n, length, 1), jnp.float32)
    x = x.at[:, 0, 0].add(s)
    return x, (s > 0).astype(jnp.int32)


def bit_relay(
    key: jax.Array, n: int, length: int, *, noise: float = 0.1, middle: int | None = None
) -> tuple[jax.Array, jax.Array]:
    """The answer's harder task: label 1 iff x_0 and x_middle carry the same sign.

    x_0 = s1 + eps, x_middle = s2 + eps, every other element eps ~ N(0, noise^2).
    ``middle`` defaults to ``length // 2``. The first n//2 rows are positives (s2 = s1),
    the rest negatives (s2 = -s1); s1 is a fair coin in both halves.
    """
    if length < 2:
        raise ValueError(f"lengths: bit_relay needs length >= 2, got {length}")
    mid = length // 2 if middle is None else middle
    if not 0 < mid < length:
        raise ValueError(f"middle: must be in [1, {length - 1}] for length {length}, got {mid}")
    k_sign, k_noise = jax.random.split(key)
    same = signs_positive_first(n)
    s1 = jnp.where(jax.random.bernoulli(k_sign, 0.5, (n,)), 1.0, -1.0)
    x = noise * jax.random.normal(k_noise, (n, length, 1), jnp.float32)
    x = x.at[:, 0, 0].add(s1).at[:, mid, 0].add(s1 * same)
    return x, (same > 0).astype(jnp.int32)
