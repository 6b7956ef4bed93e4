"""The cell protocol: what every recurrence in latchjax is, and what a cell that sweeps train adds.

Every recurrence is a :class:`Recurrence`, a small immutable object with the shape Flax and Equinox use:

* ``initial_carry(batch, n_in) -> carry`` is the zero state;
* ``step(params, carry, x) -> (carry, out)`` is one time step;
* ``output(carry) -> h`` is what a read-out sees.

A :class:`Cell` (what sweeps train: :class:`~latchjax.core.cells.RNNCell`,
:class:`~latchjax.core.cells.FlaxCell`, :class:`~latchjax.core.cells.EquinoxCell`) is a recurrence that also draws its own parameters
(``init(key, n_in, forget_bias=None) -> params``), knows its ``units``, ``flavor``, ``name`` and whether it
``has_forget_bias``, and can put a new output into a carry (``with_output(carry, h) -> carry``). Bengio's
latch (:class:`latchjax.studies.bengio.MinimalLatch`) and the nets of random guessing
(:class:`latchjax.studies.guessing.Arch`) are recurrences too.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import jax

Params = Any
Carry = Any


@runtime_checkable
class Recurrence(Protocol):
    """One time step of a recurrent net, as :func:`latchjax.core.scan.masked_scan` runs it."""

    def initial_carry(self, batch: int, n_in: int) -> Carry:
        """The state before the first step, for ``batch`` rows of ``n_in`` inputs."""
        ...

    def step(self, params: Params, carry: Carry, x: jax.Array) -> tuple[Carry, jax.Array]:
        """One step: the new carry and what this step emits."""
        ...

    def output(self, carry: Carry) -> jax.Array:
        """What a read-out sees of a carry."""
        ...


@runtime_checkable
class Cell(Recurrence, Protocol):
    """A recurrence that sweeps train: it draws its parameters and a read-out can replace its output."""

    @property
    def units(self) -> int: ...

    @property
    def flavor(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def has_forget_bias(self) -> bool: ...

    def init(self, key: jax.Array, n_in: int, forget_bias: float | jax.Array | None = None) -> Params:
        """Draw the parameters; ``forget_bias`` (possibly traced) sets the forget gate's bias if any."""
        ...

    def with_output(self, carry: Carry, h: jax.Array) -> Carry:
        """``carry`` with its output part (what :meth:`output` returns) replaced by ``h``."""
        ...
