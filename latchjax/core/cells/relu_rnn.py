"""ReLU recurrences that hold memory through their recurrent weights' initialisation: the IRNN (Le, Jaitly &
Hinton 2015; identity recurrent matrix) and the IndRNN (Li et al. 2018; one recurrent weight per unit).

Both use the frameworks' ReLU (derivative 0 at 0); explain linearises them at rest with the derivative 1 there
(:meth:`latchjax.core.cells.zoo.ZooCell.for_jacobian`), so λ0 is the slope of the active branch.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from latchjax.core.cells.common import Option, ZooKind, dot, glorot_uniform, zeros_state

KERAS = ("keras2", "keras3")


def _irnn_init(cell, key, n_in):
    """Keras ``SimpleRNN(activation='relu', kernel_initializer=RandomNormal(stddev=0.001),
    recurrent_initializer=Identity(gain))`` as Keras's IRNN example builds it; zero bias."""
    u = cell.units
    return {"kernel": cell.opt("std") * jax.random.normal(key, (n_in, u), jnp.float32),
            "recurrent_kernel": cell.opt("scale") * jnp.eye(u, dtype=jnp.float32),
            "bias": jnp.zeros((u,), jnp.float32)}


def _irnn_step(cell, p, h, x):
    h = cell.relu(dot(x, p["kernel"]) + dot(h, p["recurrent_kernel"]) + p["bias"])
    return h, h, {}


IRNN = ZooKind(
    "irnn", "h' = relu(W_x x + W_h h + b); W_h = scale*I, b = 0, W_x ~ N(0, std^2)",
    "Le, Jaitly & Hinton 2015, 'A simple way to initialize recurrent networks of rectified linear units' "
    "(arXiv:1511.00941), section 3",
    "keras-team/keras examples/mnist_irnn.py (SimpleRNN relu, RandomNormal(stddev=0.001), Identity(gain=1.0))",
    _irnn_init, _irnn_step, zeros_state, KERAS,
    (Option("scale", 1.0, "identity gain of the recurrent matrix"),
     Option("std", 0.001, "input weights' standard deviation", lambda v: v >= 0, ">= 0")))


def _indrnn_init(cell, key, n_in):
    """batzner/indrnn ``IndRNNCell.build``: the input kernel as TensorFlow's default (glorot_uniform), recurrent
    weights U(0, r_max) (U(0, 1) without r_max), zero bias."""
    k_in, k_rec = jax.random.split(key)
    rmax = cell.opt("rmax")
    return {"kernel": glorot_uniform(k_in, (n_in, cell.units)),
            "recurrent_kernel": jax.random.uniform(k_rec, (cell.units,), jnp.float32, 0.0,
                                                   1.0 if rmax is None else rmax),
            "bias": jnp.zeros((cell.units,), jnp.float32)}


def _indrnn_step(cell, p, h, x):
    u = p["recurrent_kernel"]
    if cell.opt("rmax") is not None:  # the authors clip the weights into [0, r_max] at every use
        u = jnp.clip(u, 0.0, cell.opt("rmax"))
    h = cell.relu(dot(x, p["kernel"]) + h * u + p["bias"])
    return h, h, {}


INDRNN = ZooKind(
    "indrnn", "h' = relu(W x + u*h + b), u a vector clipped into [0, rmax] where rmax is given",
    "Li et al. 2018, 'Independently recurrent neural network (IndRNN): building a longer and deeper RNN' "
    "(CVPR 2018); the authors recommend rmax = 2^(1/T) for ReLU and sequences of length T",
    "batzner/indrnn ind_rnn_cell.py (IndRNNCell.build and call)",
    _indrnn_init, _indrnn_step, zeros_state, KERAS,
    (Option("rmax", None, "largest recurrent weight", lambda v: v > 0, "> 0"),))
