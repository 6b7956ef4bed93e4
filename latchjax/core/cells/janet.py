"""JANET, the forget-gate-only LSTM of van der Westhuizen & Lasenby 2018, "The unreasonable effectiveness of
the forget gate": the input gate is 1 - gate(s - beta) of the forget gate's preactivation s."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from latchjax.core.cells.common import CellOptions, Kind, Weights, named_blocks, preactivation, same_blocks


def _janet_step(cell: CellOptions, w: Weights, c: jax.Array, x: jax.Array):
    z = named_blocks(cell, preactivation(w, x, c))
    beta = 1.0 if cell.beta is None else cell.beta
    f = cell.gate(z["f"])
    i = 1.0 - cell.gate(z["f"] - beta)
    c = f * c + i * jnp.tanh(z["c"])
    return c, c, {"input": i, "forget": f, "cell": c}


JANET = Kind("janet", same_blocks("f", "c"),
             "s = W_f x + U_f h + b_f; c' = gate(s)*c + (1 - gate(s - beta))*tanh(W_c x + U_c h + b_c); h' = c'",
             "van der Westhuizen & Lasenby 2018, 'The unreasonable effectiveness of the forget gate' (beta = 1)",
             _janet_step, forget="f", candidate="c")
