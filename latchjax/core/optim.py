"""Keras's Adam as an optax ``GradientTransformation``.

Keras (2.1.x and 3) folds the bias corrections into the step size and adds epsilon
to the *uncorrected* second moment::

    alpha_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
    theta  -= alpha_t * m_t / (sqrt(v_t) + epsilon)

``optax.adam`` adds epsilon to the corrected moment instead; the two differ only
when sqrt(v_t) is comparable to epsilon, but latchjax reproduces Keras exactly.
PyTorch's Adam (:func:`torch_adam`) and SGD are here too. Any optax optimizer can be used instead:
the trainer takes a factory ``lr -> tx``.
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
    r"""Adam with Keras's defaults and update rule (Keras 2.1.x ``keras.optimizers.Adam``, Keras 3 ``Adam``).

    With gradient :math:`g_t` at step :math:`t = 1, 2, \dots`::

        m_t     = beta_1 m_{t-1} + (1 - beta_1) g_t
        v_t     = beta_2 v_{t-1} + (1 - beta_2) g_t^2
        alpha_t = learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        update  = -alpha_t * m_t / (sqrt(v_t) + epsilon)

    Keras adds ``epsilon`` to the *uncorrected* root second moment; ``optax.adam`` (and PyTorch,
    :func:`torch_adam`) add it to the corrected one. The two agree unless ``sqrt(v_t)`` is comparable to
    ``epsilon``; latchjax reproduces Keras to float precision (tests/test_real_keras.py).

    Args:
      learning_rate: the step size; may be a traced value, so a grid of learning rates can be vmapped.
      beta_1: decay rate of the first-moment estimate.
      beta_2: decay rate of the second-moment estimate.
      epsilon: added to ``sqrt(v_t)``; Keras's default 1e-7.

    Returns:
      An ``optax.GradientTransformation``.

    References:
      Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1 with the
      "more efficient" ordering of its Section 2; Keras ``keras/src/optimizers/adam.py``.

    Example::

        tx = keras_adam(1e-3)
        state = tx.init(params)
        updates, state = tx.update(grads, state)
        params = optax.apply_updates(params, updates)
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


def torch_adam(learning_rate: float | jax.Array = 1e-3, beta_1: float = 0.9, beta_2: float = 0.999,
               epsilon: float = 1e-8) -> optax.GradientTransformation:
    """Adam with PyTorch's defaults and update rule (``torch.optim.Adam``, no weight decay, no amsgrad).

    PyTorch adds epsilon to the *corrected* second moment, which is ``optax.adam``'s rule::

        theta -= lr / (1 - beta_1^t) * m_t / (sqrt(v_t) / sqrt(1 - beta_2^t) + epsilon)

    ``learning_rate`` may be a traced value, so a grid of learning rates can be vmapped.
    Reference: Kingma & Ba 2015, Algorithm 1; PyTorch ``torch/optim/adam.py``.

    Example::

        tx = torch_adam(1e-3)
        state = tx.init(params)
        updates, state = tx.update(grads, state)
    """
    return optax.adam(learning_rate, b1=beta_1, b2=beta_2, eps=epsilon)


def sgd(learning_rate: float | jax.Array = 1e-2) -> optax.GradientTransformation:
    """Plain stochastic gradient descent, ``theta -= lr * g`` (Keras's and PyTorch's SGD without momentum)."""
    return optax.sgd(learning_rate)


OPTIMIZERS = {"keras_adam": keras_adam, "torch_adam": torch_adam, "sgd": sgd}


def default_optimizer(flavor: str):
    """The optimizer a framework's users get by default: Keras's Adam, or PyTorch's for ``torch``."""
    return torch_adam if flavor == "torch" else keras_adam


def resolve_optimizer(optimizer: Any, flavor: str):
    """The factory ``lr -> tx`` a setting names: ``None`` or ``"flavor"`` (the flavour's default), a name
    in :data:`OPTIMIZERS`, or a factory passed through."""
    if optimizer is None or optimizer == "flavor":
        return default_optimizer(flavor)
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: unknown optimizer {optimizer!r}; allowed: flavor, {', '.join(OPTIMIZERS)}")
        return OPTIMIZERS[optimizer]
    return optimizer
