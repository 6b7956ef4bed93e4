"""Recurrent cells as Keras builds them, plus an adapter for any Flax ``linen`` cell.

A cell is a small immutable object with the shape Flax and Equinox use:

* ``init(key, n_in, forget_bias=1.0) -> params`` draws the parameters;
* ``initial_carry(batch, n_in) -> carry`` is the zero state;
* ``step(params, carry, x) -> (carry, h)`` is one time step.

Scanning over time, batching over samples and vmapping over models all happen
outside the cell (see :mod:`latchjax.train`), so every cell is a pure function.

Two flavours reproduce the Keras versions the question was asked with
(``../shared/SPEC.md`` section 3):

======================  ==============================  ==========================
                        ``keras2`` (Keras 2.1.x, 2018)   ``keras3`` (Keras 3 / tf.keras 2)
======================  ==============================  ==========================
LSTM/GRU gates          hard_sigmoid = clip(0.2x+0.5)   sigmoid
GRU                     ``reset_after=False``           ``reset_after=True``
======================  ==============================  ==========================

Both use glorot_uniform kernels, orthogonal recurrent kernels and zero biases,
with the LSTM forget-gate block set to 1 (Keras's ``unit_forget_bias``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

Params = Any
Carry = Any

CELL_KINDS = ("srnn", "lstm", "gru")
FLAVORS = ("keras2", "keras3")
_GATES = {"srnn": 1, "gru": 3, "lstm": 4}


def hard_sigmoid(x: jax.Array) -> jax.Array:
    """Keras 2's ``hard_sigmoid``: ``clip(0.2 x + 0.5, 0, 1)``."""
    return jnp.clip(0.2 * x + 0.5, 0.0, 1.0)


def glorot_uniform(key: jax.Array, shape: tuple[int, int]) -> jax.Array:
    """Keras ``glorot_uniform`` for a 2-D kernel: U(-a, a), a = sqrt(6 / (fan_in + fan_out))."""
    limit = jnp.sqrt(6.0 / (shape[0] + shape[1]))
    return jax.random.uniform(key, shape, jnp.float32, -limit, limit)


def orthogonal(key: jax.Array, shape: tuple[int, int]) -> jax.Array:
    """Keras ``orthogonal`` (gain 1): orthonormal rows or columns, whichever is fewer.

    A normal (max, min) matrix is QR-decomposed and the sign of R's diagonal folded
    into Q, as Keras 3 does. A 1x1 matrix is therefore exactly +1 or -1, and a
    1 x 4 LSTM recurrent kernel is a random unit vector.
    """
    rows, cols = shape
    a = jax.random.normal(key, (max(rows, cols), min(rows, cols)), jnp.float32)
    q, r = jnp.linalg.qr(a)
    q = q * jnp.sign(jnp.diagonal(r))
    return q.T if rows < cols else q


@dataclass(frozen=True)
class KerasCell:
    """SimpleRNN (``srnn``), ``lstm`` or ``gru`` with ``units`` units, as Keras builds it.

    Example::

        cell = KerasCell("lstm", units=1, flavor="keras2")
        params = cell.init(jax.random.key(0), n_in=1)
        carry = cell.initial_carry(batch=16, n_in=1)
        carry, h = cell.step(params, carry, x_t)   # x_t: (16, 1)
    """

    kind: str = "srnn"
    units: int = 1
    flavor: str = "keras2"

    def __post_init__(self) -> None:
        if self.kind not in CELL_KINDS:
            raise ValueError(f"cell: unknown cell {self.kind!r}; allowed: {', '.join(CELL_KINDS)}")
        if self.flavor not in FLAVORS:
            raise ValueError(f"flavor: unknown flavor {self.flavor!r}; allowed: {', '.join(FLAVORS)}")
        if not isinstance(self.units, int) or self.units < 1:
            raise ValueError(f"units: must be an integer >= 1, got {self.units!r}")

    @property
    def name(self) -> str:
        return self.kind

    def gate(self, x: jax.Array) -> jax.Array:
        return hard_sigmoid(x) if self.flavor == "keras2" else jax.nn.sigmoid(x)

    def init(self, key: jax.Array, n_in: int, forget_bias: float | jax.Array = 1.0) -> Params:
        """Draw parameters. ``forget_bias`` (LSTM only) may be a traced value, so it can be vmapped."""
        u, g = self.units, _GATES[self.kind]
        k_kernel, k_rec = jax.random.split(key)
        params = {
            "kernel": glorot_uniform(k_kernel, (n_in, g * u)),
            "recurrent_kernel": orthogonal(k_rec, (u, g * u)),
        }
        if self.kind == "lstm":
            bias = jnp.zeros((4 * u,), jnp.float32)
            params["bias"] = bias.at[u : 2 * u].set(jnp.asarray(forget_bias, jnp.float32))
        elif self.kind == "gru" and self.flavor == "keras3":
            params["bias"] = jnp.zeros((2, 3 * u), jnp.float32)  # input row, recurrent row
        else:
            params["bias"] = jnp.zeros((g * u,), jnp.float32)
        return params

    def initial_carry(self, batch: int, n_in: int) -> Carry:
        h = jnp.zeros((batch, self.units), jnp.float32)
        return (h, h) if self.kind == "lstm" else h

    def step(self, params: Params, carry: Carry, x: jax.Array) -> tuple[Carry, jax.Array]:
        return _STEPS[self.kind](self, params, carry, x)


def _dot(a: jax.Array, w: jax.Array) -> jax.Array:
    """``a @ w``; a contraction over a few inputs (one unit, one input) is written as
    broadcast multiply-adds, which XLA fuses with the gate arithmetic instead of emitting
    a small batched matmul per time step."""
    if w.shape[0] > 4:
        return a @ w
    out = a[..., 0:1] * w[0]
    for k in range(1, w.shape[0]):
        out = out + a[..., k : k + 1] * w[k]
    return out


def _srnn_step(cell: KerasCell, p: Params, h: jax.Array, x: jax.Array):
    h = jnp.tanh(_dot(x, p["kernel"]) + _dot(h, p["recurrent_kernel"]) + p["bias"])
    return h, h


def _lstm_step(cell: KerasCell, p: Params, carry, x: jax.Array):
    h, c = carry
    z = _dot(x, p["kernel"]) + _dot(h, p["recurrent_kernel"]) + p["bias"]
    zi, zf, zc, zo = jnp.split(z, 4, axis=-1)  # Keras gate order: i, f, c, o
    c = cell.gate(zf) * c + cell.gate(zi) * jnp.tanh(zc)
    h = cell.gate(zo) * jnp.tanh(c)
    return (h, c), h


def _gru_step(cell: KerasCell, p: Params, h: jax.Array, x: jax.Array):
    u = cell.units
    w, rec = p["kernel"], p["recurrent_kernel"]
    if cell.flavor == "keras3":  # reset_after=True: reset gate applied after the recurrent matmul
        xw = _dot(x, w) + p["bias"][0]
        hu = _dot(h, rec) + p["bias"][1]
        xz, xr, xh = jnp.split(xw, 3, axis=-1)
        hz, hr, hh = jnp.split(hu, 3, axis=-1)
        z, r = cell.gate(xz + hz), cell.gate(xr + hr)
        candidate = jnp.tanh(xh + r * hh)
    else:  # reset_after=False: reset gate applied to h before the recurrent matmul
        xw = _dot(x, w) + p["bias"]
        xz, xr, xh = jnp.split(xw, 3, axis=-1)
        hzr = _dot(h, rec[:, : 2 * u])
        z = cell.gate(xz + hzr[:, :u])
        r = cell.gate(xr + hzr[:, u:])
        candidate = jnp.tanh(xh + _dot(r * h, rec[:, 2 * u :]))
    h = z * h + (1.0 - z) * candidate
    return h, h


_STEPS: dict[str, Callable] = {"srnn": _srnn_step, "lstm": _lstm_step, "gru": _gru_step}


@dataclass(frozen=True)
class FlaxCell:
    """Any Flax ``linen`` RNN cell (``nn.LSTMCell``, ``nn.GRUCell``, ``nn.SimpleCell``, ...).

    The cell's own initialisers are used; ``forget_bias`` is ignored.

    Example::

        cell = FlaxCell(nn.GRUCell(features=8))
    """

    module: Any

    @property
    def name(self) -> str:
        return f"flax.{type(self.module).__name__}"

    @property
    def units(self) -> int:
        return int(self.module.features)

    def init(self, key: jax.Array, n_in: int, forget_bias: float | jax.Array = 1.0) -> Params:
        carry = self.initial_carry(1, n_in)
        return self.module.init(key, carry, jnp.zeros((1, n_in), jnp.float32))

    def initial_carry(self, batch: int, n_in: int) -> Carry:
        return self.module.initialize_carry(jax.random.key(0), (batch, n_in))

    def step(self, params: Params, carry: Carry, x: jax.Array) -> tuple[Carry, jax.Array]:
        return self.module.apply(params, carry, x)


Cell = KerasCell | FlaxCell


def make_cell(cell: str | Cell, units: int = 1, flavor: str = "keras2") -> Cell:
    """Turn a cell name into a :class:`KerasCell`; pass cell objects through unchanged.

    Anything with ``features`` and ``initialize_carry`` (a Flax cell) is wrapped in :class:`FlaxCell`.
    """
    if isinstance(cell, (KerasCell, FlaxCell)):
        return cell
    if isinstance(cell, str):
        return KerasCell(cell, units, flavor)
    if hasattr(cell, "initialize_carry") and hasattr(cell, "features"):
        return FlaxCell(cell)
    raise ValueError(
        f"cell: expected one of {', '.join(CELL_KINDS)}, a KerasCell/FlaxCell or a Flax RNN cell, got {cell!r}"
    )
