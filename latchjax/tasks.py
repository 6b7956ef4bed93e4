"""Sequence-classification tasks from the question thread (``../shared/SPEC.md`` section 2).

A task is any function ``task(key, n, length) -> (x, y)`` with ``x`` of shape
``(n, length, n_in)`` (float32) and ``y`` of shape ``(n,)`` (int32 labels 0/1).
Rows come in *construction order*: the built-in tasks put every positive (label 1)
row first, exactly as the question's script does, which is what makes Keras's
``validation_split`` take an all-negative validation set (see :mod:`latchjax.data`).

Pass your own function wherever a task name is accepted::

    def my_task(key, n, length):
        x = jax.random.normal(key, (n, length, 1))
        y = (x[:, 0, 0] > 0).astype(jnp.int32)
        return x, y

Task options (``noise``, ``middle``) are bound with ``functools.partial`` or given
as ``task_kwargs`` in a :class:`~latchjax.config.SweepConfig`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp

Task = Callable[[jax.Array, int, int], tuple[jax.Array, jax.Array]]


def signs_positive_first(n: int) -> jax.Array:
    """+1 for the first n//2 rows, -1 for the rest (the question's row order)."""
    return jnp.where(jnp.arange(n) < n // 2, 1.0, -1.0).astype(jnp.float32)


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


def positions(n: int, length: int) -> jax.Array:
    """Every row's position within its sequence, ``(n, length)``: ``0 .. length - 1`` for fixed-length
    sequences. The position-based task cores below take any ``j`` of shape ``(n, T)`` with one row per
    sequence, negative where a row is left padding (:mod:`latchjax.guessing` draws one length per row)."""
    return jnp.broadcast_to(jnp.arange(length), (n, length))


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

    :mod:`latchjax.guessing` draws the variable-length version (lengths in [T, T + T/10]) from the
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


TASKS: dict[str, Task] = {"latch": latch, "bit_relay": bit_relay, "two_sequence": two_sequence, "parity": parity}
# The options of the built-in tasks as users set them (type, help); each task's own keyword default is the
# default (noise: 0.1 for latch and bit_relay, sqrt(0.2) for two_sequence, as H&S's variance 0.2).
TASK_OPTIONS: dict[str, tuple[type, str]] = {
    "noise": (float, "standard deviation of the Gaussian noise on every element"),
    "middle": (int, "bit_relay: position of the second bit (default: length // 2)"),
    "informative": (int, "two_sequence: number of first elements carrying the class"),
}


def make_task(task: str | Task, **kwargs) -> Task:
    """A task by name (``latch``, ``bit_relay``, ``two_sequence``, ``parity``) or a user function, with
    options bound."""
    if isinstance(task, str):
        if task not in TASKS:
            raise ValueError(f"task: unknown task {task!r}; allowed: {', '.join(TASKS)} or a function")
        task = TASKS[task]
    elif not callable(task):
        raise ValueError(f"task: expected a task name or a function (key, n, length) -> (x, y), got {task!r}")
    return functools.partial(task, **kwargs) if kwargs else task
