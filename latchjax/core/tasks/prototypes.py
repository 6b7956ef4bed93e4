"""Noiseless class prototypes of a task, an untrained model's accuracy on them, and the head's orientation.

A task's *prototypes* are its inputs with the noise switched off, one per distinct class pattern:

* ``latch``: +1 then zeros (label 1) and -1 then zeros (label 0);
* ``two_sequence``: the first ``informative`` elements +1 (label 1) or -1 (label 0), zeros after;
* ``bit_relay``: x_0 = s1, x_middle = s2, zeros elsewhere, for (s1, s2) in {+-1}^2; label 1 iff s1 = s2.

The accuracy of a model on them, ``proto_acc``, is in {0, 1/2, 1} for two prototypes (quarters for
four). For a one-unit cell it is the general form of "the readout starts aligned with the latch":
1 when the head already reads the class off the state each prototype leaves, 0 when it reads it
reversed. Flipping the sign of the head's class difference maps ``proto_acc`` to ``1 - proto_acc``,
which is what ``head_init = aligned | reversed`` does (:func:`orient_head`).

Everything here takes the model's ``length`` as a traced value and left-pads to ``max_length``,
like the trainer, so it runs inside vmapped, mixed-length programs.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from latchjax.core.model import head_logits, head_loss, run_cell
from latchjax.core.tasks import TASKS, Task, bit_relay, latch, two_sequence


def _latch(t: jax.Array, start: jax.Array, length: jax.Array, **_) -> tuple[jax.Array, jax.Array]:
    first = (t == start).astype(jnp.float32)
    return jnp.stack([first, -first]), jnp.array([1, 0], jnp.int32)


def _two_sequence(t, start, length, informative: int = 1, **_):
    head = ((t >= start) & (t < start + informative)).astype(jnp.float32)
    return jnp.stack([head, -head]), jnp.array([1, 0], jnp.int32)


def _bit_relay(t, start, length, middle: int | None = None, **_):
    mid = length // 2 if middle is None else middle
    first, second = (t == start).astype(jnp.float32), (t == start + mid).astype(jnp.float32)
    s1 = jnp.array([1.0, -1.0, 1.0, -1.0])
    s2 = jnp.array([1.0, -1.0, -1.0, 1.0])
    x = s1[:, None] * first + s2[:, None] * second
    return x, (s1 == s2).astype(jnp.int32)


_PROTOTYPES = {latch: _latch, two_sequence: _two_sequence, bit_relay: _bit_relay}


def _builder(task: str | Task):
    task = TASKS.get(task, task) if isinstance(task, str) else task
    return _PROTOTYPES.get(task)


def has_prototypes(task: str | Task) -> bool:
    """Whether :func:`task_prototypes` knows ``task`` (latch, two_sequence, bit_relay)."""
    return _builder(task) is not None


def task_prototypes(task: str | Task, task_kwargs: dict, length: int | jax.Array,
                    max_length: int) -> tuple[jax.Array, jax.Array]:
    """The prototypes of ``task`` at ``length``, left-padded to ``max_length``: ``x (k, max_length, 1)``,
    ``y (k,)``. ``length`` may be traced. Raises ``ValueError`` for a task without prototypes."""
    build = _builder(task)
    if build is None:
        raise ValueError(f"task: {task!r} has no class prototypes (latch, bit_relay and two_sequence have)")
    t = jnp.arange(max_length)
    x, y = build(t, max_length - length, length, **{k: v for k, v in dict(task_kwargs).items() if k != "noise"})
    return x[..., None], y


def prototype_accuracy(cell: Any, params: dict, task: str | Task, task_kwargs: dict, head: str,
                       length: int | jax.Array, max_length: int) -> jax.Array:
    """Accuracy of the model ``params = {"cell", "head"}`` (``head``: ``softmax`` or ``sigmoid``) on the noiseless
    prototypes of ``task`` at ``length``: the fraction classified right by the head on the cell's last output
    (ties go to class 0)."""
    x, y = task_prototypes(task, task_kwargs, length, max_length)
    h = run_cell(cell, params["cell"], x, max_length - length)
    _, correct = head_loss(head, head_logits(params, h), y)
    return jnp.mean(correct)


def flip_head(head: dict) -> dict:
    """The head with its class difference negated: Dense(2)'s columns swapped, Dense(1)'s sign flipped.

    For any input the new logit difference is minus the old one, so every prediction that was not a tie
    changes class."""
    if head["kernel"].shape[-1] == 2:
        return {"kernel": head["kernel"][..., ::-1], "bias": head["bias"][..., ::-1]}
    return {"kernel": -head["kernel"], "bias": -head["bias"]}


def orient_head(cell: Any, params: dict, task: str | Task, task_kwargs: dict, head: str, head_init: str,
                length: int | jax.Array, max_length: int) -> dict:
    """``head_init = aligned``: flip the head where the prototypes' accuracy (:func:`prototype_accuracy`) is
    below 1/2; ``reversed``: where it is above 1/2. A model at exactly 1/2 (both prototypes in one class) is
    left as drawn: no flip of the head can align it."""
    acc = prototype_accuracy(cell, params, task, task_kwargs, head, length, max_length)
    flip = acc < 0.5 if head_init == "aligned" else acc > 0.5
    head = jax.tree.map(lambda old, new: jnp.where(flip, new, old), params["head"], flip_head(params["head"]))
    return {"cell": params["cell"], "head": head}
