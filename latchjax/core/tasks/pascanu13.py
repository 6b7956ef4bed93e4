"""Pascanu, Mikolov & Bengio 2013 ("On the difficulty of training recurrent neural networks", ICML; section 5.1 and
the authors' code, pascanur/trainingRNNs ``tempOrder.py``, ``tempOrder3bit.py``, ``addition.py``,
``multiplication.py``, ``RNN.py``): their versions of H&S 1997's temporal order, adding and multiplication problems,
with their rule "solved": no error on the validation sequences (:class:`NoErrors`; ``RNN.py`` counts a regression
as an error when its squared error exceeds 0.04, a class when the arg-max is wrong; the paper tests on 10,000).

Every position window is a fraction of each sequence's own length L (as their code computes it from the batch's
length): written here with exact integer fractions ``(k L) // 10``, which equal their ``int(L * 0.k)`` for every L
in 10 .. 400 (checked). Their training script draws *one length per batch*, uniformly in [min_length, max_length)
(the paper: 50 .. 200), and ``addition.py``/``multiplication.py`` lengthen each batch by U{0 .. L/10 - 1}; latchjax
approximates both with *per-row* lengths, ``spread`` (each row's length uniform in [T, T + spread T]: T = 50,
``spread=3`` covers their 50 .. 200; ``spread=0.1`` their +10%). Default 0: every row T.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from latchjax.core.tasks.common import row_lengths, row_steps
from latchjax.core.tasks.output import NoErrors, Output, Sequences, TaskSpec


def _own_lengths(rows: jax.Array | None, n: int, length: int) -> jax.Array:
    return jnp.full((n,), length) if rows is None else rows


def _window(key: jax.Array, lengths: jax.Array, start: int, size: int) -> jax.Array:
    """A position per row uniform in ``[(start L) // 10, (start L) // 10 + (size L) // 10)``, L the row's length."""
    lo = (start * lengths) // 10
    return lo + jax.random.randint(key, lengths.shape, 0, (size * lengths) // 10)


def _temporal_order(key: jax.Array, n: int, length: int, starts: tuple[int, ...], spread: float, name: str):
    """Their temporal order: 6 one-hot channels, A (0) or B (1) at one position in each window ``[s L/10,
    (s + 1) L/10)``, c, d, e, f (2 .. 5) elsewhere; class ``sum_i v_i 2^i`` (the first position least significant,
    as their ``targ_vals = v0 + v1*2 (+ v2*4)``). No start or trigger symbol."""
    if length < 10:
        raise ValueError(f"lengths: {name} needs length >= 10 (each window is L/10 wide), got {length}")
    keys = jax.random.split(key, 3 + len(starts))
    rows, width = row_lengths(keys[0], n, length, spread)
    lengths = _own_lengths(rows, n, length)
    t = row_steps(rows, n, width)
    symbols = jax.random.randint(keys[1], (n, width), 2, 6)
    bits = jax.random.bernoulli(keys[2], 0.5, (n, len(starts))).astype(jnp.int32)
    for i, start in enumerate(starts):
        at = _window(keys[3 + i], lengths, start, 1)
        symbols = jnp.where(t == at[:, None], bits[:, i:i + 1], symbols)
    symbols = jnp.where(t < 0, -1, symbols)  # padding: no symbol
    label = jnp.sum(bits * 2 ** jnp.arange(len(starts)), axis=1).astype(jnp.int32)
    x = jax.nn.one_hot(symbols, 6, dtype=jnp.float32)
    return (x, label) if rows is None else Sequences(x, label, length=rows)


def temporal_order_fn(key: jax.Array, n: int, length: int, *, spread: float = 0.0):
    """``tempOrder.py`` at L = ``length`` (>= 10): A/B at p0 in [L/10, 2L/10) and at p1 in [5L/10, 6L/10); 4
    classes (AA 0, BA 1, AB 2, BB 3)."""
    return _temporal_order(key, n, length, (1, 5), spread, "temporal_order_pascanu")


def temporal_order_3bit_fn(key: jax.Array, n: int, length: int, *, spread: float = 0.0):
    """``tempOrder3bit.py`` at L = ``length`` (>= 10): A/B at p0 in [L/10, 2L/10), p1 in [3L/10, 4L/10) and p2 in
    [6L/10, 7L/10); 8 classes."""
    return _temporal_order(key, n, length, (1, 3, 6), spread, "temporal_order_3bit_pascanu")


def _marked(key: jax.Array, n: int, length: int, spread: float, combine, name: str):
    """``addition.py`` / ``multiplication.py``: channel 0 the marker (1 at p0 in [0, L/10) and at p1 in
    [L/10, 5L/10), else 0), channel 1 the value U[0, 1]; target ``combine(X0, X1)``, shape ``(n, 1)``."""
    if length < 10:
        raise ValueError(f"lengths: {name} needs length >= 10 (the first marker is among the first L/10), got {length}")
    k_rows, k_value, k_0, k_1 = jax.random.split(key, 4)
    rows, width = row_lengths(k_rows, n, length, spread)
    lengths = _own_lengths(rows, n, length)
    t = row_steps(rows, n, width)
    values = jnp.where(t >= 0, jax.random.uniform(k_value, (n, width), jnp.float32), 0.0)
    p0, p1 = _window(k_0, lengths, 0, 1), _window(k_1, lengths, 1, 4)
    m0, m1 = t == p0[:, None], t == p1[:, None]
    x0, x1 = jnp.sum(jnp.where(m0, values, 0.0), axis=1), jnp.sum(jnp.where(m1, values, 0.0), axis=1)
    x = jnp.stack([(m0 | m1).astype(jnp.float32), values], axis=-1)
    target = combine(x0, x1)[:, None]
    return (x, target) if rows is None else Sequences(x, target, length=rows)


def adding_fn(key: jax.Array, n: int, length: int, *, spread: float = 0.0):
    """``addition.py`` at L = ``length`` (>= 10): target ``(X0 + X1) / 2`` in [0, 1]."""
    return _marked(key, n, length, spread, lambda a, b: (a + b) / 2.0, "adding_pascanu")


def multiplication_fn(key: jax.Array, n: int, length: int, *, spread: float = 0.0):
    """``multiplication.py`` at L = ``length`` (>= 10): target ``X0 X1`` in [0, 1]."""
    return _marked(key, n, length, spread, lambda a, b: a * b, "multiplication_pascanu")


# memoryless baselines: the classes' entropy (balanced), the targets' variance (U[0, 1] values, independent)
temporal_order = TaskSpec(temporal_order_fn, Output("class", 4), NoErrors(), baseline=math.log(4),
                          label="temporal_order_pascanu")
temporal_order_3bit = TaskSpec(temporal_order_3bit_fn, Output("class", 8), NoErrors(), baseline=math.log(8),
                               label="temporal_order_3bit_pascanu")
adding = TaskSpec(adding_fn, Output("regress", 1), NoErrors(), baseline=(1 / 12 + 1 / 12) / 4, label="adding_pascanu")
multiplication = TaskSpec(multiplication_fn, Output("regress", 1), NoErrors(), baseline=1 / 9 - 1 / 16,
                          label="multiplication_pascanu")
