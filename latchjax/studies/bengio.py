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

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from latchjax.core.scan import masked_scan
from latchjax.core.vocabulary import Checks, setting
from latchjax.sweep.plan import host_memory


@dataclass(frozen=True)
class MinimalLatch:
    """Bengio's minimal latch as a recurrence (a :class:`latchjax.core.cells.protocol.Recurrence`): one tanh unit,
    a_t = w tanh(a_{t-1}) + h_t from a_0 = 0, output tanh(a_t). ``params`` is w; the input h_t is one
    number per row. :func:`_train_one` trains it; :class:`latchjax.studies.guess_nets.Latch1` guesses it."""

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
    """One run of the study: ``seeds`` latches trained per point of Fig. 2(b) (every length, at ``w0`` and
    ``noise``) and of Fig. 2(a) (every ``w0_grid`` x ``noise_grid`` point at ``grid_length``). ``target`` is
    the paper's +-0.8; latch ``i`` of every point draws its noise from ``split(key(seed), seeds)[i]``."""

    lengths: tuple[int, ...] = field(default=(5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100), metadata=setting(
        "lengths", int, "sequence lengths T", is_list=True))
    seeds: int = field(default=100, metadata=setting("seeds", int, "trained latches per point"))
    L: int = field(default=3, metadata=setting("L", int, "trainable initial inputs per class"))
    noise: float = field(default=0.2, metadata=setting("noise", float, "std of the noise inputs after the first L"))
    w0: float = field(default=1.25, metadata=setting("w0", float, "initial recurrent weight"))
    per_class: int = field(default=50, metadata=setting("per_class", int, "training sequences per class"))
    epochs: int = field(default=200, metadata=setting("epochs", int, "full-batch gradient steps"))
    lr: float = field(default=0.01, metadata=setting(
        "lr", float, "gradient descent step size (on the summed cost)"))
    target: float = 0.8
    seed: int = 0
    grid_length: int = field(default=20, metadata=setting("grid_length", int, "T of the (w0, noise) grid (Fig. 2a)"))
    w0_grid: tuple[float, ...] = field(default=(0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0), metadata=setting(
        "w0_grid", float, "initial weights of the grid", is_list=True))
    noise_grid: tuple[float, ...] = field(default=(0.0, 0.1, 0.2, 0.5, 1.0), metadata=setting(
        "noise_grid", float, "noise levels of the grid", is_list=True))

    def __post_init__(self) -> None:
        check = Checks(self)
        for name in ("lengths", "w0_grid", "noise_grid"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
            check.need(len(getattr(self, name)) > 0, name, "give at least one value")
        check.need(all(isinstance(n, (int, np.integer)) and n >= 1 for n in self.lengths), "lengths",
                   f"every length must be an integer >= 1, got {list(self.lengths)}")
        for name in ("seeds", "L", "per_class", "epochs", "grid_length"):
            check.integer(name)
        check.seed("seed")
        check.need(self.L <= min(self.lengths), "L", f"must be <= the shortest length ({min(self.lengths)}), "
                   f"got {self.L}")
        check.need(self.grid_length >= self.L, "grid_length", f"must be >= --L ({self.L}), got {self.grid_length}")
        for name in ("noise", "w0", "lr", "w0_grid", "noise_grid"):
            check.finite(name)
        check.need(self.noise >= 0, "noise", f"must be >= 0, got {self.noise}")
        check.need(min(self.noise_grid) >= 0, "noise_grid", f"noise levels must be >= 0, got {list(self.noise_grid)}")
        check.need(self.lr > 0, "lr", f"must be > 0, got {self.lr}")
        for name in ("lengths", "w0_grid", "noise_grid"):
            check.distinct(name)
        # every latch holds its noise and, for the gradient, its states: ~16 bytes per sequence and step
        models = self.seeds * (len(self.lengths) + len(self.w0_grid) * len(self.noise_grid))
        need = models * 2 * self.per_class * max(max(self.lengths), self.grid_length) * 16
        check.need(need <= host_memory() // 2, "seeds", f"{models:,} latches need about {need / 2**30:.3g} GB, more "
                   f"than half this machine's memory ({host_memory() / 2**31:.3g} GB); use fewer seeds or grid points")


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


@dataclass(frozen=True)
class Figure2:
    """The study's two panels: which latches converged."""

    by_length: np.ndarray  # (length, seed), at cfg.w0 and cfg.noise: Fig. 2(b)
    grid: np.ndarray  # (w0, noise, seed), at cfg.grid_length: Fig. 2(a)


def figure2(cfg: BengioConfig) -> Figure2:
    """Convergence against length (at ``w0``, ``noise``) and against initial weight and noise (at
    ``grid_length``): two vmapped programs."""
    by_length = convergence(cfg)["converged"][:, 0, 0]
    grid = convergence(cfg, lengths=(cfg.grid_length,), w0s=cfg.w0_grid, noises=cfg.noise_grid)["converged"][0]
    return Figure2(by_length, grid)
