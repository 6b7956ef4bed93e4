"""Recurrences discretised from ordinary differential equations: the AntisymmetricRNN and its gated form (Chang et
al. 2019), the Lipschitz RNN (Erichson et al. 2021), the coupled oscillators coRNN (Rusch & Mishra 2021) and the
multiscale LEM (Rusch et al. 2022), as their authors' PyTorch code writes them (the row-vector products ``h @ W`` of
that code, which transpose the papers' ``W h``)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from latchjax.core.cells.common import Option, ZooKind, dot, torch_uniform, zeros_state

TORCH = ("torch",)


def _gaussian(key, n, std):
    """erichson/LipschitzRNN tools.py ``gaussian_init_``: an (n, n) matrix N(0, (std / n)^2)."""
    return std / n * jax.random.normal(key, (n, n), jnp.float32)


def _xavier_normal(key, rows, cols):
    """``nn.init.xavier_normal_`` of an (rows, cols) PyTorch weight: N(0, 2 / (rows + cols))."""
    return math.sqrt(2.0 / (rows + cols)) * jax.random.normal(key, (rows, cols), jnp.float32)


def _mix(M, beta, gamma):
    """β (M - Mᵀ) + (1 - β)(M + Mᵀ) - γ I (β = 1: the antisymmetric matrix of the AntisymmetricRNN)."""
    return beta * (M - M.T) + (1.0 - beta) * (M + M.T) - gamma * jnp.eye(M.shape[0], dtype=M.dtype)


# --- AntisymmetricRNN ------------------------------------------------------------------------------------------


def _asrnn_init(cell, key, n_in):
    """LipschitzRNN's ``rnn_models(model='asymRNN')``: C ~ gaussian_init_(N, init_std); the input map E an
    ``nn.Linear`` with xavier_normal weight and zero bias; the gate's E_gate alike (gated form)."""
    k_c, k_e, k_g = jax.random.split(key, 3)
    u = cell.units
    p = {"C": _gaussian(k_c, u, cell.opt("std")), "E_weight": _xavier_normal(k_e, u, n_in),
         "E_bias": jnp.zeros((u,), jnp.float32)}
    if cell.opt("gated"):
        p |= {"E_gate_weight": _xavier_normal(k_g, u, n_in), "E_gate_bias": jnp.zeros((u,), jnp.float32)}
    return p


def _asrnn_step(cell, p, h, x):
    W = _mix(p["C"], 1.0, cell.opt("gamma"))
    hw = dot(h, W)
    candidate = jnp.tanh(hw + dot(x, p["E_weight"].T) + p["E_bias"])
    if not cell.opt("gated"):
        h = h + cell.opt("eps") * candidate
        return h, h, {}
    z = jax.nn.sigmoid(hw + dot(x, p["E_gate_weight"].T) + p["E_gate_bias"])
    h = h + cell.opt("eps") * z * candidate
    return h, h, {"update": z}


ASRNN = ZooKind(
    "asrnn", "W = C - Cᵀ - γI; h' = h + ε tanh(h W + E x + b); gated=1: z = σ(h W + E_z x + b_z), "
    "h' = h + ε z⊙tanh(h W + E x + b)",
    "Chang, Chen, Haber & Chi 2019, 'AntisymmetricRNN: a dynamical system view on recurrent neural networks' "
    "(ICLR 2019), equations 12 and 13",
    "erichson/LipschitzRNN models.py (rnn_models, model='asymRNN'; the gated form from the paper's eq. 13, "
    "E_gate initialised as E)",
    _asrnn_init, _asrnn_step, zeros_state, TORCH,
    (Option("eps", 0.01, "step size ε", lambda v: v > 0, "> 0"),
     Option("gamma", 0.01, "diffusion γ", lambda v: v >= 0, ">= 0"),
     Option("std", 1.0, "init_std (C ~ N(0, (init_std/N)^2))", lambda v: v >= 0, ">= 0"),
     Option("gated", 0, "gated form", lambda v: v in (0, 1), "0 or 1", int)))


# --- Lipschitz RNN ---------------------------------------------------------------------------------------------


def _lipschitz_init(cell, key, n_in):
    """LipschitzRNN's ``rnn_models(model='LipschitzRNN')``: B, C ~ gaussian_init_(N, init_std); E xavier_normal,
    zero bias."""
    k_b, k_c, k_e = jax.random.split(key, 3)
    u = cell.units
    return {"B": _gaussian(k_b, u, cell.opt("std")), "C": _gaussian(k_c, u, cell.opt("std")),
            "E_weight": _xavier_normal(k_e, u, n_in), "E_bias": jnp.zeros((u,), jnp.float32)}


def _lipschitz_step(cell, p, h, x):
    beta, gamma, eps = cell.opt("beta"), cell.opt("gamma"), cell.opt("eps")
    A, W = _mix(p["B"], beta, gamma), _mix(p["C"], beta, gamma)
    h = h + eps * dot(h, A) + eps * jnp.tanh(dot(h, W) + dot(x, p["E_weight"].T) + p["E_bias"])
    return h, h, {}


LIPSCHITZ = ZooKind(
    "lipschitz", "A = β(B - Bᵀ) + (1 - β)(B + Bᵀ) - γI, W likewise from C; h' = h + ε h A + ε tanh(h W + E x + b)",
    "Erichson, Azencot, Queiruga, Hodgkinson & Mahoney 2021, 'Lipschitz recurrent neural networks' (ICLR 2021), "
    "equations 2 and 3 (forward Euler)",
    "erichson/LipschitzRNN models.py (rnn_models, model='LipschitzRNN', solver='euler', alpha=1) and tools.py "
    "(gaussian_init_)",
    _lipschitz_init, _lipschitz_step, zeros_state, TORCH,
    (Option("eps", 0.01, "step size ε", lambda v: v > 0, "> 0"),
     Option("beta", 0.8, "symmetric/antisymmetric mix β", lambda v: 0 <= v <= 1, "in [0, 1]"),
     Option("gamma", 0.01, "diffusion γ", lambda v: v >= 0, ">= 0"),
     Option("std", 1.0, "init_std (B, C ~ N(0, (init_std/N)^2))", lambda v: v >= 0, ">= 0")))


# --- coRNN -----------------------------------------------------------------------------------------------------


def _cornn_init(cell, key, n_in):
    """coRNN's ``i2h = nn.Linear(n_inp + 2 n_hid, n_hid)``: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    the weight's columns ordered (x, z, y) as the authors concatenate them."""
    u, fan_in = cell.units, n_in + 2 * cell.units
    k_w, k_b = jax.random.split(key)
    return {"i2h_weight": torch_uniform(k_w, (u, fan_in), fan_in), "i2h_bias": torch_uniform(k_b, (u,), fan_in)}


def _cornn_step(cell, p, carry, x):
    y, z = carry
    dt, gamma, eps = cell.opt("dt"), cell.opt("gamma"), cell.opt("eps")
    n_in = x.shape[-1]
    W = p["i2h_weight"]
    drive = dot(x, W[:, :n_in].T) + dot(z, W[:, n_in : n_in + cell.units].T) + dot(y, W[:, n_in + cell.units :].T)
    z = z + dt * (jnp.tanh(drive + p["i2h_bias"]) - gamma * y - eps * z)
    y = y + dt * z
    return (y, z), y, {}


def _pair_state(cell, batch, n_in):
    h = zeros_state(cell, batch, n_in)
    return (h, h)


CORNN = ZooKind(
    "cornn", "z' = z + Δt[tanh(W y + 𝒲 z + V x + b) - γ y - ε z]; y' = y + Δt z'; read-out on y",
    "Rusch & Mishra 2021, 'Coupled oscillatory recurrent neural network (coRNN)' (ICLR 2021), equation 3; defaults "
    "of the adding problem (psMNIST: dt=0.076, gamma=0.4, eps=8)",
    "tk-rusch/coRNN adding/model.py (coRNNCell)",
    _cornn_init, _cornn_step, _pair_state, TORCH,
    (Option("dt", 0.06, "time step Δt", lambda v: v > 0, "> 0"),
     Option("gamma", 66.0, "restoring force γ", lambda v: v >= 0, ">= 0"),
     Option("eps", 15.0, "damping ε", lambda v: v >= 0, ">= 0")))


# --- LEM -------------------------------------------------------------------------------------------------------


def _lem_init(cell, key, n_in):
    """LEM's ``LEMCell.reset_parameters``: every weight and bias U(-1/sqrt(N), 1/sqrt(N)); inp2hid (4N, n_in),
    hid2hid (3N, N), transform_z (N, N), each with a bias."""
    u = cell.units
    shapes = {"inp2hid_weight": (4 * u, n_in), "inp2hid_bias": (4 * u,), "hid2hid_weight": (3 * u, u),
              "hid2hid_bias": (3 * u,), "transform_z_weight": (u, u), "transform_z_bias": (u,)}
    keys = jax.random.split(key, len(shapes))
    return {name: torch_uniform(k, shape, u) for k, (name, shape) in zip(keys, shapes.items())}


def _lem_step(cell, p, carry, x):
    y, z = carry
    dt = cell.opt("dt")
    i_dt1, i_dt2, i_z, i_y = jnp.split(dot(x, p["inp2hid_weight"].T) + p["inp2hid_bias"], 4, axis=-1)
    h_dt1, h_dt2, h_y = jnp.split(dot(y, p["hid2hid_weight"].T) + p["hid2hid_bias"], 3, axis=-1)
    dt_bar = dt * jax.nn.sigmoid(i_dt1 + h_dt1)
    dt_n = dt * jax.nn.sigmoid(i_dt2 + h_dt2)
    z = (1.0 - dt_n) * z + dt_n * jnp.tanh(i_y + h_y)
    y = (1.0 - dt_bar) * y + dt_bar * jnp.tanh(dot(z, p["transform_z_weight"].T) + p["transform_z_bias"] + i_z)
    return (y, z), y, {"dt_bar": dt_bar, "dt": dt_n}


LEM = ZooKind(
    "lem", "Δ̄t = Δt σ(W₁ y + V₁ x + b₁); Δt_n = Δt σ(W₂ y + V₂ x + b₂); z' = (1 - Δt_n)⊙z + Δt_n⊙tanh(W_y y + "
    "V_y x + b_y); y' = (1 - Δ̄t)⊙y + Δ̄t⊙tanh(W_z z' + V_z x + b_z); read-out on y",
    "Rusch, Mishra, Erichson & Mahoney 2022, 'Long expressive memory for sequence modeling' (ICLR 2022), "
    "equation 3",
    "tk-rusch/LEM psMNIST/network.py (LEMCell)",
    _lem_init, _lem_step, _pair_state, TORCH,
    (Option("dt", 1.0, "largest time step Δt", lambda v: 0 < v <= 1, "in (0, 1]"),))
