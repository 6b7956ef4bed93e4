"""Cells by name: the spec language ``kind[:option=value...]`` of flags, presets and results."""

from __future__ import annotations

import sys
from typing import Any

from latchjax.core.cells.equinox import EXAMPLE, EquinoxCell
from latchjax.core.cells.flax import FlaxCell
from latchjax.core.cells.kinds import ALL_KINDS, KINDS, ZOO_KINDS
from latchjax.core.cells.protocol import Cell
from latchjax.core.cells.rnn import RNNCell
from latchjax.core.cells.zoo import ZooCell, parse_zoo_cell

SPEC_OPTIONS = ("units", "flavor", "gate", "rec", "chrono", "uc", "bz", "reset_after", "beta")


def uses_forget_bias(name: str) -> bool:
    """Whether the cell a results name stands for has a forget bias to set (a name that is no cell spec,
    such as ``flax.GRUCell`` or ``equinox.GRUCell``, uses its own initialisers: no). Cells without one are the same model at
    every forget-bias value of a sweep."""
    try:
        return make_cell(name).has_forget_bias
    except ValueError:
        return False


def parse_cell(spec: str, units: int = 1, flavor: str = "keras2") -> RNNCell | ZooCell:
    """A cell from a spec ``kind[:option=value...]``, e.g. ``lstm``, ``srnn:rec=0.5``,
    ``lstm:gate=sigmoid:units=10``, ``lstm:chrono=200``, ``lstm:uc=0.5``, ``gru:bz=2``,
    ``janet:flavor=torch``. Options: units, flavor (override the sweep's), gate (hard_sigmoid |
    sigmoid), rec (recurrent init value), chrono (forget-gate horizon), uc (candidate recurrent
    weight), bz (update-gate bias), reset_after (GRU: 0 | 1), beta (JANET's shift).

    The literature's cells of :data:`~latchjax.core.cells.kinds.ZOO_KINDS` (``lru:rmin=0.9``, ``cornn:dt=0.06``)
    take their own options instead (:func:`~latchjax.core.cells.zoo.parse_zoo_cell`).
    """
    kind, *options = spec.split(":")
    if kind in ZOO_KINDS:
        return parse_zoo_cell(spec, units, flavor)
    if kind not in KINDS:
        raise ValueError(f"cell: unknown cell {kind!r}; allowed: {', '.join(ALL_KINDS)}")
    fields: dict = {"units": units, "flavor": flavor}
    numbers = {"units": int, "chrono": int, "rec": float, "uc": float, "bz": float, "beta": float, "reset_after": int}
    renamed = {"rec": "recurrent_init", "gate": "gate_activation"}
    for option in options:
        key, sep, value = option.partition("=")
        if key not in SPEC_OPTIONS or not sep:
            raise ValueError(f"cell: bad option {option!r} in {spec!r}; use kind:option=value with options "
                             f"{', '.join(SPEC_OPTIONS)}")
        try:
            parsed: Any = numbers[key](value) if key in numbers else value
        except ValueError:
            raise ValueError(f"cell: {key} must be a number in {spec!r}, got {value!r}") from None
        if key == "reset_after":
            if parsed not in (0, 1):
                raise ValueError(f"cell: reset_after must be 0 or 1 in {spec!r}, got {value!r}")
            parsed = bool(parsed)
        fields[renamed.get(key, key)] = parsed
    return RNNCell(kind, label=spec if options else None, **fields)


def make_cell(cell: str | Cell, units: int = 1, flavor: str = "keras2") -> Cell:
    """Turn a cell name or spec (see :func:`parse_cell`) into an :class:`RNNCell`; pass cell
    objects through unchanged.

    Anything with ``features`` and ``initialize_carry`` (a Flax cell) is wrapped in :class:`FlaxCell`. An
    Equinox module is refused: it is one draw of parameters, and each seed needs its own, so an Equinox cell
    comes as an :class:`~latchjax.core.cells.equinox.EquinoxCell` of a factory.
    """
    if isinstance(cell, (RNNCell, ZooCell, FlaxCell, EquinoxCell)):
        return cell
    if isinstance(cell, str):
        return parse_cell(cell, units, flavor)
    if hasattr(cell, "initialize_carry") and hasattr(cell, "features"):
        return FlaxCell(cell)
    eqx = sys.modules.get("equinox")  # an Equinox module can only exist once equinox is imported
    if eqx is not None and isinstance(cell, eqx.Module):
        raise ValueError(f"cell: an Equinox module ({type(cell).__name__}) holds one draw of parameters; give "
                         f"a factory that draws one per seed: {EXAMPLE}")
    raise ValueError(
        f"cell: expected one of {', '.join(ALL_KINDS)}, an RNNCell/ZooCell/FlaxCell/EquinoxCell or a Flax RNN cell, "
        f"got {cell!r}"
    )
