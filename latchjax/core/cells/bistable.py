"""The bistable recurrent cells of Vecoven, Ernst & Drion 2021, "A bio-inspired bistable recurrent cell allows
for long-lasting memory" (PLOS ONE 16(6): e0252676): the BRC (elementwise feedback) and the neuromodulated
nBRC (full feedback matrices), as their authors' Keras code defines them (Keras flavours only)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from latchjax.core.cells.common import CellOptions, Kind, Weights, dot, same_blocks


def _brc_step(cell: CellOptions, w: Weights, h: jax.Array, x: jax.Array):
    """BRC (elementwise feedback w_c, w_a) and nBRC (full matrices U_c, U_a)."""
    xc, xa, xh = jnp.split(dot(x, w.W), 3, axis=-1)
    if w.U.ndim == 1:  # brc: h * [w_c, w_a]
        hu = jnp.concatenate([h, h], axis=-1) * w.U
    else:
        hu = dot(h, w.U)
    hc, ha = jnp.split(hu + w.b, 2, axis=-1)
    c = cell.gate(xc + hc)
    a = 1.0 + jnp.tanh(xa + ha)
    candidate = jnp.tanh(xh + a * h)
    h = c * h + (1.0 - c) * candidate
    return h, h, {"update": c, "bistability": a, "candidate": candidate}


BRC = Kind("brc", same_blocks("c", "a", "h"),
           "c = gate(W_c x + w_c*h + b_c); a = 1 + tanh(W_a x + w_a*h + b_a); h' = c*h + (1 - c)*tanh(W_h x + a*h)",
           "Vecoven, Ernst & Drion 2021, 'A bio-inspired bistable recurrent cell allows for long-lasting memory' "
           "(PLOS ONE 16(6): e0252676)", _brc_step, update="c", flavors=("keras2", "keras3"), bistable=True)
NBRC = Kind("nbrc", same_blocks("c", "a", "h"),
            "c = gate(W_c x + U_c h + b_c); a = 1 + tanh(W_a x + U_a h + b_a); h' = c*h + (1 - c)*tanh(W_h x + a*h)",
            "Vecoven, Ernst & Drion 2021 (neuromodulated BRC)", _brc_step, update="c", flavors=("keras2", "keras3"),
            bistable=True)
