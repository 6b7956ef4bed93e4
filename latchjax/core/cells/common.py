"""What every cell family shares: the frameworks' flavours, their initialisers, the :class:`Kind` record a
family declares, the :class:`Weights` layout and the fused products of the step equations.

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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp


class CellOptions(Protocol):
    """What the equations read of a cell (:class:`latchjax.core.cells.rnn.RNNCell` has all of it)."""

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


DEFAULT_FLAVOR = "keras2"  # a sweep's --flavor when none is given: the question's Keras 2.1
FLAVORS: dict[str, Flavor] = {f.name: f for f in [
    Flavor("keras2", "hard_sigmoid", False, "keras", 1.0, "Keras 2.1.5 (keras/layers/recurrent.py, 2018)"),
    Flavor("keras3", "sigmoid", True, "keras", 1.0, "Keras 3 (keras/src/layers/rnn/*.py); tf.keras 2.x alike"),
    Flavor("torch", "sigmoid", True, "torch", float("nan"), "PyTorch torch.nn.RNN/LSTM/GRU"),
]}


@dataclass(frozen=True)
class Kind:
    """A cell's structure: its blocks of H columns (per layout), its forget-gate block, its state, its step
    equations and where they come from. Each family module declares its kinds; :mod:`.registry` lists them.

    ``step(cell, weights, carry, x) -> (carry, h, gates)`` is the kind's equations: ``cell`` is what they read
    of the cell (:class:`CellOptions`), ``weights`` its parameters as :class:`Weights`, ``gates`` the gate
    values for diagnostics."""

    name: str
    blocks: dict[str, tuple[str, ...]]  # per layout, the gate blocks in parameter order
    equations: str
    source: str
    step: Callable[..., tuple[Any, jax.Array, dict]]
    pair_state: bool = False  # carry (h, c) instead of h
    forget: str | None = None  # the block whose bias is the forget bias
    candidate: str | None = None  # the block whose recurrent weight ``uc`` sets
    update: str | None = None  # the block whose bias ``bz`` sets
    flavors: tuple[str, ...] = tuple(FLAVORS)
    bistable: bool = False  # brc/nbrc: elementwise (brc) or full (nbrc) feedback on two gates only

    def takes(self, option: str) -> bool:
        """Whether cells of this kind have the spec option ``option`` (chrono, uc, bz, reset_after, beta)."""
        return bool({"chrono": self.forget, "uc": self.candidate, "bz": self.update,
                     "reset_after": self.name == "gru", "beta": self.name == "janet"}[option])


def same_blocks(*names: str) -> dict[str, tuple[str, ...]]:
    """The same gate blocks in the Keras and the PyTorch layout."""
    return {"keras": names, "torch": names}


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
    q, r = qr(a)
    q = q * jnp.sign(jnp.diagonal(r))
    return q.T if rows < cols else q


def one_at_a_time_on_cpu(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (of arrays, not differentiated), which ``vmap`` runs as a loop over the batch on CPU (a
    ``lax.map``: each LAPACK call inside sees one matrix); elsewhere ``fn`` itself.

    jaxlib 0.10's CPU QR kernel splits a batch across XLA's intra-op thread pool (``ParallelBatchMap``), and two
    devices' executions doing so at once can wait on each other forever: a multi-device CPU sweep (one device per
    core) of a Keras-initialised cell hung in its initialisation (found 2026-12-06; ``benchmarks/lapack_hang.py``
    reproduces it under load in 4 to 5 trials of 6, never with one matrix per call). Results are the same, bit for
    bit."""
    sequential = jax.custom_batching.sequential_vmap(fn)

    def run(*args: Any) -> Any:
        return sequential(*args) if jax.default_backend() == "cpu" else fn(*args)

    return run


qr = one_at_a_time_on_cpu(lambda a: tuple(jnp.linalg.qr(a)))
qr.__doc__ = "``jnp.linalg.qr(a)`` (reduced) of one matrix, one matrix per LAPACK call under ``vmap`` on CPU."


def torch_uniform(key: jax.Array, shape: tuple[int, ...], hidden: int) -> jax.Array:
    """PyTorch's RNN/LSTM/GRU and ``nn.Linear(hidden, .)`` initialisation: U(-1/sqrt(hidden), 1/sqrt(hidden))."""
    bound = 1.0 / jnp.sqrt(jnp.float32(hidden))
    return jax.random.uniform(key, shape, jnp.float32, -bound, bound)


# the widest contraction ``dot`` writes out as multiply-adds; wider ones are matrix products
DOT_ROWS = 16


def dot(a: jax.Array, w: jax.Array) -> jax.Array:
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


def preactivation(w: Weights, x: jax.Array, h: jax.Array) -> jax.Array:
    """``x W + h U + b`` for every block (PyTorch's order of sums where there are two biases)."""
    if w.b2 is None:
        return dot(x, w.W) + dot(h, w.U) + w.b
    return (dot(x, w.W) + w.b) + (dot(h, w.U) + w.b2)


def named_blocks(cell: CellOptions, z: jax.Array) -> dict[str, jax.Array]:
    return dict(zip(cell.blocks, jnp.split(z, cell.gate_blocks, axis=-1)))


# --- the literature's cells whose parameters are not gate blocks (:class:`latchjax.core.cells.zoo.ZooCell`) ----------


@dataclass(frozen=True)
class Option:
    """A hyperparameter of a literature cell, given in its spec as ``kind:name=value``: its default (the authors'),
    its type, and its domain as a predicate with the words an error prints (``must be > 0``)."""

    name: str
    default: float | int | None
    help: str
    domain: Callable[[float], bool] = lambda v: True
    domain_text: str = "a finite number"
    type: type = float


@dataclass(frozen=True)
class ZooKind:
    """A literature cell with its own parameters: what its authors' code draws (``init``), one step of its
    equations (``step``), its zero state (``carry``), its options (authors' defaults), the flavours it has
    (the framework of its authors' code; the first is its own) and, for a recurrence linear in its state,
    ``coefficients(cell, params, x) -> (a, b)`` with ``h' = a * h + b`` (``a``, ``b`` from the input alone).

    ``init(cell, key, n_in) -> params``; ``step(cell, params, carry, x) -> (carry, out, gates)``;
    ``carry(cell, batch, n_in) -> carry`` (an array h, or a tuple whose first element is what a read-out sees).
    ``check(cell)`` refuses option combinations (``r_min > r_max``) with a one-line ``ValueError``.

    What the parallel scan (:func:`latchjax.core.scan.linear_scan`) reads of a linear kind besides its coefficients:
    ``state(cell, carry) -> h``, the linear state in a carry (a ``(real, imaginary)`` pair for a complex one, as the
    coefficients give it); ``readout(cell, params, h, x) -> carry``, the carry after the step that read ``x`` and
    left the state ``h`` (the step is ``readout(a * state(carry) + b, x)``); and ``log_coefficients(cell, params,
    x) -> (log a, log b)`` where the authors scan in log space (b > 0: minGRU, minLSTM). The defaults: the carry is
    the state.

    ``lr_scales(cell) -> {parameter: ratio}`` gives parameters their own learning rate, ``ratio`` times the sweep's,
    where the authors' code trains them with a second optimizer of the same kind (expRNN's A); the trainer multiplies
    those parameters' updates by the ratio, which equals a learning rate ``ratio * lr`` for every optimizer latchjax
    offers (Adam's and SGD's updates are linear in the learning rate)."""

    name: str
    equations: str
    source: str
    code: str  # the authors' repository and file this implementation was checked against
    init: Callable[..., Any]
    step: Callable[..., tuple[Any, jax.Array, dict]]
    carry: Callable[..., Any]
    flavors: tuple[str, ...]
    options: tuple[Option, ...] = ()
    check: Callable[[Any], None] = lambda cell: None
    coefficients: Callable[..., tuple[Any, Any]] | None = None
    parameterisation: str = ""  # how complex or constrained parameters are held as real arrays
    state: Callable[[Any, Any], Any] = lambda cell, carry: carry
    readout: Callable[..., Any] = lambda cell, params, h, x: h
    log_coefficients: Callable[..., tuple[Any, Any]] | None = None
    lr_scales: Callable[[Any], dict[str, float]] = lambda cell: {}


def relu(x: jax.Array) -> jax.Array:
    """ReLU with the frameworks' derivative 0 at 0 (TensorFlow, PyTorch and ``jax.nn.relu`` agree)."""
    return jax.nn.relu(x)


def relu_right(x: jax.Array) -> jax.Array:
    """ReLU with derivative 1 at 0 (the active branch): what explain linearises a ReLU cell resting at 0 with."""
    return jnp.where(x >= 0, x, 0.0)


def zeros_state(cell: Any, batch: int, n_in: int) -> jax.Array:
    return jnp.zeros((batch, cell.units), jnp.float32)
