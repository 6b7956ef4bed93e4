"""Bengio, Simard & Frasconi 1994, "Learning long-term dependencies with gradient descent is difficult":
the minimal latch of their Fig. 1-2, trained by gradient descent for many seeds at once.

One tanh unit, a_t = w tanh(a_{t-1}) + h_t, a_0 = 0. The first L inputs h_1..h_L are trainable
parameters, one set per class; later h_t are Gaussian noise N(0, noise^2). The output tanh(a_T) is
trained towards d = +0.8 (class 1) or -0.8 (class 0) with cost 1/2 sum (tanh(a_T) - d)^2 by full-batch
gradient descent on w and the 2L inputs. A run *converges* when every training sequence ends with the
sign of its target.

Settings SPEC.md marks unverified are parameters here, with these defaults: L = 3, noise std 0.2,
w_0 = 1.25, initial inputs 0, 50 training sequences per class, 200 epochs, learning rate 0.01
(on the summed cost; at 0.1 the steps are large enough to make convergence rise with noise at some w_0).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from latchjax.core.scan import masked_scan


@dataclass(frozen=True)
class MinimalLatch:
    """Bengio's minimal latch as a recurrence (a :class:`latchjax.core.cells.protocol.Recurrence`): one tanh unit,
    a_t = w tanh(a_{t-1}) + h_t from a_0 = 0, output tanh(a_t). ``params`` is w; the input h_t is one
    number per row. :func:`_train_one` trains it; :class:`latchjax.studies.guessing.Latch1` guesses it."""

    def initial_carry(self, batch: int, n_in: int = 1) -> jax.Array:
        return jnp.zeros((batch,), jnp.float32)

    def step(self, w: jax.Array, a: jax.Array, h: jax.Array) -> tuple[jax.Array, jax.Array]:
        a = w * jnp.tanh(a) + h
        return a, jnp.tanh(a)

    def output(self, a: jax.Array) -> jax.Array:
        return jnp.tanh(a)


LATCH = MinimalLatch()


@dataclass(frozen=True)
class BengioConfig:
    lengths: tuple[int, ...] = (5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100)
    seeds: int = 50
    L: int = 3
    noise: float = 0.2
    w0: float = 1.25
    per_class: int = 50
    epochs: int = 200
    lr: float = 0.01
    target: float = 0.8
    seed: int = 0

    def __post_init__(self) -> None:
        checks = [
            (len(self.lengths) > 0 and min(self.lengths) >= 1, f"lengths: must be >= 1, got {list(self.lengths)}"),
            (self.seeds >= 1, f"seeds: must be >= 1, got {self.seeds}"),
            (self.L >= 1 and self.L <= min(self.lengths or (1,)),
             f"L: must be in [1, shortest length], got {self.L}"),
            (self.noise >= 0, f"noise: must be >= 0, got {self.noise}"),
            (self.per_class >= 1, f"per_class: must be >= 1, got {self.per_class}"),
            (self.epochs >= 1, f"epochs: must be >= 1, got {self.epochs}"),
            (self.lr > 0, f"lr: must be > 0, got {self.lr}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


def _train_one(key, length, max_length, w0, noise, cfg: BengioConfig):
    """Train one minimal latch on sequences of ``length`` (left-padded to ``max_length``); returns
    (converged, final cost)."""
    n = cfg.per_class
    start = max_length - length
    # noise for every sequence and step; the first L steps of each sequence carry the trained inputs
    eps = noise * jax.random.normal(key, (2 * n, max_length))
    t = jnp.arange(max_length)
    trained_step = (t >= start) & (t < start + cfg.L)
    targets = jnp.concatenate([jnp.full(n, cfg.target), jnp.full(n, -cfg.target)])

    def cost(params):
        w, h_pos, h_neg = params
        h_class = jnp.concatenate([jnp.broadcast_to(h_pos, (n, cfg.L)), jnp.broadcast_to(h_neg, (n, cfg.L))])
        # h_t: the class's trained input during its first L steps, noise afterwards, 0 in the padding
        index = jnp.clip(t - start, 0, cfg.L - 1)
        inputs = jnp.where(trained_step, h_class[:, index], jnp.where(t >= start, eps, 0.0))

        a, _ = masked_scan(lambda a, h_t: LATCH.step(w, a, h_t), LATCH.initial_carry(2 * n), inputs.T, start)
        out = LATCH.output(a)
        return 0.5 * jnp.sum((out - targets) ** 2), out

    params = (jnp.float32(w0), jnp.zeros(cfg.L), jnp.zeros(cfg.L))

    def epoch(params, _):
        grads, _ = jax.grad(cost, has_aux=True)(params)
        return jax.tree.map(lambda p, g: p - cfg.lr * g, params, grads), None

    params, _ = jax.lax.scan(epoch, params, None, length=cfg.epochs)
    final, out = cost(params)
    converged = jnp.all(jnp.sign(out) == jnp.sign(targets)) & jnp.isfinite(final)
    return converged, final


def convergence(cfg: BengioConfig, lengths: tuple[int, ...] | None = None, w0s: tuple[float, ...] | None = None,
                noises: tuple[float, ...] | None = None) -> dict[str, np.ndarray]:
    """Train ``cfg.seeds`` latches for every (length, w0, noise) in one vmapped program.

    Returns ``converged`` and ``cost`` of shape (length, w0, noise, seed).
    """
    lengths = tuple(lengths or cfg.lengths)
    w0s = tuple(w0s or (cfg.w0,))
    noises = tuple(noises if noises is not None else (cfg.noise,))
    max_length = max(lengths)
    keys = jax.random.split(jax.random.key(cfg.seed), cfg.seeds)

    def one(key, length, w0, noise):
        return _train_one(key, length, max_length, w0, noise, cfg)

    over_seeds = jax.vmap(one, in_axes=(0, None, None, None))
    over_noise = jax.vmap(over_seeds, in_axes=(None, None, None, 0))
    over_w0 = jax.vmap(over_noise, in_axes=(None, None, 0, None))
    over_length = jax.vmap(over_w0, in_axes=(None, 0, None, None))
    converged, cost = jax.jit(over_length)(keys, jnp.asarray(lengths), jnp.asarray(w0s, jnp.float32),
                                           jnp.asarray(noises, jnp.float32))
    return {"converged": np.asarray(converged), "cost": np.asarray(cost)}
