"""Keras's Adam as an optax ``GradientTransformation``.

Keras (2.1.x and 3) folds the bias corrections into the step size and adds epsilon
to the *uncorrected* second moment::

    alpha_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
    theta  -= alpha_t * m_t / (sqrt(v_t) + epsilon)

``optax.adam`` adds epsilon to the corrected moment instead; the two differ only
when sqrt(v_t) is comparable to epsilon, but latchjax reproduces Keras exactly.
Any optax optimizer can be used instead: the trainer takes a factory ``lr -> tx``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax


class KerasAdamState(NamedTuple):
    count: jax.Array
    mu: Any
    nu: Any


def keras_adam(
    learning_rate: float | jax.Array = 1e-3, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7
) -> optax.GradientTransformation:
    """Adam with Keras's defaults and update rule (see module docstring).

    ``learning_rate`` may be a traced value, so a grid of learning rates can be vmapped.
    """

    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return KerasAdamState(jnp.zeros((), jnp.int32), zeros, zeros)

    def update(grads, state, params=None):
        del params
        count = state.count + 1
        t = count.astype(jnp.float32)
        mu = jax.tree.map(lambda m, g: m + (g - m) * (1 - beta_1), state.mu, grads)
        nu = jax.tree.map(lambda v, g: v + (g * g - v) * (1 - beta_2), state.nu, grads)
        alpha = learning_rate * jnp.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        updates = jax.tree.map(lambda m, v: -alpha * m / (jnp.sqrt(v) + epsilon), mu, nu)
        return updates, KerasAdamState(count, mu, nu)

    return optax.GradientTransformation(init, update)
