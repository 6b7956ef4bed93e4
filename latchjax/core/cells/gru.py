"""The gated recurrent unit (Cho et al. 2014) in both of its variants: the reset gate before the recurrent
product (Keras 2's ``reset_after=False``) or after it (Keras 3's default, PyTorch's ``nn.GRU``)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from latchjax.core.cells.common import CellOptions, Kind, Weights, dot


def _gru_step(cell: CellOptions, w: Weights, h: jax.Array, x: jax.Array):
    u = cell.units
    names = cell.blocks[:2]  # the two gates come first in every layout (Keras z, r; PyTorch r, z)
    if cell.gru_reset_after:  # reset gate applied after the recurrent matmul
        b2 = 0.0 if w.b2 is None else w.b2
        xw = dot(x, w.W) + w.b
        hu = dot(h, w.U) + b2
        xa, xb, xh = jnp.split(xw, 3, axis=-1)
        ha, hb, hh = jnp.split(hu, 3, axis=-1)
        gates = dict(zip(names, (cell.gate(xa + ha), cell.gate(xb + hb))))
        candidate = jnp.tanh(xh + gates["r"] * hh)
    else:  # reset gate applied to h before the recurrent matmul
        xw = dot(x, w.W) + w.b
        xa, xb, xh = jnp.split(xw, 3, axis=-1)
        hab = dot(h, w.U[:, : 2 * u])
        if w.b2 is not None:
            xh = xh + w.b2[2 * u :]
            hab = hab + w.b2[: 2 * u]
        gates = dict(zip(names, (cell.gate(xa + hab[:, :u]), cell.gate(xb + hab[:, u:]))))
        candidate = jnp.tanh(xh + dot(gates["r"] * h, w.U[:, 2 * u :]))
    z = gates["z"]
    h = z * h + (1.0 - z) * candidate
    return h, h, {"update": z, "reset": gates["r"], "candidate": candidate}


GRU = Kind("gru", {"keras": ("z", "r", "h"), "torch": ("r", "z", "n")},
           "z, r = gate(W x + U h + b); reset_after: n = tanh(W_n x + b_n + r*(U_n h + b'_n)), else "
           "n = tanh(W_n x + b_n + U_n (r*h)); h' = z*h + (1 - z)*n",
           "Cho et al. 2014; keras.layers.GRU, torch.nn.GRU", _gru_step, candidate="h", update="z")
