"""Hochreiter & Schmidhuber 1997's adding problem (Exp. 4) and temporal order (Exp. 6a).

A sweep's ``lengths`` play the role of T. H&S draw every sequence's length uniformly in [T, T + T/10]:
``adding``'s ``spread`` option does so (``spread=0.1``; each row then has its own length, left-padded to
``T + floor(spread T)``); its default, 0, keeps every row at T. H&S train online (``--data online``).
``../shared/SPEC.md`` section 7 has the definitions they follow.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from latchjax.core.tasks.output import AbsError, Output, Sequences, TaskSpec

ADDING_BASELINE = 1.0 / 24.0  # MSE of the memoryless prediction 0.5: Var((X1 + X2) / 4) = 2 (1/3) / 16


def adding_fn(key: jax.Array, n: int, length: int, *, spread: float = 0.0):
    """H&S 1997 Exp. 4 at T = ``length`` (>= 10).

    Each step is a pair (value U[-1, 1], marker). One of the first 10 pairs is marked (marker 1; its value is
    X1), then one of the first T/2 - 1 pairs not yet marked (X2). Every other marker is 0, except the first
    and the last pair's, -1. When the first pair is the one marked, X1 := 0 (its value is set to 0, so the
    input says so too). Target ``0.5 + (X1 + X2) / 4`` in [0, 1], shape ``(n, 1)``.

    ``spread`` > 0 (H&S: 0.1): each row's length is drawn uniformly from ``T .. T + floor(spread T)`` (its X2 among
    its own first L/2 - 1 pairs), rows left-padded with zeros to that width; returns
    :class:`~latchjax.core.tasks.output.Sequences` with each row's length. ``spread`` 0: ``(x, y)``, every row T.
    """
    if length < 10:
        raise ValueError(f"lengths: adding needs length >= 10 (X1 is marked among the first 10 pairs), got {length}")
    if not (isinstance(spread, (int, float)) and 0 <= spread <= 10):
        raise ValueError(f"spread: must be a number in [0, 10], got {spread!r}")
    extra = int(spread * length)
    k_value, k_first, k_second = jax.random.split(key, 3)
    width = length + extra
    rows = jax.random.randint(jax.random.fold_in(key, 1), (n,), length, width + 1) if extra else jnp.full((n,), length)
    values = jax.random.uniform(k_value, (n, width), jnp.float32, -1.0, 1.0)
    p1 = jax.random.randint(k_first, (n,), 0, 10)
    r = jax.random.randint(k_second, (n,), 0, rows // 2 - 1) if extra else \
        jax.random.randint(k_second, (n,), 0, length // 2 - 1)
    p2 = jnp.where(r < p1, r, r + 1)  # the r-th of the first L/2 - 1 pairs that are not p1
    t = jnp.arange(width) - (width - rows)[:, None]  # each row's own step, negative on its padding
    marked = (t == p1[:, None]) | (t == p2[:, None])
    ends = (t == 0) | (t == rows[:, None] - 1)
    markers = jnp.where(marked, 1.0, jnp.where(ends, -1.0, 0.0))
    values = jnp.where(((t == 0) & (p1[:, None] == 0)) | (t < 0), 0.0, values)  # X1 := 0 when the first is marked
    target = 0.5 + jnp.sum(jnp.where(marked, values, 0.0), axis=1) / 4.0
    x = jnp.stack([values, markers], axis=-1)
    return Sequences(x, target[:, None], length=rows) if extra else (x, target[:, None])


SYMBOLS = ("E", "B", "a", "b", "c", "d", "X", "Y")


def temporal_order_fn(key: jax.Array, n: int, length: int) -> tuple[jax.Array, jax.Array]:
    """H&S 1997 Exp. 6a (temporal order, 4 classes) at a fixed length T = ``length`` (>= 10).

    One-hot symbols (:data:`SYMBOLS`): E first, the trigger B last, X or Y at t1 in [T/10, 2T/10] and at t2 in
    [T/2, 6T/10] (H&S's [10, 20] and [50, 60] at T = 100, scaled as Pascanu et al. 2013 scale theirs), a, b, c
    or d elsewhere. Class = the order of the two: XX 0, XY 1, YX 2, YY 3 (balanced in expectation).
    """
    if length < 10:
        raise ValueError(f"lengths: temporal_order needs length >= 10, got {length}")
    k_fill, k_t1, k_t2, k_class = jax.random.split(key, 4)
    symbols = jax.random.randint(k_fill, (n, length), 2, 6)  # a, b, c, d
    t1 = jax.random.randint(k_t1, (n,), length // 10, 2 * length // 10 + 1)
    t2 = jax.random.randint(k_t2, (n,), length // 2, 6 * length // 10 + 1)
    label = jax.random.randint(k_class, (n,), 0, 4)
    t = jnp.arange(length)
    first, second = 6 + label // 2, 6 + label % 2  # X = 6, Y = 7
    symbols = jnp.where(t == t1[:, None], first[:, None], symbols)
    symbols = jnp.where(t == t2[:, None], second[:, None], symbols)
    symbols = jnp.where(t == 0, 0, jnp.where(t == length - 1, 1, symbols))
    return jax.nn.one_hot(symbols, len(SYMBOLS), dtype=jnp.float32), label.astype(jnp.int32)


adding = TaskSpec(adding_fn, Output("regress", 1), AbsError(0.04), baseline=ADDING_BASELINE, label="adding")
temporal_order = TaskSpec(temporal_order_fn, Output("class", 4), label="temporal_order")  # success: accuracy >= the sweep's threshold
