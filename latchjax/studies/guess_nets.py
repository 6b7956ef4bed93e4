"""The networks of random weight guessing (Hochreiter & Schmidhuber 1996/2001): every weight guessed.

Each is a :class:`latchjax.core.cells.Recurrence` (``initial_carry``, ``step``, ``output``) with the shapes of
its parameters and a ``readout``; :func:`make_arch` builds one from its spec (:data:`ARCH_HELP`).

* ``latch1`` (:class:`Latch1`): Bengio's latch, one recurrent weight and one trainable first input per class;
* ``unit``: one tanh unit with self, input and bias weights (latch II);
* ``a1[:n=N]`` / ``a2[:n=N]`` (:class:`Recurrent`): H&S's fully / sparsely connected sigmoid nets with N
  hidden units and one output unit;
* any Keras cell spec (``srnn``, ``lstm:units=2``, ``gru``...) with a Dense(1) read-out (:class:`CellArch`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

from latchjax.core.cells import CELL_KINDS, RNNCell, parse_cell
from latchjax.core.vocabulary import SettingsError
from latchjax.studies.bengio import LATCH
from latchjax.studies.guess_tasks import GuessTask

__all__ = ["WEIGHT_RANGE", "Arch", "Latch1", "Recurrent", "CellArch", "ARCH_HELP", "DEFAULT_ARCH", "make_arch"]

WEIGHT_RANGE = 100.0


class Arch:
    """A network whose every weight is guessed, a :class:`latchjax.core.cells.protocol.Recurrence`: ``shapes(n_in)``
    gives the parameter pytree's shapes; ``initial_carry(batch, n_in)``, ``step(params, carry, x_t) ->
    (carry, out)`` and ``output(carry)`` run it; ``readout(params, carry)`` is its answer at a
    sequence's end (the output, unless a read-out layer follows); ``output_range`` is what that
    answer can reach."""

    name: str
    output_range: tuple[float, float]

    def shapes(self, n_in: int) -> Any:
        raise NotImplementedError

    def initial_carry(self, batch: int, n_in: int) -> Any:
        raise NotImplementedError

    def step(self, params: Any, carry: Any, x_t: jax.Array) -> tuple[Any, jax.Array]:
        raise NotImplementedError

    def output(self, carry: Any) -> jax.Array:
        raise NotImplementedError

    def readout(self, params: Any, carry: Any) -> jax.Array:
        return self.output(carry)

    def n_weights(self, n_in: int) -> int:
        """The weights that take part (a sparse net draws, but never uses, the others)."""
        return sum(math.prod(s) for s in jax.tree.leaves(self.shapes(n_in), is_leaf=lambda s: isinstance(s, tuple)))

    def draw(self, key: jax.Array, n_in: int) -> Any:
        """Every weight uniform in [-100, 100]."""
        shapes = self.shapes(n_in)
        leaves, treedef = jax.tree.flatten(shapes, is_leaf=lambda s: isinstance(s, tuple))
        keys = jax.random.split(key, len(leaves))
        return treedef.unflatten([jax.random.uniform(k, s, jnp.float32, -WEIGHT_RANGE, WEIGHT_RANGE)
                                  for k, s in zip(keys, leaves)])


@dataclass(frozen=True)
class Latch1(Arch):
    """Bengio's minimal latch with L = 1 (:data:`latchjax.studies.bengio.LATCH`: a_t = w tanh(a_{t-1}) + h_t,
    output tanh(a_T)). h_1 is a free parameter per class (``h_pos``, ``h_neg``); later h_t are the
    task's noise. 3 parameters."""

    name: str = "latch1"
    output_range: tuple[float, float] = (-1.0, 1.0)

    def shapes(self, n_in):
        if n_in != 2:
            raise SettingsError("latch1 only runs the latch1 task (its inputs carry the class of the free first "
                                "input)", "arch")
        return {"w": (), "h_pos": (), "h_neg": ()}

    def initial_carry(self, batch, n_in):
        return LATCH.initial_carry(batch, n_in)

    def step(self, p, a, x_t):
        h = x_t[:, 0] + jnp.where(x_t[:, 1] > 0, p["h_pos"], 0.0) + jnp.where(x_t[:, 1] < 0, p["h_neg"], 0.0)
        return LATCH.step(p["w"], a, h)

    def output(self, a):
        return LATCH.output(a)


@dataclass(frozen=True)
class Recurrent(Arch):
    """H&S's nets: ``hidden`` units and one output unit, all biased, activations 0 at the start,
    updated layer by layer: the hidden units read the input and the previous step's hidden and
    output units; the output unit then reads the input, this step's hidden units and its own
    previous value. ``a1``: fully connected. ``a2``: each hidden unit sees only itself (and the
    input and the output unit); the output unit has no self-connection. ``unit`` is a1 with no
    hidden unit and tanh: one unit with self, input and bias weights."""

    name: str = "a1"
    hidden: int = 1
    sparse: bool = False
    activation: str = "sigmoid"

    @property
    def output_range(self):
        return (0.0, 1.0) if self.activation == "sigmoid" else (-1.0, 1.0)

    def shapes(self, n_in):
        n = self.hidden
        return {"hh": (n, n), "oh": (n,), "xh": (n_in, n), "bh": (n,),
                "ho": (n,), "oo": (), "xo": (n_in,), "bo": ()}

    def n_weights(self, n_in: int) -> int:
        full = super().n_weights(n_in)
        return full - (self.hidden * self.hidden - self.hidden + 1) if self.sparse else full

    def initial_carry(self, batch, n_in):
        return jnp.zeros((batch, self.hidden), jnp.float32), jnp.zeros((batch,), jnp.float32)

    def _act(self, net):
        return jax.nn.sigmoid(net) if self.activation == "sigmoid" else jnp.tanh(net)

    def step(self, p, carry, x_t):
        h, o = carry
        if self.sparse:  # each hidden unit sees only itself
            recurrent = h * jnp.diagonal(p["hh"])
        elif self.hidden <= 4:  # a few multiply-adds beat a tiny matmul
            recurrent = (h[:, :, None] * p["hh"][None]).sum(1)
        else:
            recurrent = h @ p["hh"]
        net_h = recurrent + o[:, None] * p["oh"] + (x_t[:, :, None] * p["xh"][None]).sum(1)
        h = self._act(net_h + p["bh"])
        oo = 0.0 if self.sparse else p["oo"]
        o = self._act((h * p["ho"]).sum(-1) + oo * o + (x_t * p["xo"]).sum(-1) + p["bo"])
        return (h, o), o

    def output(self, carry):
        return carry[1]


@dataclass(frozen=True)
class CellArch(Arch):
    """A Keras cell (``srnn``, ``lstm``, ``gru``, any units/flavour) and a Dense(1) read-out squashed
    to the task's target range (tanh for +-targets, sigmoid for 0/1 targets)."""

    cell: RNNCell = RNNCell()
    squash: str = "sigmoid"

    @property
    def name(self):
        return self.cell.name

    @property
    def output_range(self):
        return (0.0, 1.0) if self.squash == "sigmoid" else (-1.0, 1.0)

    def shapes(self, n_in):
        cell = jax.eval_shape(lambda: self.cell.init(jax.random.key(0), n_in))
        return {"cell": jax.tree.map(lambda s: tuple(s.shape), cell),
                "kernel": (self.cell.units,), "bias": ()}

    def initial_carry(self, batch, n_in):
        return self.cell.initial_carry(batch, n_in)

    def step(self, p, carry, x_t):
        return self.cell.step(p["cell"], carry, x_t)

    def output(self, carry):
        return self.cell.output(carry)

    def readout(self, p, carry):
        h = self.output(carry)
        z = (h * p["kernel"]).sum(-1) + p["bias"]
        return jax.nn.sigmoid(z) if self.squash == "sigmoid" else jnp.tanh(z)


ARCH_HELP = ("latch1, unit (one tanh unit), a1[:n=N] (N hidden sigmoid units, fully connected), "
             "a2[:n=N] (sparse, N=10 by default), or a cell spec: srnn, lstm, gru, cifg, janet, lstm97, brc, nbrc"
             "[:units=K][:flavor=keras2|keras3|torch]")


def make_arch(spec: str, task: GuessTask) -> Arch:
    """An architecture from its spec (see :data:`ARCH_HELP`), checked against the task's targets; a bad one
    raises :class:`~latchjax.core.vocabulary.SettingsError` about the setting ``arch``."""
    kind, *options = spec.split(":")
    try:
        if kind == "latch1":
            if options:
                raise ValueError
            arch: Arch = Latch1()
        elif kind == "unit" and not options:
            arch = Recurrent(name="unit", hidden=0, activation="tanh")
        elif kind in ("a1", "a2"):
            hidden = 1 if kind == "a1" else 10
            for option in options:
                key, sep, value = option.partition("=")
                if key != "n" or not sep:
                    raise ValueError
                hidden = int(value)
            if hidden < 0 or (kind == "a2" and hidden < 1):
                raise ValueError
            arch = Recurrent(name=spec, hidden=hidden, sparse=kind == "a2")
        elif kind in CELL_KINDS:
            squash = "tanh" if task.targets[0] < 0 else "sigmoid"
            arch = CellArch(parse_cell(spec), squash)
        else:
            raise ValueError
    except ValueError as err:
        detail = f" ({err})" if str(err) else ""
        raise SettingsError(f"bad architecture {spec!r}{detail}; use {ARCH_HELP}", "arch") from None
    low, high = arch.output_range
    if not (low <= task.targets[0] and task.targets[1] <= high):
        raise SettingsError(f"{spec} outputs values in [{low:g}, {high:g}] but {task.name}'s targets are "
                            f"{task.targets[0]:g} and {task.targets[1]:g}", "arch")
    if isinstance(arch, Latch1) and task.name != "latch1":
        raise SettingsError(f"latch1 only runs the latch1 task, not {task.name}", "arch")
    arch.shapes(task.n_in)
    return arch


# the architecture a task runs unless --arch says otherwise: H&S's net for each task
DEFAULT_ARCH = {"latch1": "latch1", "latch2": "unit", "two_sequence": "a1", "parity": "a1", "adding": "a1"}
