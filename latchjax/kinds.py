"""The kinds of cell and the frameworks' flavours: their tables, initialisers and every kind's step equations.

**Flavours** are the defaults of the framework people train with (``../shared/SPEC.md`` §3, §6):

=================  ===============================  ============================  ===============================
                   ``keras2`` (Keras 2.1.x, 2018)   ``keras3`` (Keras 3/tf.keras)  ``torch`` (``torch.nn``)
=================  ===============================  ============================  ===============================
gates              hard_sigmoid = clip(0.2x+0.5)    sigmoid                       sigmoid
GRU                ``reset_after=False``            ``reset_after=True``          ``n = tanh(.. + r*(W_hn h + b_hn))``
weights            glorot_uniform kernel,           same                          every weight and both biases
                   orthogonal recurrent kernel                                    U(-1/sqrt(H), 1/sqrt(H))
biases             zeros, LSTM forget block 1       same                          two vectors, random
parameters         ``kernel (n_in, G*H)``,          same (GRU: two bias rows)     ``weight_ih (G*H, n_in)``,
                   ``recurrent_kernel (H, G*H)``,                                 ``weight_hh (G*H, H)``,
                   ``bias (G*H,)``                                                ``bias_ih``, ``bias_hh (G*H,)``
gate order         LSTM i,f,c,o; GRU z,r,h          same                          LSTM i,f,g,o; GRU r,z,n
head, optimizer    Dense: glorot kernel, zero bias; Keras's Adam (eps 1e-7)        ``nn.Linear`` init; ``torch.optim.Adam``
=================  ===============================  ============================  ===============================

**Kinds** (:data:`KINDS` has each one's equations and source): ``srnn``, ``lstm``, ``gru`` as the
frameworks build them, and ``cifg`` (Greff et al. 2017), ``janet`` (van der Westhuizen & Lasenby
2018), ``lstm97`` (Hochreiter & Schmidhuber 1997, no forget gate), ``brc`` and ``nbrc`` (Vecoven,
Ernst & Drion 2021). The literature's LSTM variants take the flavour's gates, initialisers and
layout; ``brc``/``nbrc`` are initialised as their authors' Keras code does and exist in the Keras
flavours only.

Internally every cell reads its parameters as the same four arrays, :class:`Weights`
``(W (n_in, G*H), U (H, G*H), b, b2)``: the input kernel, the recurrent kernel, the bias and,
where the framework has one, the second (recurrent) bias. One set of equations serves every
flavour; only the packing differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import jax
import jax.numpy as jnp


class CellOptions(Protocol):
    """What the equations read of a cell (:class:`latchjax.cells.RNNCell` has all of it)."""

    kind: str
    units: int
    blocks: tuple[str, ...]
    gate_blocks: int
    gru_reset_after: bool
    beta: float | None

    def gate(self, z: jax.Array) -> jax.Array: ...


@dataclass(frozen=True)
class Flavor:
    """The defaults of one framework: gate activation, GRU variant, initialisation and layout."""

    name: str
    gate: str
    gru_reset_after: bool
    layout: str  # "keras": kernel/recurrent_kernel/bias; "torch": weight_ih/weight_hh/bias_ih/bias_hh
    default_forget_bias: float  # nan: keep the framework's random draw
    source: str


FLAVORS: dict[str, Flavor] = {f.name: f for f in [
    Flavor("keras2", "hard_sigmoid", False, "keras", 1.0, "Keras 2.1.5 (keras/layers/recurrent.py, 2018)"),
    Flavor("keras3", "sigmoid", True, "keras", 1.0, "Keras 3 (keras/src/layers/rnn/*.py); tf.keras 2.x alike"),
    Flavor("torch", "sigmoid", True, "torch", float("nan"), "PyTorch torch.nn.RNN/LSTM/GRU"),
]}


@dataclass(frozen=True)
class Kind:
    """A cell's structure: its blocks of H columns (per layout), its forget-gate block, its state and
    where its equations come from."""

    name: str
    blocks: dict[str, tuple[str, ...]]  # per layout, the gate blocks in parameter order
    equations: str
    source: str
    pair_state: bool = False  # carry (h, c) instead of h
    forget: str | None = None  # the block whose bias is the forget bias
    candidate: str | None = None  # the block whose recurrent weight ``uc`` sets
    update: str | None = None  # the block whose bias ``bz`` sets
    flavors: tuple[str, ...] = tuple(FLAVORS)
    bistable: bool = False  # brc/nbrc: elementwise (brc) or full (nbrc) feedback on two gates only


def _same(*names: str) -> dict[str, tuple[str, ...]]:
    return {"keras": names, "torch": names}


KINDS: dict[str, Kind] = {k.name: k for k in [
    Kind("srnn", _same("h"), "h' = tanh(W x + U h + b)",
         "Elman 1990; keras.layers.SimpleRNN, torch.nn.RNN(nonlinearity='tanh')"),
    Kind("lstm", {"keras": ("i", "f", "c", "o"), "torch": ("i", "f", "g", "o")},
         "i, f, o = gate(W x + U h + b); g = tanh(W_c x + U_c h + b_c); c' = f*c + i*g; h' = o*tanh(c')",
         "Hochreiter & Schmidhuber 1997 with Gers et al. 2000's forget gate; keras.layers.LSTM, torch.nn.LSTM",
         pair_state=True, forget="f", candidate="c"),
    Kind("gru", {"keras": ("z", "r", "h"), "torch": ("r", "z", "n")},
         "z, r = gate(W x + U h + b); reset_after: n = tanh(W_n x + b_n + r*(U_n h + b'_n)), else "
         "n = tanh(W_n x + b_n + U_n (r*h)); h' = z*h + (1 - z)*n",
         "Cho et al. 2014; keras.layers.GRU, torch.nn.GRU", candidate="h", update="z"),
    Kind("cifg", _same("f", "c", "o"),
         "f, o = gate(W x + U h + b); g = tanh(W_c x + U_c h + b_c); c' = f*c + (1 - f)*g; h' = o*tanh(c')",
         "Greff et al. 2017, 'LSTM: A Search Space Odyssey' (coupled input and forget gate, i = 1 - f)",
         pair_state=True, forget="f", candidate="c"),
    Kind("janet", _same("f", "c"),
         "s = W_f x + U_f h + b_f; c' = gate(s)*c + (1 - gate(s - beta))*tanh(W_c x + U_c h + b_c); h' = c'",
         "van der Westhuizen & Lasenby 2018, 'The unreasonable effectiveness of the forget gate' (beta = 1)",
         forget="f", candidate="c"),
    Kind("lstm97", _same("i", "c", "o"),
         "i, o = gate(W x + U h + b); g = tanh(W_c x + U_c h + b_c); c' = c + i*g; h' = o*tanh(c')",
         "Hochreiter & Schmidhuber 1997, 'Long short-term memory' (no forget gate: the constant error carousel)",
         pair_state=True, candidate="c"),
    Kind("brc", _same("c", "a", "h"),
         "c = gate(W_c x + w_c*h + b_c); a = 1 + tanh(W_a x + w_a*h + b_a); h' = c*h + (1 - c)*tanh(W_h x + a*h)",
         "Vecoven, Ernst & Drion 2021, 'A bio-inspired bistable recurrent cell allows for long-lasting memory' "
         "(PLOS ONE 16(6): e0252676)", update="c", flavors=("keras2", "keras3"), bistable=True),
    Kind("nbrc", _same("c", "a", "h"),
         "c = gate(W_c x + U_c h + b_c); a = 1 + tanh(W_a x + U_a h + b_a); h' = c*h + (1 - c)*tanh(W_h x + a*h)",
         "Vecoven, Ernst & Drion 2021 (neuromodulated BRC)", update="c", flavors=("keras2", "keras3"), bistable=True),
]}
CELL_KINDS = tuple(KINDS)


class Weights(NamedTuple):
    """A cell's parameters in one layout for its equations: ``x @ W``, ``h @ U`` (or ``h * U`` for the
    BRC's elementwise feedback), the bias ``b`` and the second bias ``b2`` (None where there is one)."""

    W: jax.Array
    U: jax.Array
    b: jax.Array
    b2: jax.Array | None


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


def torch_uniform(key: jax.Array, shape: tuple[int, ...], hidden: int) -> jax.Array:
    """PyTorch's RNN/LSTM/GRU and ``nn.Linear(hidden, .)`` initialisation: U(-1/sqrt(hidden), 1/sqrt(hidden))."""
    bound = 1.0 / jnp.sqrt(jnp.float32(hidden))
    return jax.random.uniform(key, shape, jnp.float32, -bound, bound)


def _takes(kind: Kind, option: str) -> bool:
    """Whether cells of ``kind`` have the spec option ``option`` (chrono, uc, bz, reset_after, beta)."""
    return bool({"chrono": kind.forget, "uc": kind.candidate, "bz": kind.update,
                 "reset_after": kind.name == "gru", "beta": kind.name == "janet"}[option])



# the widest contraction ``_dot`` writes out as multiply-adds; wider ones are matrix products
DOT_ROWS = 16


def _dot(a: jax.Array, w: jax.Array) -> jax.Array:
    """``a @ w``. Vmapped over models, a small matmul becomes a batched dot per time step, which
    XLA's CPU backend runs slowly: up to 4 inputs it is unrolled into multiply-adds that fuse with
    the gate arithmetic, up to 16 written as a fused broadcast-multiply-sum; larger ones stay dots
    (benchmarks/RESULTS.md)."""
    if w.shape[0] > DOT_ROWS:
        return a @ w
    if w.shape[0] > 4:
        return jnp.sum(a[..., :, None] * w, axis=-2)
    out = a[..., 0:1] * w[0]
    for k in range(1, w.shape[0]):
        out = out + a[..., k : k + 1] * w[k]
    return out


def _preactivation(w: Weights, x: jax.Array, h: jax.Array) -> jax.Array:
    """``x W + h U + b`` for every block (PyTorch's order of sums where there are two biases)."""
    if w.b2 is None:
        return _dot(x, w.W) + _dot(h, w.U) + w.b
    return (_dot(x, w.W) + w.b) + (_dot(h, w.U) + w.b2)


def _named(cell: CellOptions, z: jax.Array) -> dict[str, jax.Array]:
    return dict(zip(cell.blocks, jnp.split(z, cell.gate_blocks, axis=-1)))


def _srnn_step(cell: CellOptions, w: Weights, h: jax.Array, x: jax.Array):
    h = jnp.tanh(_preactivation(w, x, h))
    return h, h, {}


def _lstm_family_step(cell: CellOptions, w: Weights, carry, x: jax.Array):
    """LSTM, CIFG (i = 1 - f) and the 1997 LSTM (f = 1): c' = f*c + i*g, h' = o*tanh(c')."""
    h, c = carry
    z = _named(cell, _preactivation(w, x, h))
    g = jnp.tanh(z.get("c", z.get("g")))
    o = cell.gate(z["o"])
    if cell.kind == "lstm":
        i, f = cell.gate(z["i"]), cell.gate(z["f"])
        c = f * c + i * g
    elif cell.kind == "cifg":
        f = cell.gate(z["f"])
        i = 1.0 - f
        c = f * c + i * g
    else:  # lstm97: the constant error carousel
        i, f = cell.gate(z["i"]), jnp.ones_like(g)
        c = c + i * g
    h = o * jnp.tanh(c)
    return (h, c), h, {"input": i, "forget": f, "output": o, "cell": c}


def _janet_step(cell: CellOptions, w: Weights, c: jax.Array, x: jax.Array):
    z = _named(cell, _preactivation(w, x, c))
    beta = 1.0 if cell.beta is None else cell.beta
    f = cell.gate(z["f"])
    i = 1.0 - cell.gate(z["f"] - beta)
    c = f * c + i * jnp.tanh(z["c"])
    return c, c, {"input": i, "forget": f, "cell": c}


def _gru_step(cell: CellOptions, w: Weights, h: jax.Array, x: jax.Array):
    u = cell.units
    names = cell.blocks[:2]  # the two gates come first in every layout (Keras z, r; PyTorch r, z)
    if cell.gru_reset_after:  # reset gate applied after the recurrent matmul
        b2 = 0.0 if w.b2 is None else w.b2
        xw = _dot(x, w.W) + w.b
        hu = _dot(h, w.U) + b2
        xa, xb, xh = jnp.split(xw, 3, axis=-1)
        ha, hb, hh = jnp.split(hu, 3, axis=-1)
        gates = dict(zip(names, (cell.gate(xa + ha), cell.gate(xb + hb))))
        candidate = jnp.tanh(xh + gates["r"] * hh)
    else:  # reset gate applied to h before the recurrent matmul
        xw = _dot(x, w.W) + w.b
        xa, xb, xh = jnp.split(xw, 3, axis=-1)
        hab = _dot(h, w.U[:, : 2 * u])
        if w.b2 is not None:
            xh = xh + w.b2[2 * u :]
            hab = hab + w.b2[: 2 * u]
        gates = dict(zip(names, (cell.gate(xa + hab[:, :u]), cell.gate(xb + hab[:, u:]))))
        candidate = jnp.tanh(xh + _dot(gates["r"] * h, w.U[:, 2 * u :]))
    z = gates["z"]
    h = z * h + (1.0 - z) * candidate
    return h, h, {"update": z, "reset": gates["r"], "candidate": candidate}


def _brc_step(cell: CellOptions, w: Weights, h: jax.Array, x: jax.Array):
    """BRC (elementwise feedback w_c, w_a) and nBRC (full matrices U_c, U_a)."""
    xc, xa, xh = jnp.split(_dot(x, w.W), 3, axis=-1)
    if w.U.ndim == 1:  # brc: h * [w_c, w_a]
        hu = jnp.concatenate([h, h], axis=-1) * w.U
    else:
        hu = _dot(h, w.U)
    hc, ha = jnp.split(hu + w.b, 2, axis=-1)
    c = cell.gate(xc + hc)
    a = 1.0 + jnp.tanh(xa + ha)
    candidate = jnp.tanh(xh + a * h)
    h = c * h + (1.0 - c) * candidate
    return h, h, {"update": c, "bistability": a, "candidate": candidate}


_STEPS: dict[str, Callable] = {"srnn": _srnn_step, "lstm": _lstm_family_step, "cifg": _lstm_family_step,
                               "lstm97": _lstm_family_step, "janet": _janet_step, "gru": _gru_step,
                               "brc": _brc_step, "nbrc": _brc_step}

