"""Recurrent cells: the frameworks' SimpleRNN, LSTM and GRU, the literature's latching cells, Flax's and Equinox's.

One module per family (:mod:`.simple`, :mod:`.lstm`, :mod:`.gru`, :mod:`.janet`, :mod:`.bistable`), each
declaring its kinds and step equations; :mod:`.kinds` is their registry. The memory literature's cells since 2015
whose parameters are not gate blocks (:mod:`.relu_rnn`: IRNN, IndRNN; :mod:`.orthogonal_rnn`: expRNN;
:mod:`.ode_rnn`: AntisymmetricRNN, Lipschitz RNN, coRNN, LEM; :mod:`.linear_rnn`: LRU, minGRU, minLSTM, S6) are :class:`ZooCell` s (:mod:`.zoo`), initialised as their authors' code does. :mod:`.common` holds the flavours,
initialisers and shared products, :mod:`.rnn` the cell every kind is built as (:class:`RNNCell`),
:mod:`.flax` and :mod:`.equinox` the adapters for Flax and Equinox cells (:class:`FlaxCell`, :class:`EquinoxCell`),
:mod:`.spec` the ``kind:option=value`` names, and :mod:`.protocol` what a cell is (:class:`Recurrence`,
:class:`Cell`).

Scanning over time (:func:`latchjax.core.scan.masked_scan`), batching over samples and vmapping over models
all happen outside the cell, so every cell is a pure function.

Example::

    cell = RNNCell("lstm", units=1, flavor="torch")
    params = cell.init(jax.random.key(0), n_in=1)     # weight_ih, weight_hh, bias_ih, bias_hh
    carry = cell.initial_carry(batch=16, n_in=1)
    carry, h = cell.step(params, carry, x_t)          # x_t: (16, 1)
"""

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
from latchjax.core.cells.equinox import EquinoxCell
from latchjax.core.cells.flax import FlaxCell
from latchjax.core.cells.kinds import ALL_KINDS, CELL_KINDS, KINDS, ZOO_KINDS
from latchjax.core.cells.protocol import Carry, Cell, Params, Recurrence
from latchjax.core.cells.rnn import GATE_ACTIVATIONS, RNNCell
from latchjax.core.cells.spec import SPEC_OPTIONS, make_cell, parse_cell, uses_forget_bias
from latchjax.core.cells.zoo import ZooCell

__all__ = [
    "FLAVORS", "Flavor", "Kind", "Weights", "glorot_uniform", "hard_sigmoid", "orthogonal", "torch_uniform",
    "FlaxCell", "EquinoxCell", "CELL_KINDS", "KINDS", "Carry", "Cell", "Params", "Recurrence", "GATE_ACTIVATIONS", "RNNCell",
    "SPEC_OPTIONS", "make_cell", "parse_cell", "uses_forget_bias", "ZooCell", "ZOO_KINDS", "ALL_KINDS",
]
