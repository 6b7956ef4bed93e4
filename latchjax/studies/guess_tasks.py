"""The tasks of random weight guessing (Hochreiter & Schmidhuber 1996/2001), at variable lengths.

Every sequence has its own length, drawn uniformly in [length, length_max]; sequences are left-padded
(:class:`Batch`), so each one is processed at exactly its own length (:func:`latchjax.core.scan.masked_scan`).
A task draws its sequences from positions ``j (n, T)`` (negative: padding); ``two_sequence`` and
``parity`` are the position-based cores of :mod:`latchjax.core.tasks`, so the fixed-length tasks of a sweep
and the guessing tasks draw the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from latchjax.core.tasks import parity_at, signs_positive_first, two_sequence_at


@dataclass(frozen=True)
class Batch:
    """Sequences left-padded to ``length_max``: ``x (n, T, n_in)``, ``start (n,)`` (index of each
    sequence's first element), ``target (n,)``."""

    x: np.ndarray
    start: np.ndarray
    target: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        return self.x.shape[1] - self.start


@dataclass(frozen=True)
class GuessTask:
    """A task as H&S define it: how to draw sequences, the targets, and when an output is correct
    (``|output - target| < tolerance``)."""

    name: str
    n_in: int
    targets: tuple[float, float]  # (low, high): the range the read-out must reach
    tolerance: float
    length: int  # default minimal length T
    length_max: Callable[[int], int]  # default longest length for a given T
    draw: Callable[..., tuple[jax.Array, jax.Array]]  # (key, n, T, j, **options) -> (x, target)
    doc: str


def _draw_latch1(key, n, T, j, *, noise_var=0.2):
    s = signs_positive_first(n)[:, None]
    eps = math.sqrt(noise_var) * jax.random.normal(key, j.shape)
    first = j == 0
    # channel 0: noise after the first element; channel 1: which trainable first input (+1 / -1) to add
    x = jnp.stack([jnp.where(first, 0.0, eps), jnp.where(first, s, 0.0)], axis=-1)
    return x, 0.8 * s[:, 0]


def _draw_latch2(key, n, T, j, *, noise_var=0.2):
    s = signs_positive_first(n)[:, None]
    eps = math.sqrt(noise_var) * jax.random.normal(key, j.shape)
    return jnp.where(j == 0, s, eps)[..., None], s[:, 0]


def _draw_two_sequence(key, n, T, j, *, N=1, noise_var=0.2):
    x, s = two_sequence_at(key, j, noise=math.sqrt(noise_var), informative=N)
    return x, (s > 0).astype(jnp.float32)


def _draw_parity(key, n, T, j):
    x, odd = parity_at(key, j)
    return x, odd.astype(jnp.float32)


def _draw_adding(key, n, T, j):
    k_val, k_1, k_2 = jax.random.split(key, 3)
    values = jax.random.uniform(k_val, j.shape, minval=-1.0, maxval=1.0)
    m1 = jax.random.randint(k_1, (n, 1), 0, 10)  # one of the first ten pairs
    r = jax.random.randint(k_2, (n, 1), 0, T // 2 - 1)  # one of the first T/2 - 1 still unmarked pairs
    m2 = r + (r >= m1)
    marked = (j == m1) | (j == m2)
    values = jnp.where((j == 0) & (m1 == 0), 0.0, values)  # H&S: X1 = 0 when the first pair is marked
    length = jnp.sum(j >= 0, axis=1, keepdims=True)
    ends = (j == 0) | (j == length - 1)
    marker = jnp.where(marked, 1.0, jnp.where(ends, -1.0, 0.0))
    values, marker = jnp.where(j >= 0, values, 0.0), jnp.where(j >= 0, marker, 0.0)
    target = 0.5 + jnp.sum(jnp.where(marked, values, 0.0), axis=1) / 4.0
    return jnp.stack([values, marker], axis=-1), target


TASKS: dict[str, GuessTask] = {t.name: t for t in [
    GuessTask("latch1", 2, (-0.8, 0.8), 0.8, 500, lambda T: T + T // 5, _draw_latch1,
              "Bengio's latch, L=1: the first input is a free parameter per class; noise variance 0.2 after "
              "it; targets +-0.8; correct = the output's sign"),
    GuessTask("latch2", 1, (-1.0, 1.0), 0.1, 500, lambda T: T + T // 5, _draw_latch2,
              "first input +-1, noise variance 0.2 after it; targets +-1; correct = |error| < 0.1"),
    GuessTask("two_sequence", 1, (0.0, 1.0), 0.2, 100, lambda T: T + T // 10, _draw_two_sequence,
              "first N inputs +-1, Gaussian noise variance 0.2 after them; targets 1/0; correct = |error| < 0.2"),
    GuessTask("parity", 1, (0.0, 1.0), 0.1, 500, lambda T: T + T // 5, _draw_parity,
              "+-1 inputs; target 1 for an odd number of +1, else 0; correct = |error| < 0.1"),
    GuessTask("adding", 2, (0.0, 1.0), 0.04, 100, lambda T: T + T // 10, _draw_adding,
              "pairs (value in [-1,1], marker); target 0.5 + (X1+X2)/4; correct = |error| < 0.04"),
]}
TASK_OPTIONS = {"latch1": ("noise_var",), "latch2": ("noise_var",), "two_sequence": ("N", "noise_var"),
                "parity": (), "adding": ()}


def make_batch(task: GuessTask, key: jax.Array, n: int, length: int, length_max: int, **options) -> Batch:
    """``n`` sequences of ``task``, each of a length drawn uniformly in [length, length_max]."""
    k_len, k_draw = jax.random.split(key)
    lengths = jax.random.randint(k_len, (n,), length, length_max + 1)
    start = length_max - lengths
    j = jnp.arange(length_max)[None, :] - start[:, None]  # position within the sequence; < 0 is padding
    x, target = task.draw(k_draw, n, length, j, **options)
    x = jnp.where((j >= 0)[..., None], x, 0.0)
    return Batch(np.asarray(x, np.float32), np.asarray(start, np.int32), np.asarray(target, np.float32))
