"""expRNN (Lezcano-Casado & Martínez-Rubio 2019): an orthogonal recurrent matrix W = expm(S), S = A - Aᵀ from the
strict upper triangle of a free matrix A, with the modReLU nonlinearity, as the authors' PyTorch code writes it."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.linalg import expm

from latchjax.core.cells.common import Option, ZooKind, dot, zeros_state

INITS = ("henaff", "cayley")


def skew(A: jax.Array) -> jax.Array:
    """S = triu(A, 1) - triu(A, 1)ᵀ: the skew-symmetric matrix the authors' ``Orthogonal.retraction`` makes of A."""
    upper = jnp.triu(A, 1)
    return upper - upper.T


def _exprnn_init(cell, key, n_in):
    """lezcano/expRNN: A block-diagonal with 2x2 blocks [[0, s], [-s, 0]] (``create_diag_``): Henaff s ~ U[-π, π]
    (rotations by s), Cayley s = -sqrt((1 - cos φ)/(1 + cos φ)), φ ~ U[0, π/2]; the input kernel ``nn.Linear``
    without bias, kaiming_normal (relu): N(0, 2 / n_in); modReLU's bias U(-0.01, 0.01)."""
    u = cell.units
    k_s, k_in, k_b = jax.random.split(key, 3)
    if INITS[cell.opt("init")] == "henaff":
        s = jax.random.uniform(k_s, (u // 2,), jnp.float32, -math.pi, math.pi)
    else:
        phi = jax.random.uniform(k_s, (u // 2,), jnp.float32, 0.0, math.pi / 2)
        s = -jnp.sqrt((1.0 - jnp.cos(phi)) / (1.0 + jnp.cos(phi)))
    superdiagonal = jnp.zeros((max(u - 1, 0),), jnp.float32).at[::2].set(s)
    A = jnp.diag(superdiagonal, 1) if u > 1 else jnp.zeros((1, 1), jnp.float32)
    return {"A": A - A.T, "input_kernel": math.sqrt(2.0 / n_in) * jax.random.normal(k_in, (u, n_in), jnp.float32),
            "modrelu_b": jax.random.uniform(k_b, (u,), jnp.float32, -0.01, 0.01)}


def modrelu(z: jax.Array, b: jax.Array, right: bool = False) -> jax.Array:
    """sign(z) relu(|z| + b) (Arjovsky et al. 2016's modReLU for real numbers, as the authors' ``modrelu``).

    Its derivative at z = 0 is 0 as the frameworks compute it (``sign``'s derivative is 0 and sign(0) = 0). With
    ``right`` the same values come from ``where(|z| + b >= 0, z + sign(z) b, 0)``, whose derivative at z = 0 is the
    limit from either side, 1 where b >= 0 and 0 where b < 0 (the dead zone |z| < -b): what explain linearises an
    expRNN resting at h = 0 with, so that its λ0 is the spectral radius of W on the units with b >= 0."""
    if right:
        return jnp.where(jnp.abs(z) + b >= 0, z + jnp.sign(z) * b, 0.0)
    return jnp.sign(z) * jax.nn.relu(jnp.abs(z) + b)


def _exprnn_step(cell, p, h, x):
    W = expm(skew(p["A"]))
    h = modrelu(dot(x, p["input_kernel"].T) + dot(h, W), p["modrelu_b"], right=cell.kink == "right")
    return h, h, {}


EXPRNN = ZooKind(
    "exprnn", "W = expm(A - Aᵀ) (orthogonal, A strictly upper triangular); h' = modReLU(h W + T x), "
    "modReLU(z) = sign(z) relu(|z| + b)",
    "Lezcano-Casado & Martínez-Rubio 2019, 'Cheap orthogonal constraints in neural networks: a simple "
    "parametrization of the orthogonal and unitary group' (ICML 2019), section 4; init=0 Henaff, init=1 Cayley",
    "lezcano/expRNN exprnn.py (ExpRNN, modrelu), orthogonal.py (Orthogonal: retraction, forward "
    "input.matmul(B)), initialization.py (henaff_init_, cayley_init_, create_diag_)",
    _exprnn_init, _exprnn_step, zeros_state, ("torch",),
    (Option("init", 0, "initialisation (0 Henaff, 1 Cayley)", lambda v: v in (0, 1), "0 (henaff) or 1 (cayley)",
            int),
     Option("lr_orth", 0.1, "learning rate of A over the sweep's (the authors: lr_orth = lr / 10)", lambda v: v > 0,
            "> 0")),
    parameterisation="real: the free matrix A (N, N), of which the strict upper triangle makes S = A - Aᵀ and "
    "W = expm(S) (jax.scipy.linalg.expm), as the authors' 'static' mode; A trains at lr_orth times the sweep's "
    "learning rate (default 0.1: the authors' copy-task lr 2e-4 and lr_orth 2e-5, a second optimizer of the same "
    "kind), the other parameters at the sweep's",
    lr_scales=lambda cell: {"A": float(cell.opt("lr_orth"))})
