"""The model every sweep trains: a recurrent cell read out by a dense head, and its loss.

Pure functions of parameters and data; :mod:`latchjax.sweep.trainer` differentiates and vmaps them.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp

from latchjax.core.cells import FLAVORS, Cell, torch_uniform
from latchjax.core.scan import linear_scan, masked_scan

# What the backward pass keeps of each time step: only matrix products (of cells wider than 16 units, see
# kinds._dot); the rest of the step is recomputed from the carry. Storing every intermediate of a small cell
# costs more than recomputing it: LSTM(1) 1.4x, GRU(1) 1.8x, SimpleRNN(1) 1.3x faster per epoch, LSTM(32)
# 1.5x (benchmarks/RESULTS.md); the gradients are the same bit for bit (LSTM, SimpleRNN) or to 6e-8 (GRU).
RECOMPUTE_POLICY = jax.checkpoint_policies.dots_saveable


HEAD_LOSSES = ("softmax", "sigmoid", "mse", "bce")
SCANS = ("sequential", "parallel")  # how run_cell runs the time loop (a sweep's --scan adds "auto")

# Whether ``--scan auto`` takes the parallel scan for a linear cell, per backend (one not listed: not measured, the
# time loop). CPU: the parallel scan measured 1.5-20x slower for lru, mingru, minlstm and s6 from T = 100 to 4000
# (a step of 8 vmapped 1-unit models, batch 16, 2-core EPYC), faster only for the LRU at T <= 30, by 0.1 ms
# (benchmarks/RESULTS.md, "The parallel scan against the time loop").
PARALLEL_SCAN_FASTER: dict[str, bool] = {"cpu": False}


def parallel_is_faster(cell: Cell, backend: str | None = None) -> bool:
    """Whether ``--scan auto`` runs ``cell`` by the parallel scan (:func:`run_linear`) on ``backend`` (default: JAX's
    default backend): only a cell linear in its state, and only where it measured faster
    (:data:`PARALLEL_SCAN_FASTER`, benchmarks/RESULTS.md)."""
    backend = backend or jax.default_backend()
    return bool(getattr(cell, "linear", False) and PARALLEL_SCAN_FASTER.get(backend, False))


def resolve_scan(cell: Cell, scan: str, backend: str | None = None) -> str:
    """``sequential`` or ``parallel``: a sweep's ``--scan`` for ``cell`` (``auto``: :func:`parallel_is_faster`)."""
    if scan == "auto":
        return "parallel" if parallel_is_faster(cell, backend) else "sequential"
    return scan


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
             every: bool = False, scan: str = "sequential") -> jax.Array:
    """The cell's last output after reading ``x`` of shape (batch, T, n_in), or with ``every`` its output after
    every step, ``(batch, T, units)``.

    Steps ``t < start`` (a scalar, or one start per row) are left padding (:func:`~latchjax.core.scan.masked_scan`):
    the state stays at its initial value, so a sequence left-padded to any length gives exactly the result of the
    unpadded one. ``scan`` ``"parallel"`` runs a cell linear in its state (``cell.linear``: LRU, minGRU, minLSTM,
    S6) by :func:`run_linear` instead of the time loop: the same values to float rounding.
    """
    if scan == "parallel":
        return run_linear(cell, params, x, start, every)
    if scan != "sequential":
        raise ValueError(f"scan: must be one of {', '.join(SCANS)}, got {scan!r}")
    batch, _, n_in = x.shape

    @functools.partial(jax.checkpoint, policy=RECOMPUTE_POLICY)
    def step(carry, x_t):
        new = cell.step(params, carry, x_t)[0]
        return new, (cell.output(new) if every else None)

    carry, outs = masked_scan(step, cell.initial_carry(batch, n_in), jnp.swapaxes(x, 0, 1), start, outputs=every,
                              unroll=unroll)
    return jnp.swapaxes(outs, 0, 1) if every else cell.output(carry)


def _complex(v: Any) -> Any:
    """A ``(real, imaginary)`` pair as one complex array (the LRU's state and coefficients); an array unchanged."""
    return jax.lax.complex(*v) if isinstance(v, tuple) else v


def _parts(v: jax.Array, like: Any) -> Any:
    return (jnp.real(v), jnp.imag(v)) if isinstance(like, tuple) else v


def run_linear(cell: Any, params: Any, x: jax.Array, start: int | jax.Array = 0, every: bool = False) -> jax.Array:
    """:func:`run_cell` of a cell linear in its state, h_t = a_t ⊙ h_{t-1} + b_t with a_t, b_t from x_t alone, by
    :func:`~latchjax.core.scan.linear_scan` (``jax.lax.associative_scan``): about 2 log2 T dependent steps instead
    of T. The coefficients of every step are computed at once (in log space where the cell's authors scan so:
    ``cell.log_space``), composed, and read out at every step (``every``) or the last.

    The same values as the time loop to float rounding, padding included: a padded step's state is held, and what
    it emits is the step from the held state (as :func:`run_cell` emits it)."""
    if not getattr(cell, "linear", False):
        raise ValueError(f"scan: the parallel scan is for cells linear in their state (lru, mingru, minlstm, s6), "
                         f"not {cell.name}")
    batch, _, n_in = x.shape
    xs = jnp.swapaxes(x, 0, 1)  # (T, batch, n_in)
    like = cell.linear_state(cell.initial_carry(batch, n_in))
    h0 = _complex(like)
    log = cell.log_space
    a, b = (_complex(c) for c in cell.coefficients(params, xs, log))  # the step's equations act on the last axis
    a = jnp.broadcast_to(a, b.shape)  # the LRU's λ is the same for every step and row
    hs = linear_scan(a, b, h0, start, log=log)
    if every:
        if log:
            a, b = jnp.exp(a), jnp.exp(b)
        # what step t emits from the state before it (held through padding): hs[t] itself where t is not padding
        before = jnp.concatenate([h0[None], hs[:-1]])
        carries = jax.vmap(lambda h, x_t: cell.readout(params, _parts(h, like), x_t))(a * before + b, xs)
        return jnp.swapaxes(cell.output(carries), 0, 1)
    return cell.output(cell.readout(params, _parts(hs[-1], like), xs[-1]))


def model_outputs(cell: Cell, params: Any, x: jax.Array, start: int | jax.Array = 0, unroll: int = 1,
                  every: bool = False, scan: str = "sequential") -> jax.Array:
    """The model's head outputs (logits or predictions) at the last step, or at every step with ``every``."""
    return head_logits(params, run_cell(cell, params["cell"], x, start, unroll, every, scan))


def model_loss(cell: Cell, head: str, params: Any, x: jax.Array, y: jax.Array, weight: jax.Array,
               start: int | jax.Array = 0, unroll: int = 1, mask: jax.Array | None = None,
               scan: str = "sequential") -> tuple[jax.Array, jax.Array]:
    """Weighted mean loss and accuracy of the model ``params = {"cell", "head"}`` on a batch (``weight`` one per
    sequence; ``mask (batch, T)``: an output at every step, each sequence's loss the mean over its counted steps,
    :func:`sequence_loss`; ``scan``: :func:`run_cell`'s)."""
    outputs = model_outputs(cell, params, x, start, unroll, mask is not None, scan)
    loss, correct = sequence_loss(head, outputs, y, mask)
    total = jnp.sum(weight)
    return jnp.sum(loss * weight) / total, jnp.sum(correct * weight) / total
