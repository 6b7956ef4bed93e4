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
GATE_ACTIVATIONS = ("hard_sigmoid", "sigmoid")
SPEC_OPTIONS = ("units", "flavor", "gate", "rec", "chrono")
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

    Options beyond Keras, for experiments on initialisation and gates (all default to Keras):

    * ``gate_activation``: ``hard_sigmoid`` or ``sigmoid`` whatever the flavour;
    * ``recurrent_init``: a number w instead of orthogonal init: every gate block of the
      recurrent kernel starts at w times the identity (a SimpleRNN(1) starts at weight w);
    * ``chrono``: LSTM chrono initialisation (Tallec & Ollivier 2018) for dependencies up to
      ``chrono`` steps: forget bias b_f ~ log U[1, chrono - 1] per unit, input bias -b_f.

    Example::

        cell = KerasCell("lstm", units=1, flavor="keras2")
        params = cell.init(jax.random.key(0), n_in=1)
        carry = cell.initial_carry(batch=16, n_in=1)
        carry, h = cell.step(params, carry, x_t)   # x_t: (16, 1)
    """

    kind: str = "srnn"
    units: int = 1
    flavor: str = "keras2"
    gate_activation: str | None = None
    recurrent_init: float | None = None
    chrono: int | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in CELL_KINDS:
            raise ValueError(f"cell: unknown cell {self.kind!r}; allowed: {', '.join(CELL_KINDS)}")
        if self.flavor not in FLAVORS:
            raise ValueError(f"flavor: unknown flavor {self.flavor!r}; allowed: {', '.join(FLAVORS)}")
        if not isinstance(self.units, int) or self.units < 1:
            raise ValueError(f"units: must be an integer >= 1, got {self.units!r}")
        if self.gate_activation not in (None, *GATE_ACTIVATIONS):
            raise ValueError(f"gate: unknown gate activation {self.gate_activation!r}; "
                             f"allowed: {', '.join(GATE_ACTIVATIONS)}")
        if self.chrono is not None and (self.kind != "lstm" or self.chrono < 3):
            raise ValueError(f"chrono: needs an lstm and a horizon >= 3, got {self.kind} with {self.chrono!r}")

    @property
    def name(self) -> str:
        """The label in results: the spec it was made from, else the kind and its non-Keras options."""
        if self.label:
            return self.label
        options = {"gate": self.gate_activation, "rec": self.recurrent_init, "chrono": self.chrono}
        return self.kind + "".join(f":{k}={v:g}" if isinstance(v, float) else f":{k}={v}"
                                   for k, v in options.items() if v is not None)

    @property
    def gate_blocks(self) -> int:
        """Blocks of ``units`` columns in the kernels: SimpleRNN 1, GRU 3, LSTM 4."""
        return _GATES[self.kind]

    @property
    def has_forget_bias(self) -> bool:
        """Whether the ``forget_bias`` argument of :meth:`init` changes anything."""
        return self.kind == "lstm" and self.chrono is None

    def gate(self, x: jax.Array) -> jax.Array:
        activation = self.gate_activation or ("hard_sigmoid" if self.flavor == "keras2" else "sigmoid")
        return hard_sigmoid(x) if activation == "hard_sigmoid" else jax.nn.sigmoid(x)

    def init(self, key: jax.Array, n_in: int, forget_bias: float | jax.Array = 1.0) -> Params:
        """Draw parameters. ``forget_bias`` (LSTM only) may be a traced value, so it can be vmapped."""
        u, g = self.units, self.gate_blocks
        k_kernel, k_rec = jax.random.split(key)
        if self.recurrent_init is None:
            recurrent = orthogonal(k_rec, (u, g * u))
        else:
            recurrent = self.recurrent_init * jnp.tile(jnp.eye(u, dtype=jnp.float32), (1, g))
        params = {"kernel": glorot_uniform(k_kernel, (n_in, g * u)), "recurrent_kernel": recurrent}
        if self.kind == "lstm":
            bias = jnp.zeros((4 * u,), jnp.float32)
            if self.chrono is not None:
                k_chrono = jax.random.fold_in(key, 1)
                b_f = jnp.log(jax.random.uniform(k_chrono, (u,), jnp.float32, 1.0, self.chrono - 1.0))
                params["bias"] = bias.at[u : 2 * u].set(b_f).at[:u].set(-b_f)
            else:
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
        carry, h, _ = _STEPS[self.kind](self, params, carry, x)
        return carry, h

    def step_with_gates(self, params: Params, carry: Carry, x: jax.Array) -> tuple[Carry, jax.Array, dict]:
        """:meth:`step`, plus the gate values (LSTM: input, forget, output, cell; GRU: update,
        reset, candidate; SimpleRNN: none) for diagnostics."""
        return _STEPS[self.kind](self, params, carry, x)


def _dot(a: jax.Array, w: jax.Array) -> jax.Array:
    """``a @ w``. Vmapped over models, a small matmul becomes a batched dot per time step, which
    XLA's CPU backend runs slowly: up to 4 inputs it is unrolled into multiply-adds that fuse with
    the gate arithmetic, up to 16 written as a fused broadcast-multiply-sum; larger ones stay dots
    (benchmarks/RESULTS.md)."""
    if w.shape[0] > 16:
        return a @ w
    if w.shape[0] > 4:
        return jnp.sum(a[..., :, None] * w, axis=-2)
    out = a[..., 0:1] * w[0]
    for k in range(1, w.shape[0]):
        out = out + a[..., k : k + 1] * w[k]
    return out


def _srnn_step(cell: KerasCell, p: Params, h: jax.Array, x: jax.Array):
    h = jnp.tanh(_dot(x, p["kernel"]) + _dot(h, p["recurrent_kernel"]) + p["bias"])
    return h, h, {}


def _lstm_step(cell: KerasCell, p: Params, carry, x: jax.Array):
    h, c = carry
    z = _dot(x, p["kernel"]) + _dot(h, p["recurrent_kernel"]) + p["bias"]
    zi, zf, zc, zo = jnp.split(z, 4, axis=-1)  # Keras gate order: i, f, c, o
    i, f, o = cell.gate(zi), cell.gate(zf), cell.gate(zo)
    c = f * c + i * jnp.tanh(zc)
    h = o * jnp.tanh(c)
    return (h, c), h, {"input": i, "forget": f, "output": o, "cell": c}


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
    return h, h, {"update": z, "reset": r, "candidate": candidate}


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

    has_forget_bias = False  # Flax cells use their own initialisers

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


def parse_cell(spec: str, units: int = 1, flavor: str = "keras2") -> KerasCell:
    """A cell from a spec ``kind[:option=value...]``, e.g. ``lstm``, ``srnn:rec=0.5``,
    ``lstm:gate=sigmoid:units=10``, ``lstm:chrono=200``. Options: units, flavor (override the
    sweep's), gate (hard_sigmoid | sigmoid), rec (recurrent init value), chrono (LSTM horizon).
    """
    kind, *options = spec.split(":")
    fields: dict = {"units": units, "flavor": flavor}
    for option in options:
        key, sep, value = option.partition("=")
        if key not in SPEC_OPTIONS or not sep:
            raise ValueError(f"cell: bad option {option!r} in {spec!r}; use kind:option=value with options "
                             f"{', '.join(SPEC_OPTIONS)}")
        try:
            if key in ("units", "chrono"):
                fields[key] = int(value)
            elif key == "rec":
                fields["recurrent_init"] = float(value)
            else:
                fields["gate_activation" if key == "gate" else key] = value
        except ValueError:
            raise ValueError(f"cell: {key} must be a number in {spec!r}, got {value!r}") from None
    return KerasCell(kind, label=spec if options else None, **fields)


def make_cell(cell: str | Cell, units: int = 1, flavor: str = "keras2") -> Cell:
    """Turn a cell name or spec (see :func:`parse_cell`) into a :class:`KerasCell`; pass cell
    objects through unchanged.

    Anything with ``features`` and ``initialize_carry`` (a Flax cell) is wrapped in :class:`FlaxCell`.
    """
    if isinstance(cell, (KerasCell, FlaxCell)):
        return cell
    if isinstance(cell, str):
        return parse_cell(cell, units, flavor)
    if hasattr(cell, "initialize_carry") and hasattr(cell, "features"):
        return FlaxCell(cell)
    raise ValueError(
        f"cell: expected one of {', '.join(CELL_KINDS)}, a KerasCell/FlaxCell or a Flax RNN cell, got {cell!r}"
    )
