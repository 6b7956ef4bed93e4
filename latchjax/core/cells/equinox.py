"""Any Equinox RNN cell as a latchjax :class:`~latchjax.core.cells.protocol.Cell`.

Equinox is optional: this module imports it only when an :class:`EquinoxCell` is made
(``pip install 'latchjax[equinox]'``), so ``import latchjax`` never does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp

from latchjax.core.cells.common import FLAVORS
from latchjax.core.cells.protocol import Carry, Params

EXAMPLE = "EquinoxCell(lambda key, n_in: eqx.nn.GRUCell(n_in, 8, key=key))"


def _equinox():
    try:
        import equinox
    except ImportError:
        raise ImportError("EquinoxCell needs equinox: pip install 'latchjax[equinox]'") from None
    return equinox


def _is_param(leaf: Any) -> bool:
    """A floating-point array, concrete or abstract: what ``eqx.is_inexact_array`` keeps, seen by ``eval_shape``."""
    return isinstance(leaf, jax.ShapeDtypeStruct) and jnp.issubdtype(leaf.dtype, jnp.inexact)


def _key_name(entry: Any) -> str:
    for attr in ("name", "key", "idx"):  # GetAttrKey, DictKey / FlattenedIndexKey, SequenceKey
        if hasattr(entry, attr):
            return str(getattr(entry, attr))
    return str(entry)


class _Skeleton:
    """What the adapter holds of the cell at one input width: the module's static part, the tree of its
    parameters and their names, and one example's zero state (all from ``eval_shape``: nothing drawn)."""

    def __init__(self, cell: EquinoxCell, n_in: int) -> None:
        eqx = _equinox()
        abstract = eqx.filter_eval_shape(cell.make, jax.random.key(0), n_in)
        dynamic, self.static = eqx.partition(abstract, _is_param)
        other = [leaf for leaf in jax.tree.leaves(self.static) if isinstance(leaf, jax.ShapeDtypeStruct)]
        if other:
            raise ValueError(f"EquinoxCell: {type(abstract).__name__} holds arrays of dtype {other[0].dtype}, "
                             f"which would not train; only floating-point parameters are supported")
        paths, self.treedef = jax.tree_util.tree_flatten_with_path(dynamic)
        # "/" would nest in params.npz
        self.names = [".".join(_key_name(e) for e in path).replace("/", "_") or "param" for path, _ in paths]
        if len(set(self.names)) != len(self.names):  # e.g. a dict keyed 1 beside a list index 1
            self.names = [f"{i}:{name}" for i, name in enumerate(self.names)]
        self.state = self._zero_state(cell, n_in, int(abstract.hidden_size))

    @staticmethod
    def _zero_state(cell: EquinoxCell, n_in: int, units: int) -> Carry:
        """One example's zero state: ``cell.initial_state(units)`` if given, else the first of ``zeros(units)``
        (a GRU) and ``(zeros(units), zeros(units))`` (an LSTM's ``(h, c)``) that the cell maps to its own shape."""
        eqx = _equinox()
        zeros = jnp.zeros((units,), jnp.float32)
        candidates = [cell.initial_state(units)] if cell.initial_state is not None else [zeros, (zeros, zeros)]
        for state in candidates:
            try:
                out = eqx.filter_eval_shape(lambda key, h: cell.make(key, n_in)(jnp.zeros((n_in,), jnp.float32), h),
                                            jax.random.key(0), state)
            except Exception:  # the cell refuses this state: try the next
                continue
            if jax.tree.structure(out) == jax.tree.structure(state) and all(
                    o.shape == jnp.shape(s) for o, s in zip(jax.tree.leaves(out), jax.tree.leaves(state))):
                return state
        if cell.initial_state is not None:
            raise ValueError("EquinoxCell: the cell does not map initial_state(hidden_size) to a state of its shape")
        raise ValueError("EquinoxCell: cannot find the cell's state (neither h nor (h, c) of hidden_size zeros "
                         "maps to itself); pass initial_state=lambda units: <one example's zero state>")


@dataclass(frozen=True)
class EquinoxCell:
    """Any Equinox RNN cell (``eqx.nn.GRUCell``, ``eqx.nn.LSTMCell``, your own ``eqx.Module``), called as
    ``cell(x, h) -> h`` on one example, as a latchjax cell.

    ``make(key, n_in) -> module`` builds the cell. An Equinox module *is* its parameters, so one module is one
    draw; a sweep needs a fresh draw for every seed, and a factory gives it with the cell's own initialisers
    (whatever they are) and learns ``n_in`` from the task; a module alone would fix both. The adapter holds
    the module's static part; the parameters are its floating-point arrays (``eqx.partition(module,
    eqx.is_inexact_array)``) as a flat dict named by their path (``weight_ih``, ``bias``, ``bias_n``;
    ``layer.weight`` inside a submodule), so that sweeps vmap, optimise and save them like any cell's, and
    :meth:`step` puts the module back together (``eqx.combine``) and vmaps it over the batch.

    * ``units``: the module's ``hidden_size``; ``name``: ``equinox.<class>`` (or ``label``);
    * the state: ``zeros(hidden_size)``, or Equinox's LSTM pair ``(h, c)`` if the cell takes that instead
      (found abstractly); ``initial_state(units) -> state of one example`` for any other;
    * the output (what the head reads): the state's **first** leaf: ``h`` of ``eqx.nn.LSTMCell``'s
      ``(h, c)`` (Flax's LSTM carry is ``(c, h)``, hence :class:`~latchjax.core.cells.flax.FlaxCell`'s last
      leaf), the state itself of a GRU;
    * ``flavor`` (default ``keras3``, as for Flax cells) only picks the head's initialiser and the default
      optimizer: the cell keeps its own initialisers, so ``forget_bias`` is ignored (``has_forget_bias``
      is False).

    Example::

        import equinox as eqx
        cell = EquinoxCell(lambda key, n_in: eqx.nn.GRUCell(n_in, 8, key=key))
        latchjax.SweepConfig(cells=("lstm", cell), ...)
    """

    make: Callable[[jax.Array, int], Any]
    label: str | None = None
    flavor: str = "keras3"
    initial_state: Callable[[int], Carry] | None = None
    _skeletons: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    has_forget_bias = False  # the cell's own initialisers

    def __post_init__(self) -> None:
        eqx = _equinox()
        if isinstance(self.make, eqx.Module) or not callable(self.make):
            what = "an Equinox module (one draw of parameters)" if isinstance(self.make, eqx.Module) \
                else f"{type(self.make).__name__} {self.make!r}"
            raise TypeError(f"EquinoxCell: expected a factory (key, n_in) -> equinox.Module, got {what}; "
                            f"e.g. {EXAMPLE}")
        if self.flavor not in FLAVORS:
            raise ValueError(f"EquinoxCell: unknown flavor {self.flavor!r}; allowed: {', '.join(FLAVORS)}")
        try:
            module = eqx.filter_eval_shape(self.make, jax.random.key(0), 1)
        except Exception as err:  # the factory's own error, in one line
            first = str(err).strip().splitlines()[0] if str(err).strip() else ""
            raise TypeError(f"EquinoxCell: make(key, n_in) failed ({type(err).__name__}: {first}); "
                            f"expected a factory like {EXAMPLE}") from None
        if not isinstance(module, eqx.Module):
            what = "an array" if isinstance(module, jax.ShapeDtypeStruct) else type(module).__name__
            raise TypeError(f"EquinoxCell: make(key, n_in) returned {what}, not an equinox.Module; "
                            f"e.g. {EXAMPLE}")
        if not isinstance(getattr(module, "hidden_size", None), int):
            raise TypeError(f"EquinoxCell: {type(module).__name__} has no integer hidden_size, so it is not an "
                            f"RNN cell latchjax can size a head for")
        object.__setattr__(self, "_class", type(module).__name__)
        object.__setattr__(self, "_units", int(module.hidden_size))
        self.skeleton(1)  # its parameters and state are understood (one line if not), before any sweep starts

    @property
    def name(self) -> str:
        return self.label or f"equinox.{self._class}"

    @property
    def units(self) -> int:
        return self._units

    def skeleton(self, n_in: int) -> _Skeleton:
        if n_in not in self._skeletons:
            self._skeletons[n_in] = _Skeleton(self, n_in)
        return self._skeletons[n_in]

    def module(self, params: Params, n_in: int) -> Any:
        """The Equinox module with these parameters."""
        s = self.skeleton(n_in)
        dynamic = jax.tree.unflatten(s.treedef, [params[name] for name in s.names])
        return _equinox().combine(dynamic, s.static)

    def init(self, key: jax.Array, n_in: int, forget_bias: float | jax.Array | None = None) -> Params:
        eqx = _equinox()
        s = self.skeleton(n_in)
        dynamic, _ = eqx.partition(self.make(key, n_in), eqx.is_inexact_array)
        return dict(zip(s.names, jax.tree.leaves(dynamic), strict=True))

    def initial_carry(self, batch: int, n_in: int) -> Carry:
        return jax.tree.map(lambda s: jnp.zeros((batch, *jnp.shape(s)), jnp.result_type(s)), self.skeleton(n_in).state)

    def output(self, carry: Carry) -> jax.Array:
        """The carry's first leaf: h of Equinox's LSTM ``(h, c)``, the carry itself of a GRU."""
        return jax.tree.leaves(carry)[0]

    def with_output(self, carry: Carry, h: jax.Array) -> Carry:
        leaves, treedef = jax.tree.flatten(carry)
        return treedef.unflatten([h, *leaves[1:]])

    def step(self, params: Params, carry: Carry, x: jax.Array) -> tuple[Carry, jax.Array]:
        module = self.module(params, x.shape[-1])
        carry = jax.vmap(lambda xi, hi: module(xi, hi))(x, carry)
        return carry, self.output(carry)
