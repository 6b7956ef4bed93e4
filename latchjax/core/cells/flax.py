"""Any Flax ``linen`` RNN cell as a latchjax :class:`~latchjax.core.cells.protocol.Cell`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

from latchjax.core.cells.common import one_at_a_time_on_cpu
from latchjax.core.cells.protocol import Carry, Params


@dataclass(frozen=True)
class FlaxCell:
    """Any Flax ``linen`` RNN cell (``nn.LSTMCell``, ``nn.GRUCell``, ``nn.SimpleCell``, ...).

    The cell's own initialisers are used; ``forget_bias`` is ignored.

    Example::

        cell = FlaxCell(nn.GRUCell(features=8))
    """

    module: Any

    @property
    def name(self) -> str:
        return f"flax.{type(self.module).__name__}"

    has_forget_bias = False  # Flax cells use their own initialisers
    flavor = "keras3"  # head and optimizer defaults of a Flax cell

    @property
    def units(self) -> int:
        return int(self.module.features)

    def init(self, key: jax.Array, n_in: int, forget_bias: float | jax.Array | None = None) -> Params:
        """The module's own initialisers; one model at a time under ``vmap`` on CPU (Flax's orthogonal initialiser
        factors a QR: :func:`~latchjax.core.cells.common.one_at_a_time_on_cpu`)."""
        carry = self.initial_carry(1, n_in)
        return one_at_a_time_on_cpu(lambda k: self.module.init(k, carry, jnp.zeros((1, n_in), jnp.float32)))(key)

    def initial_carry(self, batch: int, n_in: int) -> Carry:
        return self.module.initialize_carry(jax.random.key(0), (batch, n_in))

    def output(self, carry: Carry) -> jax.Array:
        """The carry's last leaf: h of an LSTM's (c, h), the carry itself of a GRU or SimpleCell."""
        return jax.tree.leaves(carry)[-1]

    def with_output(self, carry: Carry, h: jax.Array) -> Carry:
        leaves, treedef = jax.tree.flatten(carry)
        return treedef.unflatten([*leaves[:-1], h])

    def step(self, params: Params, carry: Carry, x: jax.Array) -> tuple[Carry, jax.Array]:
        return self.module.apply(params, carry, x)
