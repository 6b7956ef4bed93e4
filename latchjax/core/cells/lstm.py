"""The LSTM family: the frameworks' LSTM (with Gers et al. 2000's forget gate), the coupled-gate CIFG of
Greff et al. 2017 and the 1997 LSTM without a forget gate; one step equation, c' = f*c + i*g."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from latchjax.core.cells.common import CellOptions, Kind, Weights, named_blocks, preactivation, same_blocks


def _lstm_family_step(cell: CellOptions, w: Weights, carry, x: jax.Array):
    """LSTM, CIFG (i = 1 - f) and the 1997 LSTM (f = 1): c' = f*c + i*g, h' = o*tanh(c')."""
    h, c = carry
    z = named_blocks(cell, preactivation(w, x, h))
    g = jnp.tanh(z.get("c", z.get("g")))
    o = cell.gate(z["o"])
    if cell.kind == "lstm":
        i, f = cell.gate(z["i"]), cell.gate(z["f"])
        c = f * c + i * g
    elif cell.kind == "cifg":
        f = cell.gate(z["f"])
        i = 1.0 - f
        c = f * c + i * g
    else:  # lstm97: the constant error carousel
        i, f = cell.gate(z["i"]), jnp.ones_like(g)
        c = c + i * g
    h = o * jnp.tanh(c)
    return (h, c), h, {"input": i, "forget": f, "output": o, "cell": c}


LSTM = Kind("lstm", {"keras": ("i", "f", "c", "o"), "torch": ("i", "f", "g", "o")},
            "i, f, o = gate(W x + U h + b); g = tanh(W_c x + U_c h + b_c); c' = f*c + i*g; h' = o*tanh(c')",
            "Hochreiter & Schmidhuber 1997 with Gers et al. 2000's forget gate; keras.layers.LSTM, torch.nn.LSTM",
            _lstm_family_step, pair_state=True, forget="f", candidate="c")
CIFG = Kind("cifg", same_blocks("f", "c", "o"),
            "f, o = gate(W x + U h + b); g = tanh(W_c x + U_c h + b_c); c' = f*c + (1 - f)*g; h' = o*tanh(c')",
            "Greff et al. 2017, 'LSTM: A Search Space Odyssey' (coupled input and forget gate, i = 1 - f)",
            _lstm_family_step, pair_state=True, forget="f", candidate="c")
LSTM97 = Kind("lstm97", same_blocks("i", "c", "o"),
              "i, o = gate(W x + U h + b); g = tanh(W_c x + U_c h + b_c); c' = c + i*g; h' = o*tanh(c')",
              "Hochreiter & Schmidhuber 1997, 'Long short-term memory' (no forget gate: the constant error carousel)",
              _lstm_family_step, pair_state=True, candidate="c")
