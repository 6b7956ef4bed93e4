"""Cells as the frameworks build them: :class:`RNNCell`, any kind of :data:`~latchjax.core.cells.kinds.KINDS`
in any flavour, with the options experiments on initialisation and gates need.

The parameters are the flavour's own (Keras ``kernel, recurrent_kernel, bias``; PyTorch ``weight_ih, weight_hh,
bias_ih, bias_hh``), read by every kind's equations as the same :class:`~latchjax.core.cells.common.Weights`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from latchjax.core.cells.common import (
    FLAVORS,
    Flavor,
    Kind,
    Weights,
    glorot_uniform,
    hard_sigmoid,
    orthogonal,
    torch_uniform,
)
from latchjax.core.cells.kinds import CELL_KINDS, KINDS
from latchjax.core.cells.protocol import Carry, Params

GATE_ACTIVATIONS = ("hard_sigmoid", "sigmoid")
# the widest cell: an LSTM of 2**16 units already has 2**34 recurrent weights (64 GB)
MAX_UNITS = 2**16


@dataclass(frozen=True)
class RNNCell:
    """A recurrent cell of kind ``kind`` with ``units`` units, as the framework ``flavor`` builds it.

    Options beyond the framework's defaults, for experiments on initialisation and gates:

    * ``gate_activation``: ``hard_sigmoid`` or ``sigmoid`` whatever the flavour;
    * ``recurrent_init``: a number w instead of the recurrent kernel's draw: every gate block starts
      at w times the identity (a SimpleRNN(1) starts at weight w; a BRC's feedback vectors at w);
    * ``chrono``: chrono initialisation (Tallec & Ollivier 2018) for dependencies up to ``chrono``
      steps: forget bias b_f ~ log U[1, chrono - 1] per unit (and input bias -b_f for the LSTM);
    * ``uc``: the candidate block's recurrent weights start at ``uc`` times the identity (the other
      blocks as drawn): the LSTM(1)'s U_c, the GRU(1)'s U_h;
    * ``bz``: the update gate's bias starts at ``bz`` (GRU z, BRC c; a second bias starts at 0);
    * ``reset_after``: the GRU variant, whatever the flavour;
    * ``beta``: JANET's input-gate shift (default 1).

    ``forget_bias`` (an argument of :meth:`init`, so it can be vmapped) sets the forget block's bias
    (a second bias starts at 0); NaN keeps the flavour's draw. ``None`` means the flavour's default:
    1 for Keras (``unit_forget_bias``), PyTorch's random draw for ``torch``.

    Example::

        cell = RNNCell("lstm", units=1, flavor="torch")
        params = cell.init(jax.random.key(0), n_in=1)     # weight_ih, weight_hh, bias_ih, bias_hh
        carry = cell.initial_carry(batch=16, n_in=1)
        carry, h = cell.step(params, carry, x_t)          # x_t: (16, 1)
    """

    kind: str = "srnn"
    units: int = 1
    flavor: str = "keras2"
    gate_activation: str | None = None
    recurrent_init: float | None = None
    chrono: int | None = None
    uc: float | None = None
    bz: float | None = None
    reset_after: bool | None = None
    beta: float | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"cell: unknown cell {self.kind!r}; allowed: {', '.join(CELL_KINDS)}")
        if self.flavor not in FLAVORS:
            raise ValueError(f"flavor: unknown flavor {self.flavor!r}; allowed: {', '.join(FLAVORS)}")
        spec = KINDS[self.kind]
        if self.flavor not in spec.flavors:
            raise ValueError(f"flavor: {self.kind} is defined by its authors' Keras code and has no {self.flavor} "
                             f"form; use flavor {' or '.join(spec.flavors)}")
        if not isinstance(self.units, int) or not 1 <= self.units <= MAX_UNITS:
            raise ValueError(f"units: must be an integer in [1, {MAX_UNITS}], got {self.units!r}")
        if self.gate_activation not in (None, *GATE_ACTIVATIONS):
            raise ValueError(f"gate: unknown gate activation {self.gate_activation!r}; "
                             f"allowed: {', '.join(GATE_ACTIVATIONS)}")
        for option in ("chrono", "uc", "bz", "reset_after", "beta"):
            if getattr(self, option) is not None and not spec.takes(option):
                with_it = [k for k, s in KINDS.items() if s.takes(option)]
                raise ValueError(f"{option}: {self.kind} has no such option; it applies to {', '.join(with_it)}")
        for option, value in (("rec", self.recurrent_init), ("uc", self.uc), ("bz", self.bz), ("beta", self.beta)):
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{option}: must be a finite number, got {value!r}")
        if self.chrono is not None and self.chrono < 3:
            raise ValueError(f"chrono: needs a horizon >= 3, got {self.chrono!r}")

    # --- what the cell is -------------------------------------------------------------------------

    @property
    def spec(self) -> Kind:
        return KINDS[self.kind]

    @property
    def flavor_spec(self) -> Flavor:
        return FLAVORS[self.flavor]

    @property
    def name(self) -> str:
        """The label in results: the spec it was made from, else the kind and its non-default options."""
        if self.label:
            return self.label
        options = {"gate": self.gate_activation, "rec": self.recurrent_init, "chrono": self.chrono,
                   "uc": self.uc, "bz": self.bz, "reset_after": None if self.reset_after is None
                   else int(self.reset_after), "beta": self.beta}
        return self.kind + "".join(f":{k}={v:g}" if isinstance(v, float) else f":{k}={v}"
                                   for k, v in options.items() if v is not None)

    @property
    def blocks(self) -> tuple[str, ...]:
        """The gate blocks of ``units`` columns, in parameter order (e.g. LSTM ``i, f, c, o``)."""
        return self.spec.blocks[self.flavor_spec.layout]

    @property
    def gate_blocks(self) -> int:
        """Blocks of ``units`` columns in the input kernel: SimpleRNN 1, GRU 3, LSTM 4, ..."""
        return len(self.blocks)

    @property
    def has_forget_bias(self) -> bool:
        """Whether the ``forget_bias`` argument of :meth:`init` changes anything."""
        return self.spec.forget is not None and self.chrono is None

    @property
    def gru_reset_after(self) -> bool:
        return self.flavor_spec.gru_reset_after if self.reset_after is None else bool(self.reset_after)

    @property
    def two_biases(self) -> bool:
        """PyTorch's bias_ih + bias_hh, or the second bias row of a GRU with ``reset_after``."""
        return self.flavor_spec.layout == "torch" or (self.kind == "gru" and self.gru_reset_after)

    def gate(self, x: jax.Array) -> jax.Array:
        activation = self.gate_activation or self.flavor_spec.gate
        return hard_sigmoid(x) if activation == "hard_sigmoid" else jax.nn.sigmoid(x)

    def block(self, name: str) -> int:
        return self.blocks.index(name)

    # --- parameters -------------------------------------------------------------------------------

    def weights(self, params: Params) -> Weights:
        """The parameters as :class:`Weights` ``(W, U, b, b2)``, whatever the layout."""
        if self.flavor_spec.layout == "torch":
            return Weights(params["weight_ih"].T, params["weight_hh"].T, params["bias_ih"], params["bias_hh"])
        bias = params["bias"]
        if bias.ndim == 2:
            return Weights(params["kernel"], params["recurrent_kernel"], bias[0], bias[1])
        return Weights(params["kernel"], params["recurrent_kernel"], bias, None)

    def pack(self, w: Weights) -> Params:
        """The inverse of :meth:`weights`: the flavour's own parameter names and shapes."""
        if self.flavor_spec.layout == "torch":
            return {"weight_ih": w.W.T, "weight_hh": w.U.T, "bias_ih": w.b, "bias_hh": w.b2}
        bias = w.b if w.b2 is None else jnp.stack([w.b, w.b2])
        return {"kernel": w.W, "recurrent_kernel": w.U, "bias": bias}

    def n_params(self, n_in: int = 1) -> int:
        shapes = jax.eval_shape(lambda: self.init(jax.random.key(0), n_in))
        return int(sum(s.size for s in jax.tree.leaves(shapes)))

    def init(self, key: jax.Array, n_in: int, forget_bias: float | jax.Array | None = None) -> Params:
        """Draw parameters as the flavour does, then apply the cell's options.

        ``forget_bias`` may be a traced value, so a grid of forget biases can be vmapped.
        """
        w = self._draw(key, n_in)
        u = self.units
        if self.spec.forget is not None:
            f = self.block(self.spec.forget)
            if self.chrono is not None:
                b_f = jnp.log(jax.random.uniform(jax.random.fold_in(key, 1), (u,), jnp.float32, 1.0, self.chrono - 1.0))
                w = _set_bias(w, f, u, b_f)
                if "i" in self.blocks:
                    w = _set_bias(w, self.block("i"), u, -b_f)
            else:
                fb = self.flavor_spec.default_forget_bias if forget_bias is None else forget_bias
                fb = jnp.asarray(fb, jnp.float32)
                keep = jnp.isnan(fb)
                b = w.b.at[f * u : (f + 1) * u].set(jnp.where(keep, w.b[f * u : (f + 1) * u], fb))
                b2 = None if w.b2 is None else w.b2.at[f * u : (f + 1) * u].set(
                    jnp.where(keep, w.b2[f * u : (f + 1) * u], 0.0))
                w = w._replace(b=b, b2=b2)
        if self.recurrent_init is not None:
            rec = (jnp.full_like(w.U, self.recurrent_init) if w.U.ndim == 1  # brc's feedback vectors
                   else self.recurrent_init * _identity_blocks(u, w.U.shape[1] // u))
            w = w._replace(U=rec)
        if self.uc is not None:
            c = self.spec.blocks["keras"].index(self.spec.candidate)  # the same position in every layout
            w = w._replace(U=w.U.at[:, c * u : (c + 1) * u].set(self.uc * jnp.eye(u, dtype=jnp.float32)))
        if self.bz is not None:
            w = _set_bias(w, self.block(self.spec.update), u, jnp.full((u,), self.bz, jnp.float32))
        return self.pack(w)

    def _draw(self, key: jax.Array, n_in: int) -> Weights:
        u, g = self.units, self.gate_blocks
        if self.flavor_spec.layout == "torch":
            k_ih, k_hh, k_b, k_b2 = jax.random.split(key, 4)
            return Weights(torch_uniform(k_ih, (g * u, n_in), u).T, torch_uniform(k_hh, (g * u, u), u).T,
                           torch_uniform(k_b, (g * u,), u), torch_uniform(k_b2, (g * u,), u))
        k_kernel, k_rec = jax.random.split(key)
        if self.spec.bistable:  # the authors' Keras code: one glorot_uniform kernel per block, zero gate biases
            kernel = jnp.concatenate([glorot_uniform(k, (n_in, u)) for k in jax.random.split(k_kernel, 3)], axis=1)
            if self.kind == "brc":  # elementwise feedback vectors w_c, w_a, initialised to 1
                recurrent = jnp.ones((2 * u,), jnp.float32)
            else:
                recurrent = jnp.concatenate([glorot_uniform(k, (u, u)) for k in jax.random.split(k_rec, 2)], axis=1)
            return Weights(kernel, recurrent, jnp.zeros((2 * u,), jnp.float32), None)
        kernel = glorot_uniform(k_kernel, (n_in, g * u))
        recurrent = orthogonal(k_rec, (u, g * u))
        zeros = jnp.zeros((g * u,), jnp.float32)
        return Weights(kernel, recurrent, zeros, zeros if self.two_biases else None)

    # --- running ----------------------------------------------------------------------------------

    def initial_carry(self, batch: int, n_in: int) -> Carry:
        h = jnp.zeros((batch, self.units), jnp.float32)
        return (h, h) if self.spec.pair_state else h

    def output(self, carry: Carry) -> jax.Array:
        """What a read-out sees: h (the first element of an (h, c) carry)."""
        return carry[0] if self.spec.pair_state else carry

    def with_output(self, carry: Carry, h: jax.Array) -> Carry:
        """``carry`` with h replaced (an (h, c) carry keeps its c)."""
        return (h, carry[1]) if self.spec.pair_state else h

    def step(self, params: Params, carry: Carry, x: jax.Array) -> tuple[Carry, jax.Array]:
        carry, h, _ = self.spec.step(self, self.weights(params), carry, x)
        return carry, h

    def step_with_gates(self, params: Params, carry: Carry, x: jax.Array) -> tuple[Carry, jax.Array, dict]:
        """:meth:`step`, plus the gate values for diagnostics (LSTM family: input, forget, output, cell;
        GRU: update, reset, candidate; BRC: update, bistability, candidate; SimpleRNN: none)."""
        return self.spec.step(self, self.weights(params), carry, x)


def _identity_blocks(u: int, blocks: int) -> jax.Array:
    return jnp.tile(jnp.eye(u, dtype=jnp.float32), (1, blocks))


def _set_bias(w: Weights, block: int, u: int, value: jax.Array) -> Weights:
    """The block's bias set to ``value``, and its second bias (if any) to 0, so the sum is ``value``."""
    b = w.b.at[block * u : (block + 1) * u].set(value)
    b2 = None if w.b2 is None else w.b2.at[block * u : (block + 1) * u].set(0.0)
    return w._replace(b=b, b2=b2)
