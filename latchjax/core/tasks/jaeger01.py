"""Jaeger 2001 ("Short term memory in echo state networks", GMD Report 152): the memory capacity task, a regression
at every step, and :func:`memory_capacity`, its measure.

The input is i.i.d. u(t) ~ U[-0.5, 0.5]; output k (k = 1 .. K) is trained to give the input k steps back,
y_k(t) = u(t - k), at every step after a washout. The memory capacity is

.. math::

    MC_k = r^2\\big(u(t - k), y_k(t)\\big), \\qquad MC = \\sum_{k=1}^{K} MC_k,

the squared correlation coefficient of each delay's output with its target over the counted steps; Jaeger shows
MC <= N for N linear units (``../shared/SPEC.md`` section 7). latchjax adds the horizon
k* = max{k : MC_k >= 0.5}, the longest delay recalled with at least half its variance. K = :data:`DELAYS` = 40 is
fixed (it is the output's size); *[unverified]*: the paper's own K, washout and network sizes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from latchjax.core.tasks.output import LossRatio, Output, Sequences, TaskSpec

DELAYS = 40  # K: the delays 1 .. 40, one output each
INPUT_VARIANCE = 1.0 / 12.0  # Var U[-0.5, 0.5]: the MSE of predicting 0, each delay's memoryless baseline


def memory_capacity_fn(key: jax.Array, n: int, length: int, *, washout: int = DELAYS) -> Sequences:
    """T = ``length`` steps of u ~ U[-0.5, 0.5] (inputs ``(n, T, 1)``) and the K = 40 delayed copies as targets
    ``(n, T, 40)``, target k - 1 at step t being u(t - k); the mask counts the steps ``t >= washout`` (>= 40, so
    that every counted target is an input the network saw)."""
    if not (isinstance(washout, int) and DELAYS <= washout):
        raise ValueError(f"washout: must be an integer >= {DELAYS} (the longest delay), got {washout!r}")
    if length <= washout:
        raise ValueError(f"lengths: memory_capacity needs length > washout ({washout}), got {length}")
    u = jax.random.uniform(key, (n, length), jnp.float32, -0.5, 0.5)
    padded = jnp.concatenate([jnp.zeros((n, DELAYS), jnp.float32), u], axis=1)
    # y[:, t, k - 1] = u(t - k) = padded[:, DELAYS + t - k]
    y = jnp.stack([padded[:, DELAYS - k:DELAYS - k + length] for k in range(1, DELAYS + 1)], axis=-1)
    mask = jnp.broadcast_to(jnp.arange(length) >= washout, (n, length)).astype(jnp.float32)
    return Sequences(u[..., None], y, mask=mask)


def memory_capacity(predictions: jax.Array, targets: jax.Array, mask: jax.Array | None = None):
    """``(mc_k, mc, horizon)`` of per-step outputs ``predictions`` against ``targets`` (both ``(n, T, K)``), over
    the steps ``mask (n, T)`` counts (``None``: all): ``mc_k (K,)`` the squared correlation of output k with its
    target (0 where either is constant), ``mc`` their sum, ``horizon`` the largest k (1-based) with
    ``mc_k >= 0.5`` (0 if none). Pure and traceable."""
    predictions, targets = jnp.asarray(predictions, jnp.float32), jnp.asarray(targets, jnp.float32)
    w = jnp.ones(predictions.shape[:2]) if mask is None else jnp.asarray(mask, jnp.float32)
    w = w[..., None] / jnp.sum(w)
    mean_p, mean_t = jnp.sum(w * predictions, axis=(0, 1)), jnp.sum(w * targets, axis=(0, 1))
    dp, dt = predictions - mean_p, targets - mean_t
    cov = jnp.sum(w * dp * dt, axis=(0, 1))
    var_p, var_t = jnp.sum(w * dp**2, axis=(0, 1)), jnp.sum(w * dt**2, axis=(0, 1))
    ok = (var_p > 0) & (var_t > 0)
    mc_k = jnp.where(ok, cov**2 / jnp.where(ok, var_p * var_t, 1.0), 0.0)
    horizon = jnp.max(jnp.where(mc_k >= 0.5, jnp.arange(1, mc_k.shape[0] + 1), 0))
    return mc_k, jnp.sum(mc_k), horizon


# success: the mean MSE over the delays at most half the input's variance; for least-squares read-outs
# (MSE_k = Var u (1 - MC_k)) that is MC >= K / 2
memory_capacity_task = TaskSpec(memory_capacity_fn, Output("regress", DELAYS, at="every"),
                                LossRatio(0.5, INPUT_VARIANCE), baseline=INPUT_VARIANCE, label="memory_capacity")
