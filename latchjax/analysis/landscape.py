"""Loss landscapes over two parameters, every grid point in one vectorised evaluation.

* :func:`pascanu_surface`: Pascanu, Mikolov & Bengio 2013 (arXiv:1211.5063) Fig. 6. One logistic
  unit with no input, x_t = w * sigmoid(x_{t-1}) + b, x_0 = 0.5, error E = (sigmoid(x_T) - 0.7)^2.
* :func:`latch_surface`: the loss of the ``latch`` task for a one-unit Keras cell over two of its
  parameters (the others fixed), at several sequence lengths, with the gradient norm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from latchjax.core.cells import RNNCell
from latchjax.core.model import head_logits, head_loss, run_cell
from latchjax.core.scan import masked_scan
from latchjax.core.tasks import latch

# Parameters of a one-unit Keras cell a latch surface can vary: name -> (params key, flat index, cells)
LATCH_PARAMETERS = {
    "w_rec": ("recurrent_kernel", 0, ("srnn",)),
    "w_in": ("kernel", 0, ("srnn",)),
    "b": ("bias", 0, ("srnn",)),
    "w_in_c": ("kernel", 2, ("lstm",)),  # LSTM candidate input weight (gate order i, f, c, o)
    "w_rec_c": ("recurrent_kernel", 2, ("lstm",)),
    "b_f": ("bias", 1, ("lstm",)),  # LSTM forget-gate bias
    "b_i": ("bias", 0, ("lstm",)),
}


def pascanu_surface(w: np.ndarray, b: np.ndarray, steps: int = 50, x0: float = 0.5,
                    target: float = 0.7) -> np.ndarray:
    """E(w, b) = (sigmoid(x_steps) - target)^2 on the grid ``w x b``: shape (len(w), len(b))."""
    ww, bb = jnp.meshgrid(jnp.asarray(w, jnp.float32), jnp.asarray(b, jnp.float32), indexing="ij")

    def step(x, _):
        return ww * jax.nn.sigmoid(x) + bb, None

    # no input: the steps themselves are what is scanned over (and no step is padding)
    x, _ = masked_scan(step, jnp.full(ww.shape, x0, jnp.float32), jnp.arange(steps), None)
    return np.asarray((jax.nn.sigmoid(x) - target) ** 2)


@dataclass(frozen=True)
class LatchSurface:
    """Loss and gradient norm of shape (length, x, y) over parameters ``names`` = (x name, y name)."""

    names: tuple[str, str]
    x: np.ndarray
    y: np.ndarray
    lengths: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray


def base_params(kind: str, flavor: str = "keras2") -> dict[str, Any]:
    """A readable one-unit starting point: SimpleRNN w_rec = 1, w_in = 1; LSTM with Keras's
    forget bias 1 and unit input/candidate weights; a head that reads the sign of h."""
    cell = RNNCell(kind, 1, flavor)
    params = jax.tree.map(jnp.zeros_like, cell.init(jax.random.key(0), 1))
    params["kernel"] = jnp.ones_like(params["kernel"])
    params["recurrent_kernel"] = jnp.ones_like(params["recurrent_kernel"]) * (1.0 if kind == "srnn" else 0.0)
    if kind == "lstm":
        params["bias"] = params["bias"].at[1].set(1.0)
    head = {"kernel": jnp.array([[-2.0, 2.0]]), "bias": jnp.zeros(2)}
    return {"cell": params, "head": head}


def latch_surface(kind: str, names: tuple[str, str], x: np.ndarray, y: np.ndarray, lengths: tuple[int, ...],
                  samples: int = 256, noise: float = 0.1, flavor: str = "keras2", seed: int = 0) -> LatchSurface:
    """Cross-entropy of the latch task over a grid of two parameters of a one-unit cell, per length."""
    for name in names:
        if name not in LATCH_PARAMETERS or kind not in LATCH_PARAMETERS[name][2]:
            allowed = [n for n, spec in LATCH_PARAMETERS.items() if kind in spec[2]]
            raise ValueError(f"params: unknown parameter {name!r} for {kind}; allowed: {', '.join(allowed)}")
    if names[0] == names[1]:
        raise ValueError(f"params: give two different parameters, got {names[0]!r} twice")
    cell = RNNCell(kind, 1, flavor)
    base = base_params(kind, flavor)

    def with_values(u, v):
        params = dict(base)  # only params["cell"] is replaced below
        for name, value in zip(names, (u, v)):
            key, index, _ = LATCH_PARAMETERS[name]
            flat = params["cell"][key].reshape(-1).at[index].set(value)
            params["cell"] = dict(params["cell"], **{key: flat.reshape(params["cell"][key].shape)})
        return params

    def loss_at(u, v, xs, ys):
        params = with_values(u, v)
        return head_loss("softmax", head_logits(params, run_cell(cell, params["cell"], xs)), ys)[0].mean()

    value_and_grad = jax.value_and_grad(loss_at, argnums=(0, 1))
    grid = jax.jit(jax.vmap(jax.vmap(value_and_grad, in_axes=(None, 0, None, None)), in_axes=(0, None, None, None)))
    losses, norms = [], []
    for length in lengths:
        xs, ys = latch(jax.random.fold_in(jax.random.key(seed), length), samples, length, noise=noise)
        loss, (gu, gv) = grid(jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32), xs, ys)
        losses.append(np.asarray(loss))
        norms.append(np.asarray(jnp.sqrt(gu**2 + gv**2)))
    return LatchSurface(tuple(names), np.asarray(x), np.asarray(y), np.asarray(lengths), np.stack(losses),
                        np.stack(norms))


def grid_steps(surface: np.ndarray) -> np.ndarray:
    """|change| between every pair of neighbouring grid points (both axes), non-finite ones dropped."""
    steps = np.concatenate([np.abs(np.diff(surface, axis=0)).ravel(), np.abs(np.diff(surface, axis=1)).ravel()])
    return steps[np.isfinite(steps)]


def has_cliff(surface: np.ndarray, factor: float = 10.0) -> bool:
    """A cliff: one step between neighbouring grid points exceeds ``factor`` x the 99th percentile
    of all steps. (The median is no yardstick here: most of these surfaces are flat plateaus.)"""
    steps = grid_steps(surface)
    return bool(steps.max() > factor * max(np.percentile(steps, 99), 1e-12))
