"""The registry of cell kinds: every family's :class:`~latchjax.core.cells.common.Kind`, by name.

A new family is a module beside this one that declares its kinds (structure, step equations, source);
adding it to :data:`KINDS` makes it a cell every sweep, ``latchjax cells`` and the spec parser know.
"""

from __future__ import annotations

from latchjax.core.cells import bistable, gru, janet, lstm, simple
from latchjax.core.cells.common import Kind

KINDS: dict[str, Kind] = {k.name: k for k in (simple.SRNN, lstm.LSTM, gru.GRU, lstm.CIFG, janet.JANET, lstm.LSTM97,
                                               bistable.BRC, bistable.NBRC)}
CELL_KINDS = tuple(KINDS)
