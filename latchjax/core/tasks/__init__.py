"""Sequence tasks, one module per family: the question thread's (:mod:`.question`: ``latch``, ``bit_relay``),
Bengio 1994's (:mod:`.bengio94`: ``two_sequence``, ``parity``), Hochreiter & Schmidhuber 1997's (:mod:`.hs97`:
``reber``, ``long_lag``, ``two_sequence_3a/3b/3c``, ``adding``, ``multiplication``, ``temporal_order``,
``temporal_order_8``), Arjovsky et al. 2016's (:mod:`.arjovsky16`: ``copy``, 9 classes at every step, and
``adding_arjovsky``), Pascanu et al. 2013's (:mod:`.pascanu13`: ``*_pascanu``), Jaeger 2001's (:mod:`.jaeger01`:
``memory_capacity`` and its measure :func:`memory_capacity`) and Sussillo & Barak 2013's (:mod:`.sussillo13`:
``flip_flop``), and scikit-learn's 8x8 digits read in sequence (:mod:`.digits`: ``digits_pixel``, ``digits_row``,
``digits_permuted``; not sequential MNIST); :data:`TASKS` is the registry.

A task is any function ``task(key, n, length) -> (x, y)`` with ``x`` of shape
``(n, length, n_in)`` (float32) and ``y`` of shape ``(n,)`` (int32 labels 0/1).
Rows come in *construction order*: the built-in tasks put every positive (label 1)
row first, exactly as the question's script does, which is what makes Keras's
``validation_split`` take an all-negative validation set (see :mod:`latchjax.core.data`).

Pass your own function wherever a task name is accepted::

    def my_task(key, n, length):
        x = jax.random.normal(key, (n, length, 1))
        y = (x[:, 0, 0] > 0).astype(jnp.int32)
        return x, y

A task that asks more than one binary class (K classes, a regression, its own success rule) is a
:class:`~latchjax.core.tasks.output.TaskSpec` (see :mod:`latchjax.core.tasks.output`).

Task options (``noise``, ``middle``) are bound with ``functools.partial`` or given
as ``task_kwargs`` in a :class:`~latchjax.sweep.config.SweepConfig`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax

from latchjax.core.tasks import pascanu13
from latchjax.core.tasks.arjovsky16 import adding_arjovsky, copy
from latchjax.core.tasks.bengio94 import parity, parity_at, two_sequence, two_sequence_at
from latchjax.core.tasks.common import positions, signs_positive_first
from latchjax.core.tasks.digits import digits_permuted, digits_pixel, digits_row
from latchjax.core.tasks.hs97 import (
    adding,
    long_lag,
    multiplication,
    reber,
    temporal_order,
    temporal_order_8,
    two_sequence_3a,
    two_sequence_3b,
    two_sequence_3c,
)
from latchjax.core.tasks.jaeger01 import memory_capacity, memory_capacity_task
from latchjax.core.tasks.output import Output, Sequences, TaskSpec
from latchjax.core.tasks.question import bit_relay, latch
from latchjax.core.tasks.sussillo13 import flip_flop

Task = Callable[[jax.Array, int, int], tuple[jax.Array, jax.Array]]


TASKS: dict[str, Task] = {
    "latch": latch, "bit_relay": bit_relay, "two_sequence": two_sequence, "parity": parity,
    # Hochreiter & Schmidhuber 1997, Exp. 1 - 6
    "reber": reber, "long_lag": long_lag, "two_sequence_3a": two_sequence_3a, "two_sequence_3b": two_sequence_3b,
    "two_sequence_3c": two_sequence_3c, "adding": adding, "multiplication": multiplication,
    "temporal_order": temporal_order, "temporal_order_8": temporal_order_8,
    # Arjovsky, Shah & Bengio 2016
    "copy": copy, "adding_arjovsky": adding_arjovsky,
    # Pascanu, Mikolov & Bengio 2013 (their code's definitions, their "solved")
    "temporal_order_pascanu": pascanu13.temporal_order, "temporal_order_3bit_pascanu": pascanu13.temporal_order_3bit,
    "adding_pascanu": pascanu13.adding, "multiplication_pascanu": pascanu13.multiplication,
    # Jaeger 2001, Sussillo & Barak 2013: regressions at every step
    "memory_capacity": memory_capacity_task, "flip_flop": flip_flop,
    # scikit-learn's 8x8 digits read in sequence (an optional extra; not sequential MNIST)
    "digits_pixel": digits_pixel, "digits_row": digits_row, "digits_permuted": digits_permuted,
}


# The options of the built-in tasks as users set them (type, help); each task's own keyword default is the
# default (noise: 0.1 for latch and bit_relay, sqrt(0.2) for two_sequence, as H&S's variance 0.2).
TASK_OPTIONS: dict[str, tuple[type, str]] = {
    "noise": (float, "standard deviation of the Gaussian noise on every element"),
    "middle": (int, "bit_relay: position of the second bit (default: length // 2)"),
    "informative": (int, "two_sequence (and H&S's 3a/3b/3c): number of first elements carrying the class"),
    "spread": (float, "H&S 1997's and Pascanu 2013's tasks: each row's length drawn uniformly in [T, T + spread T] "
                      "(H&S 1997: 0.1)"),
    "target_noise": (float, "two_sequence_3c: standard deviation of the Gaussian noise on the targets"),
    "washout": (int, "memory_capacity: the first steps, not counted (>= 40, the longest delay)"),
    "rate": (float, "flip_flop: each channel's probability of a pulse at each step"),
    "part": (str, "digits_*: which part of the fixed stratified split to draw images from: train or test"),
    "symbols": (int, "copy: how many symbols to copy (K)"),
}


def make_task(task: str | Task, **kwargs) -> Task:
    """A task by name (:data:`TASKS`), a user function or a :class:`TaskSpec`, with options bound."""
    if isinstance(task, str):
        if task not in TASKS:
            raise ValueError(f"task: unknown task {task!r}; allowed: {', '.join(TASKS)} or a function")
        task = TASKS[task]
    elif not callable(task):
        raise ValueError(f"task: expected a task name or a function (key, n, length) -> (x, y), got {task!r}")
    if isinstance(task, TaskSpec):
        return task.bind(**kwargs)
    return functools.partial(task, **kwargs) if kwargs else task


__all__ = ["Task", "TaskSpec", "Output", "Sequences", "TASKS", "TASK_OPTIONS", "make_task", "latch", "bit_relay", "two_sequence", "parity",
           "adding", "temporal_order", "copy", "two_sequence_at", "parity_at", "positions", "signs_positive_first",
           "reber", "long_lag", "two_sequence_3a", "two_sequence_3b", "two_sequence_3c", "multiplication",
           "temporal_order_8", "adding_arjovsky", "pascanu13", "memory_capacity", "memory_capacity_task", "flip_flop",
           "digits_pixel", "digits_row", "digits_permuted"]
