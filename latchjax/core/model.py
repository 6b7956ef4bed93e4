"""The model every sweep trains: a recurrent cell read out by a dense head, and its loss.

Pure functions of parameters and data; :mod:`latchjax.sweep.trainer` differentiates and vmaps them.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp

from latchjax.core.cells import FLAVORS, Cell, torch_uniform
from latchjax.core.scan import masked_scan

# What the backward pass keeps of each time step: only matrix products (of cells wider than 16 units, see
# kinds._dot); the rest of the step is recomputed from the carry. Storing every intermediate of a small cell
# costs more than recomputing it: LSTM(1) 1.4x, GRU(1) 1.8x, SimpleRNN(1) 1.3x faster per epoch, LSTM(32)
# 1.5x (benchmarks/RESULTS.md); the gradients are the same bit for bit (LSTM, SimpleRNN) or to 6e-8 (GRU).
RECOMPUTE_POLICY = jax.checkpoint_policies.dots_saveable


HEAD_LOSSES = ("softmax", "sigmoid", "mse")


def head_size(head: str, size: int = 2) -> int:
    """The head's width: 1 for ``sigmoid`` (Dense(1) + BCE), else the output's ``size`` (K classes for
    ``softmax``, d outputs for ``mse``)."""
    return 1 if head == "sigmoid" else size


def init_head(key: jax.Array, cell: Cell, head: str, size: int = 2) -> dict:
    """The read-out as the cell's framework initialises it: Keras's Dense (glorot_uniform kernel, zero
    bias) or PyTorch's ``nn.Linear(units, n_out)`` (weight and bias U(-1/sqrt(units), 1/sqrt(units)));
    stored as ``kernel (units, n_out)`` and ``bias (n_out,)`` either way. ``n_out`` is
    :func:`head_size` of ``head`` and the output's ``size`` (2 classes by default)."""
    units, n_out = cell.units, head_size(head, size)
    if FLAVORS[cell.flavor].layout == "torch":
        k_weight, k_bias = jax.random.split(key)
        return {"kernel": torch_uniform(k_weight, (n_out, units), units).T,
                "bias": torch_uniform(k_bias, (n_out,), units)}
    limit = jnp.sqrt(6.0 / (units + n_out))
    return {
        "kernel": jax.random.uniform(key, (units, n_out), jnp.float32, -limit, limit),
        "bias": jnp.zeros((n_out,), jnp.float32),
    }


def head_logits(params: Any, h: jax.Array) -> jax.Array:
    """The Dense head on the cell's last output: ``h @ kernel + bias``."""
    return h @ params["head"]["kernel"] + params["head"]["bias"]


def head_loss(head: str, logits: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Per-sample loss and correctness of Dense(K)+softmax+CE (labels ``y (n,)``), Dense(1)+sigmoid+BCE, or
    Dense(d)+MSE (``mse``: targets ``y (n, d)``, loss the mean over the d outputs, correctness NaN)."""
    if head == "mse":
        return jnp.mean((logits - y) ** 2, axis=-1), jnp.full(logits.shape[:-1], jnp.nan, jnp.float32)
    if head == "softmax":
        logp = jax.nn.log_softmax(logits)
        loss = -jnp.take_along_axis(logp, y[:, None], axis=1)[:, 0]
        correct = jnp.argmax(logits, axis=1) == y
    else:
        z = logits[:, 0]
        loss = jax.nn.softplus(z) - y * z
        correct = (z > 0) == (y == 1)
    return loss, correct.astype(jnp.float32)


def run_cell(cell: Cell, params: Any, x: jax.Array, start: int | jax.Array = 0, unroll: int = 1) -> jax.Array:
    """The cell's last output after reading ``x`` of shape (batch, T, n_in).

    Steps ``t < start`` are left padding (:func:`~latchjax.core.scan.masked_scan`): the state stays at its
    initial value, so a sequence left-padded to any length gives exactly the result of the unpadded one.
    """
    batch, _, n_in = x.shape

    @functools.partial(jax.checkpoint, policy=RECOMPUTE_POLICY)
    def step(carry, x_t):
        return cell.step(params, carry, x_t)[0], None

    carry, _ = masked_scan(step, cell.initial_carry(batch, n_in), jnp.swapaxes(x, 0, 1), start, unroll=unroll)
    return cell.output(carry)


def model_loss(cell: Cell, head: str, params: Any, x: jax.Array, y: jax.Array, weight: jax.Array,
               start: int | jax.Array = 0, unroll: int = 1) -> tuple[jax.Array, jax.Array]:
    """Weighted mean loss and accuracy of the model ``params = {"cell", "head"}`` on a batch."""
    loss, correct = head_loss(head, head_logits(params, run_cell(cell, params["cell"], x, start, unroll)), y)
    total = jnp.sum(weight)
    return jnp.sum(loss * weight) / total, jnp.sum(correct * weight) / total
