"""Loss landscapes over two parameters, every grid point in one vectorised evaluation.

* :func:`pascanu_surface`: Pascanu, Mikolov & Bengio 2013 (arXiv:1211.5063) Fig. 6. One logistic
  unit with no input, x_t = w * sigmoid(x_{t-1}) + b, x_0 = 0.5, error E = (sigmoid(x_T) - 0.7)^2.
* :func:`latch_surface`: the loss of the ``latch`` task for a one-unit Keras cell over two of its
  parameters (the others fixed), at several sequence lengths, with the gradient norm.

:class:`LandscapeConfig` holds what ``latchjax landscape`` runs (each flag declared on its field) and
:func:`evaluate` evaluates it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from latchjax.core.cells import RNNCell
from latchjax.core.model import head_logits, head_loss, run_cell
from latchjax.core.scan import masked_scan
from latchjax.core.tasks import latch
from latchjax.core.vocabulary import Checks, SettingsError, setting
from latchjax.sweep.plan import host_memory

LATCH_SAMPLES = 256  # latch sequences each grid point's loss averages over

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

# the same parameters in words, for a figure's axes
PARAMETER_WORDS = {
    "w_rec": "recurrent weight, w_rec",
    "w_in": "input weight, w_in",
    "b": "bias, b",
    "w_in_c": "input weight to the cell candidate, w_in_c",
    "w_rec_c": "recurrent weight of the cell candidate, w_rec_c",
    "b_f": "forget-gate bias, b_f",
    "b_i": "input-gate bias, b_i",
}
# what :func:`base_params` fixes the parameters that are not varied at, in words (kept beside it)
BASE_WORDS = {
    "srnn": "w_rec = 1, w_in = 1, b = 0",
    "lstm": "every input weight 1, every recurrent weight 0, every bias 0 but b_f = 1",
}
HEAD_WORDS = "the read-out fixed to the sign of h (kernel [-2, 2], bias 0)"


def check_parameters(kind: str, names: tuple[str, ...]) -> None:
    """Refuse (:class:`~latchjax.core.vocabulary.SettingsError` about ``params``) anything but two different
    parameters of ``kind`` in :data:`LATCH_PARAMETERS`."""
    allowed = [n for n, spec in LATCH_PARAMETERS.items() if kind in spec[2]]
    if len(names) != 2:
        raise SettingsError(f"give exactly two parameters, got {list(names)}", "params")
    for name in names:
        if name not in allowed:
            raise SettingsError(f"unknown parameter {name!r} for {kind}; allowed: {', '.join(allowed)}", "params")
    if names[0] == names[1]:
        raise SettingsError(f"give two different parameters, got {names[0]!r} twice", "params")


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
                  samples: int = LATCH_SAMPLES, noise: float = 0.1, flavor: str = "keras2", seed: int = 0) -> LatchSurface:
    """Cross-entropy of the latch task over a grid of two parameters of a one-unit cell, per length."""
    check_parameters(kind, names)
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


# --- what `latchjax landscape` runs ---------------------------------------------------------------

PASCANU = (("w", "b"), (0.0, 10.0), (-10.0, 2.0))  # Fig. 6's parameters and axes: w in [0, 10], b in [-10, 2]
# the latch preset per cell: (parameters, x range, y range)
LATCH_DEFAULTS = {"srnn": (("w_rec", "w_in"), (-3.0, 3.0), (-3.0, 3.0)),
                  "lstm": (("b_f", "w_in_c"), (-3.0, 6.0), (-3.0, 3.0))}
GRID = {"pascanu": 201, "latch": 81}  # points per axis


def _span(lo_hi: tuple[float, float]) -> str:
    return ":".join(f"{v:g}" for v in lo_hi)


def _ranges_shown(axis: int) -> str:
    """The default range of ``axis`` (0: x, 1: y) of every preset, as ``--help`` shows it."""
    return (f"{_span(PASCANU[1 + axis])} for pascanu ({PASCANU[0][axis]}); "
            + ", ".join(f"{_span(d[1 + axis])} for latch {cell}" for cell, d in LATCH_DEFAULTS.items()))


def _range(value: str | tuple[float, float], name: str) -> tuple[float, float]:
    """``LO:HI`` (or a pair) as two floats with LO < HI."""
    if isinstance(value, str):
        lo, sep, hi = value.partition(":")
        try:
            low, high = float(lo), float(hi)
        except ValueError:
            raise SettingsError(f"expected LO:HI with two numbers, got {value!r}", name) from None
        if not sep:
            raise SettingsError(f"expected LO:HI with two numbers, got {value!r}", name)
    else:
        low, high = map(float, value)
    if not (np.isfinite(low) and np.isfinite(high)):
        raise SettingsError(f"expected LO:HI with two finite numbers, got {value!r}", name)
    if not low < high:
        raise SettingsError(f"expected LO:HI with LO < HI, got {value!r}", name)
    return low, high


@dataclass(frozen=True)
class LandscapeConfig:
    """A loss surface: ``preset`` ``pascanu`` (Pascanu 2013 Fig. 6, over w and b, at T = ``steps``) or
    ``latch`` (a one-unit ``cell`` over two of its ``params``, at each of ``lengths``), on a ``grid`` x
    ``grid`` grid spanning ``x_range`` x ``y_range`` (``"LO:HI"`` or a pair). Unset ranges, parameters and
    grid take the preset's (:data:`PASCANU`, :data:`LATCH_DEFAULTS`, :data:`GRID`)."""

    preset: str = field(metadata=setting(
        "preset", str, "pascanu: x_t = w sigmoid(x_{t-1}) + b, E = (sigmoid(x_T) - 0.7)^2; latch: a 1-unit cell"))
    cell: str = field(default="srnn", metadata=setting("cell", str, f"latch: the cell ({', '.join(LATCH_DEFAULTS)})"))
    params: tuple[str, ...] | None = field(default=None, metadata=setting(
        "params", str, "latch: two parameters, e.g. w_rec,w_in (srnn) or b_f,w_in_c (lstm)", is_list=True,
        shown="; ".join(f"{','.join(d[0])} for {cell}" for cell, d in LATCH_DEFAULTS.items())))
    x_range: tuple[float, float] | None = field(default=None, metadata=setting(
        "x_range", str, "LO:HI of the first parameter", metavar="LO:HI", shown=_ranges_shown(0)))
    y_range: tuple[float, float] | None = field(default=None, metadata=setting(
        "y_range", str, "LO:HI of the second parameter", metavar="LO:HI", shown=_ranges_shown(1)))
    grid: int | None = field(default=None, metadata=setting(
        "grid", int, "points per axis", shown=", ".join(f"{n} {preset}" for preset, n in GRID.items())))
    steps: int = field(default=50, metadata=setting("steps", int, "pascanu: the T of x_T"))
    lengths: tuple[int, ...] = field(default=(5, 20, 50, 100, 200), metadata=setting(
        "lengths", int, "latch: sequence lengths", is_list=True))

    def __post_init__(self) -> None:
        check = Checks(self)
        check.choice("preset", tuple(GRID))
        check.choice("cell", tuple(LATCH_DEFAULTS))
        names, x_range, y_range = PASCANU if self.preset == "pascanu" else LATCH_DEFAULTS[self.cell]
        if self.preset == "latch":
            object.__setattr__(self, "params", tuple(self.params or names))
            check_parameters(self.cell, self.params)
        object.__setattr__(self, "x_range", _range(self.x_range or x_range, "x_range"))
        object.__setattr__(self, "y_range", _range(self.y_range or y_range, "y_range"))
        if self.grid is None:
            object.__setattr__(self, "grid", GRID[self.preset])
        check.integer("grid", 3)
        check.integer("steps")
        object.__setattr__(self, "lengths", tuple(self.lengths))
        check.need(len(self.lengths) > 0 and all(isinstance(n, (int, np.integer)) and n >= 1 for n in self.lengths),
                   "lengths", f"every length must be an integer >= 1, got {list(self.lengths)}")
        check.distinct("lengths")
        # one evaluation holds every grid point at once: ~16 bytes a point (pascanu), or ~8 bytes per point, sample
        # and step of the longest length for the latch's gradients
        need = self.grid**2 * (16 if self.preset == "pascanu" else 8 * LATCH_SAMPLES * max(self.lengths))
        check.need(need <= host_memory(), "grid", f"{self.grid}x{self.grid} points need about {need / 2**30:.3g} GB, "
                   f"more than this machine's {host_memory() / 2**30:.3g} GB; use a coarser grid")

    @property
    def names(self) -> tuple[str, str]:
        """The two parameters on the axes."""
        return PASCANU[0] if self.preset == "pascanu" else self.params

    @property
    def points(self) -> int:
        """Grid points evaluated: one surface for pascanu, one per length for latch."""
        return self.grid * self.grid * (1 if self.preset == "pascanu" else len(self.lengths))


def evaluate(cfg: LandscapeConfig) -> dict[str, np.ndarray]:
    """The surface ``cfg`` describes, as ``surface.npz`` holds it: axes ``w`` (x) and ``b`` (y), ``loss``;
    for latch also ``grad_norm``, ``length`` and the parameters' ``names``."""
    x, y = np.linspace(*cfg.x_range, cfg.grid), np.linspace(*cfg.y_range, cfg.grid)
    if cfg.preset == "pascanu":
        return {"w": x, "b": y, "loss": pascanu_surface(x, y, steps=cfg.steps)}
    surface = latch_surface(cfg.cell, cfg.names, x, y, cfg.lengths)
    return {"w": x, "b": y, "loss": surface.loss, "grad_norm": surface.grad_norm, "length": surface.lengths,
            "names": np.asarray(cfg.names)}
