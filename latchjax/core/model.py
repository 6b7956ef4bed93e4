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


HEAD_LOSSES = ("softmax", "sigmoid", "mse", "bce")


def head_size(head: str, size: int = 2) -> int:
    """The head's width: 1 for ``sigmoid`` (Dense(1) + BCE), else the output's ``size`` (K classes for
    ``softmax``, d outputs for ``mse`` and ``bce``)."""
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
    """The Dense head on the cell's output(s): ``h @ kernel + bias`` (``h`` ``(n, units)`` or ``(n, T, units)``)."""
    return h @ params["head"]["kernel"] + params["head"]["bias"]


def head_loss(head: str, logits: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Loss and correctness of every output read (logits ``(..., n_out)``, targets ``(...)`` labels or
    ``(..., d)``): Dense(K)+softmax+CE (labels), Dense(1)+sigmoid+BCE (0/1 labels), Dense(d)+MSE (``mse``: the mean
    over the d outputs, correctness NaN) or Dense(d)+sigmoid+BCE per label (``bce``, multilabel 0/1 targets: the
    mean over the d labels, correct when every label's sign is right)."""
    if head == "mse":
        return jnp.mean((logits - y) ** 2, axis=-1), jnp.full(logits.shape[:-1], jnp.nan, jnp.float32)
    if head == "bce":
        loss = jnp.mean(jax.nn.softplus(logits) - y * logits, axis=-1)
        return loss, jnp.all((logits > 0) == (y > 0.5), axis=-1).astype(jnp.float32)
    if head == "softmax":
        logp = jax.nn.log_softmax(logits)
        loss = -jnp.take_along_axis(logp, y[..., None], axis=-1)[..., 0]
        correct = jnp.argmax(logits, axis=-1) == y
    else:
        z = logits[..., 0]
        loss = jax.nn.softplus(z) - y * z
        correct = (z > 0) == (y == 1)
    return loss, correct.astype(jnp.float32)


def sequence_loss(head: str, logits: jax.Array, y: jax.Array,
                  mask: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
    """Per-sequence loss and accuracy: :func:`head_loss` of the last step's output (``mask`` ``None``), or of every
    step's, averaged over each sequence's counted steps (``mask (n, T)``, 1 where a step counts)."""
    loss, correct = head_loss(head, logits, y)
    if mask is None:
        return loss, correct
    count = jnp.sum(mask, axis=1)
    return jnp.sum(loss * mask, axis=1) / count, jnp.sum(correct * mask, axis=1) / count


def run_cell(cell: Cell, params: Any, x: jax.Array, start: int | jax.Array = 0, unroll: int = 1,
             every: bool = False) -> jax.Array:
    """The cell's last output after reading ``x`` of shape (batch, T, n_in), or with ``every`` its output after
    every step, ``(batch, T, units)``.

    Steps ``t < start`` (a scalar, or one start per row) are left padding (:func:`~latchjax.core.scan.masked_scan`):
    the state stays at its initial value, so a sequence left-padded to any length gives exactly the result of the
    unpadded one.
    """
    batch, _, n_in = x.shape

    @functools.partial(jax.checkpoint, policy=RECOMPUTE_POLICY)
    def step(carry, x_t):
        new = cell.step(params, carry, x_t)[0]
        return new, (cell.output(new) if every else None)

    carry, outs = masked_scan(step, cell.initial_carry(batch, n_in), jnp.swapaxes(x, 0, 1), start, outputs=every,
                              unroll=unroll)
    return jnp.swapaxes(outs, 0, 1) if every else cell.output(carry)


def model_outputs(cell: Cell, params: Any, x: jax.Array, start: int | jax.Array = 0, unroll: int = 1,
                  every: bool = False) -> jax.Array:
    """The model's head outputs (logits or predictions) at the last step, or at every step with ``every``."""
    return head_logits(params, run_cell(cell, params["cell"], x, start, unroll, every))


def model_loss(cell: Cell, head: str, params: Any, x: jax.Array, y: jax.Array, weight: jax.Array,
               start: int | jax.Array = 0, unroll: int = 1, mask: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
    """Weighted mean loss and accuracy of the model ``params = {"cell", "head"}`` on a batch (``weight`` one per
    sequence; ``mask (batch, T)``: an output at every step, each sequence's loss the mean over its counted steps,
    :func:`sequence_loss`)."""
    outputs = model_outputs(cell, params, x, start, unroll, every=mask is not None)
    loss, correct = sequence_loss(head, outputs, y, mask)
    total = jnp.sum(weight)
    return jnp.sum(loss * weight) / total, jnp.sum(correct * weight) / total
