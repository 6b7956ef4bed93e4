"""The simple recurrent cell (Elman 1990): Keras's ``SimpleRNN``, PyTorch's ``nn.RNN(nonlinearity='tanh')``."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from latchjax.core.cells.common import CellOptions, Kind, Weights, preactivation, same_blocks


def _srnn_step(cell: CellOptions, w: Weights, h: jax.Array, x: jax.Array):
    h = jnp.tanh(preactivation(w, x, h))
    return h, h, {}


SRNN = Kind("srnn", same_blocks("h"), "h' = tanh(W x + U h + b)",
            "Elman 1990; keras.layers.SimpleRNN, torch.nn.RNN(nonlinearity='tanh')", _srnn_step)
