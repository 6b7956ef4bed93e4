"""Arjovsky, Shah & Bengio 2016's copy task (after Hochreiter & Schmidhuber 1997), a class at every step, and their
adding problem (Le, Jaitly & Hinton 2015's variant of H&S's), a regression at the end.

``../shared/SPEC.md`` section 7. The layout is the one of the expRNN code (Lezcano-Casado & Martínez-Rubio 2019,
``copying_data``): ``symbols`` = K symbols drawn uniformly from 1..8, then T blanks (0), the marker (9), K - 1
blanks: ``T + 2K`` steps, one-hot over 10 input symbols. The target is a blank (class 0) at every step but the
last K, which are the K symbols in order: the network must output the first symbol at the marker's own step.
(Arjovsky et al.'s own code puts T - 1 blanks before the marker and K after it: the same length, the recall one
step later.) The loss is the cross-entropy averaged over all ``T + 2K`` steps, and the memoryless strategy
(blanks, then uniform over the 8 symbols) scores ``K log 8 / (T + 2K)`` (:func:`copy_baseline`), the line every
paper draws. The paper has no success rule; latchjax's is Pascanu et al. 2013's "solved", :class:`NoErrors`: every
step of every test sequence right.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from latchjax.core.tasks.output import LossRatio, NoErrors, Output, Sequences, TaskSpec

COPY_SYMBOLS = 10  # K in Arjovsky et al. 2016
ALPHABET = 8  # the symbols 1..8; 0 is the blank, 9 the marker


def copy_baseline(length: int, *, symbols: int = COPY_SYMBOLS) -> float:
    """The memoryless cross-entropy of the copy task at delay T = ``length``: ``K log 8 / (T + 2K)``."""
    return symbols * math.log(ALPHABET) / (length + 2 * symbols)


def copy_fn(key: jax.Array, n: int, length: int, *, symbols: int = COPY_SYMBOLS) -> Sequences:
    """The copy task at delay T = ``length`` (>= 1): inputs ``(n, T + 2K, 10)``, targets ``(n, T + 2K)`` in 0..8
    (every row the same length T + 2K, so :class:`Sequences` says so)."""
    if length < 1:
        raise ValueError(f"lengths: copy needs a delay T >= 1, got {length}")
    if not (isinstance(symbols, int) and 1 <= symbols <= 1000):
        raise ValueError(f"symbols: must be an integer in [1, 1000], got {symbols!r}")
    width = length + 2 * symbols
    seq = jax.random.randint(key, (n, symbols), 1, ALPHABET + 1)
    blanks = jnp.zeros((n, length), jnp.int32)
    marker = jnp.full((n, 1), ALPHABET + 1, jnp.int32)
    x = jnp.concatenate([seq, blanks, marker, jnp.zeros((n, symbols - 1), jnp.int32)], axis=1)
    y = jnp.concatenate([jnp.zeros((n, length + symbols), jnp.int32), seq], axis=1)
    return Sequences(jax.nn.one_hot(x, ALPHABET + 2, dtype=jnp.float32), y, length=jnp.full((n,), width, jnp.int32))


copy = TaskSpec(copy_fn, Output("class", ALPHABET + 1, at="every"), NoErrors(), baseline=copy_baseline, label="copy")


ADDING_ARJOVSKY_BASELINE = 1.0 / 6.0  # Var(X1 + X2) of two independent U[0, 1]: the MSE of always predicting 1


def adding_arjovsky_fn(key: jax.Array, n: int, length: int) -> tuple[jax.Array, jax.Array]:
    """The adding problem as Arjovsky et al. 2016 (section 5.2 of the authors' draft) pose it after Le et al. 2015, at T = ``length`` (>= 2).

    Two channels: values U[0, 1], and an indicator with exactly two 1s, one uniform in the first half (steps
    ``0 .. T//2 - 1``), one in the second (``T//2 .. T - 1``); every other indicator 0. Target: the sum of the two
    marked values, in [0, 2], shape ``(n, 1)``. Checked against the paper's source and its ``adding_problem.py``
    (amarshah/complex_RNN; that code draws the second among ``T//2 .. 2 (T//2) - 1``, the same for an even T). No
    markers at the ends, no length spread, no X1 := 0: unlike H&S's :func:`~latchjax.core.tasks.hs97.adding_fn`.

    The papers have no success rule: curves against the memoryless baseline MSE 1/6 (always predicting 1, the
    variance of the sum), which Arjovsky et al. call "the baseline to beat" (T = 100, 200, 400, 750). latchjax's
    rule is :class:`LossRatio` ``(0.1)``: a validation MSE below a tenth of the baseline (the network explains 90%
    of the target's variance). A loss ratio, not H&S's per-sequence :class:`AbsError`, because these papers report
    the MSE against this baseline, so the rule reads on their figures' axis.
    """
    if length < 2:
        raise ValueError(f"lengths: adding_arjovsky needs length >= 2 (a marker in each half), got {length}")
    k_value, k_first, k_second = jax.random.split(key, 3)
    values = jax.random.uniform(k_value, (n, length), jnp.float32)
    first = jax.random.randint(k_first, (n,), 0, length // 2)
    second = jax.random.randint(k_second, (n,), length // 2, length)
    t = jnp.arange(length)
    marked = (t == first[:, None]) | (t == second[:, None])
    target = jnp.sum(jnp.where(marked, values, 0.0), axis=1, keepdims=True)
    return jnp.stack([values, marked.astype(jnp.float32)], axis=-1), target


adding_arjovsky = TaskSpec(adding_arjovsky_fn, Output("regress", 1), LossRatio(0.1, ADDING_ARJOVSKY_BASELINE),
                          baseline=ADDING_ARJOVSKY_BASELINE, label="adding_arjovsky")
