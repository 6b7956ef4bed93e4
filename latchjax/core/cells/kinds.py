"""The registry of cell kinds: every family's :class:`~latchjax.core.cells.common.Kind`, by name.

A new family is a module beside this one that declares its kinds (structure, step equations, source);
adding it to :data:`KINDS` makes it a cell every sweep, ``latchjax cells`` and the spec parser know. The
literature's cells whose parameters are not gate blocks are :class:`~latchjax.core.cells.common.ZooKind` records in
:data:`ZOO_KINDS`, built as :class:`~latchjax.core.cells.zoo.ZooCell`.
"""

from __future__ import annotations

from latchjax.core.cells import bistable, gru, janet, linear_rnn, lstm, ode_rnn, orthogonal_rnn, relu_rnn, simple
from latchjax.core.cells.common import Kind, ZooKind

KINDS: dict[str, Kind] = {k.name: k for k in (simple.SRNN, lstm.LSTM, gru.GRU, lstm.CIFG, janet.JANET, lstm.LSTM97,
                                               bistable.BRC, bistable.NBRC)}
CELL_KINDS = tuple(KINDS)

ZOO_KINDS: dict[str, ZooKind] = {k.name: k for k in (
    relu_rnn.IRNN, relu_rnn.INDRNN, orthogonal_rnn.EXPRNN, ode_rnn.ASRNN, ode_rnn.LIPSCHITZ, ode_rnn.CORNN, ode_rnn.LEM,
    linear_rnn.LRU, linear_rnn.MINGRU, linear_rnn.MINLSTM, linear_rnn.S6)}
ALL_KINDS = CELL_KINDS + tuple(ZOO_KINDS)
