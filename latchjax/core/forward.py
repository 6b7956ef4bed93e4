"""Forward-mode gradients (exact real-time recurrent learning) as an alternative to backpropagation
through time.

Backpropagation through time (``jax.value_and_grad`` of :func:`latchjax.core.model.model_loss`) runs the
time scan forward, stores every step's residuals, then runs a second, backward scan: ``2 T`` sequential
steps. Real-time recurrent learning (Williams & Zipser 1989) carries, next to the state ``s``, its
sensitivities ``S = d s / d theta`` to the cell's parameters, updated at every step by the chain rule

    S_t = (d f / d s) S_{t-1} + d f / d theta,        s_t = f(s_{t-1}, x_t; theta),

so the gradient is known at the end of the one forward scan: ``T`` sequential steps, nothing stored.
Where each scan step costs a kernel launch (a GPU running many tiny cells) that halves the critical
path. The price is the width of ``S``: per batch row, (state size) x (number of cell parameters)
numbers, each step ``~n_params`` times the work of a plain step. Cheap for the one-unit cells of the
latching experiments (an LSTM(1) has 12 weights), prohibitive for large cells:
:func:`forward_is_cheaper` decides.

``S`` is one more part of the scan's carry, so the left-padding rule of
:func:`~latchjax.core.scan.masked_scan` holds it too: during padding the state and its sensitivities keep
their initial values (zero), exactly what the reverse pass computes for padded steps.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from latchjax.core.cells import Cell
from latchjax.core.model import head_logits, head_loss
from latchjax.core.scan import masked_scan

# The most cell parameters at which ``--gradient auto`` picks forward mode, per JAX backend. Forward mode halves
# the sequential steps but does ~n_params times the arithmetic per step.
# CPU, measured (benchmarks/bench_gradient.py: 240 vmapped models, batch 16, T=100, 2-core VM, where the step's
# arithmetic, not the loop, is what costs): forward mode's gradient is 2-4x faster for SimpleRNN(1)
# (3 parameters), about even for SimpleRNN(2) (8), 2-3.5x slower for every gated one-unit cell (JANET 6, BRC 7,
# GRU 9, LSTM 12) and 3.5-18x slower from 24 parameters up. Inside the whole trainer (data gathers, optimizer,
# validation) SimpleRNN(1)'s gain shrinks to about 1.2x (a 240-model epoch, 2 devices: 1.36 -> 1.10 s), while
# the different rounding of its gradients, amplified by 2500 optimizer steps, moves some final losses of the
# question's sweep by up to 1e-2 (success table unchanged). So ``auto`` keeps reverse mode on CPU, where
# the default must reproduce earlier results bit for bit, and ``--gradient forward`` is there to ask for it.
# Accelerators (a launch per scan step, the per-step work of tiny cells far below the device's width): every
# one-unit cell of every flavour (at most 16 parameters: a torch LSTM(1)) and nothing of 4 units; an estimate
# from the step counts, to be replaced by bench_gradient.py's numbers measured there.
FORWARD_MAX_PARAMS = {"cpu": 0}
FORWARD_MAX_PARAMS_ACCELERATOR = 16


def n_cell_params(cell: Cell, n_in: int) -> int:
    """The number of scalar parameters of ``cell`` reading ``n_in`` inputs (read-out excluded)."""
    shapes = jax.eval_shape(lambda: cell.init(jax.random.key(0), n_in))
    return int(sum(s.size for s in jax.tree.leaves(shapes)))


def forward_is_cheaper(cell: Cell, n_in: int, backend: str | None = None) -> bool:
    """Whether forward-mode gradients (:func:`forward_value_and_grad`) are expected to be no slower than
    backpropagation through time for ``cell`` reading ``n_in`` inputs on ``backend`` (default: JAX's
    default backend): whether it has at most ``FORWARD_MAX_PARAMS[backend]`` parameters (read-out excluded;
    :data:`FORWARD_MAX_PARAMS_ACCELERATOR` for a backend not listed).

    What ``--gradient auto`` asks. The sensitivities are (state size) x (parameters) numbers per row, growing
    as ``units^3``, and each step costs about ``n_params`` plain steps; reverse mode's extra cost is one more
    scan of the same length and the stored history, whatever the size.
    """
    backend = backend or jax.default_backend()
    bound = FORWARD_MAX_PARAMS.get(backend, FORWARD_MAX_PARAMS_ACCELERATOR)
    return n_cell_params(cell, n_in) <= bound


def forward_value_and_grad(cell: Cell, head: str, params: Any, x: jax.Array, y: jax.Array, weight: jax.Array,
                           start: int | jax.Array = 0, unroll: int = 1) -> tuple[tuple[jax.Array, jax.Array], Any]:
    """``((loss, acc), grads)`` of :func:`latchjax.core.model.model_loss` by forward-mode differentiation.

    The same value, to float rounding, as
    ``jax.value_and_grad(lambda p: model_loss(cell, head, p, x, y, weight, start, unroll), has_aux=True)(params)``,
    computed in one time scan carrying ``(state, d state / d params["cell"])``. ``x`` is (batch, T, n_in);
    ``start`` (a scalar, or one per row) is the number of left-padding steps, as in
    :func:`~latchjax.core.model.run_cell`. Entries of ``params`` other than ``cell`` and ``head`` get zero gradients.

    Example::

        (loss, acc), grads = forward_value_and_grad(cell, "softmax", params, x, y, jnp.ones(len(y)), start=3)
    """
    theta, unravel = ravel_pytree(params["cell"])
    n = theta.size
    batch, _, n_in = x.shape
    carry0 = cell.initial_carry(batch, n_in)
    # S: every carry leaf with a trailing axis of n sensitivities; zero, the initial state being constant
    sens0 = jax.tree.map(lambda c: jnp.zeros(c.shape + (n,), c.dtype), carry0)
    basis = jnp.eye(n, dtype=theta.dtype)  # d theta / d theta_k, one tangent per parameter

    def step(state, x_t):
        carry, sens = state

        def f(c, th):
            return cell.step(unravel(th), c, x_t)[0]

        carry, f_lin = jax.linearize(f, carry, theta)
        # S' = df/ds . S + df/dtheta, one jvp per parameter, all of them at once
        sens = jax.vmap(f_lin, in_axes=(-1, 0), out_axes=-1)(sens, basis)
        return (carry, sens), None

    (carry, sens), _ = masked_scan(step, (carry0, sens0), jnp.swapaxes(x, 0, 1), start, unroll=unroll)

    h, out_lin = jax.linearize(cell.output, carry)
    sens_h = jax.vmap(out_lin, in_axes=-1, out_axes=-1)(sens)  # d h_T / d theta: h.shape + (n,)

    def read_out(head_params, h):
        loss, correct = head_loss(head, head_logits({"head": head_params}, h), y)
        total = jnp.sum(weight)
        return jnp.sum(loss * weight) / total, jnp.sum(correct * weight) / total

    loss, pull_back, acc = jax.vjp(read_out, params["head"], h, has_aux=True)
    g_head, g_h = pull_back(jnp.ones_like(loss))
    g_cell = unravel(jnp.tensordot(g_h, sens_h, axes=g_h.ndim))
    grads = {k: jax.tree.map(jnp.zeros_like, v) for k, v in params.items()} | {"cell": g_cell, "head": g_head}
    return (loss, acc), grads
