"""Recurrences linear in their state, h' = a(x) * h + b(x) with a and b from the input alone: the LRU (Orvieto
et al. 2023), minGRU and minLSTM (Feng et al. 2024) and a one-layer selective SSM, Mamba's S6 (Gu & Dao 2023).
Each declares its ``coefficients`` (a, b), which its step applies and the associative scan composes.

The bare recurrences: no layer norm, residual, GLU, convolution or MLP around them (the blocks of memory libraries
have them), so λ0 and the landscapes measure the recurrence itself.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from latchjax.core.cells.common import Option, ZooKind, dot, torch_uniform, zeros_state

KERAS = ("keras3", "keras2")


# --- LRU -------------------------------------------------------------------------------------------------------


def _lru_init(cell, key, n_in):
    """minimal-LRU's ``LRU.setup``: |λ| uniform on the ring [r_min, r_max], phase U[0, max_phase], γ = sqrt(1 - |λ|²),
    B complex N(0, 1/(2 n_in)) per part, C complex N(0, 1/N) per part, D N(0, 1)."""
    n = cell.units
    k_nu, k_theta, k_bre, k_bim, k_cre, k_cim, k_d = jax.random.split(key, 7)
    rmin, rmax = cell.opt("rmin"), cell.opt("rmax")
    u1 = jax.random.uniform(k_nu, (n,), jnp.float32)
    u2 = jax.random.uniform(k_theta, (n,), jnp.float32)
    nu_log = jnp.log(-0.5 * jnp.log(u1 * (rmax**2 - rmin**2) + rmin**2))
    theta_log = jnp.log(cell.opt("phase") * u2)
    gamma_log = jnp.log(jnp.sqrt(1.0 - jnp.exp(-jnp.exp(nu_log)) ** 2))
    normal = lambda k, shape, scale: jax.random.normal(k, shape, jnp.float32) / scale  # noqa: E731
    return {"nu_log": nu_log, "theta_log": theta_log, "gamma_log": gamma_log,
            "B_re": normal(k_bre, (n, n_in), math.sqrt(2 * n_in)), "B_im": normal(k_bim, (n, n_in), math.sqrt(2 * n_in)),
            "C_re": normal(k_cre, (n, n), math.sqrt(n)), "C_im": normal(k_cim, (n, n), math.sqrt(n)),
            "D": normal(k_d, (n_in, n), 1.0)}


def lru_lambda(p) -> tuple[jax.Array, jax.Array]:
    """λ = exp(-exp(ν) + i exp(θ)) as (real, imaginary) parts."""
    modulus, phase = jnp.exp(-jnp.exp(p["nu_log"])), jnp.exp(p["theta_log"])
    return modulus * jnp.cos(phase), modulus * jnp.sin(phase)


def _lru_coefficients(cell, p, x):
    """a = λ, b = γ ⊙ (B x), complex numbers as (real, imaginary) pairs."""
    gamma = jnp.exp(p["gamma_log"])
    return lru_lambda(p), (gamma * dot(x, p["B_re"].T), gamma * dot(x, p["B_im"].T))


def _lru_readout(cell, p, h, x):
    """The carry (y, Re h, Im h), y = Re(C h) + x D."""
    h_re, h_im = h
    y = dot(h_re, p["C_re"].T) - dot(h_im, p["C_im"].T) + dot(x, p["D"])
    return y, h_re, h_im


def _lru_step(cell, p, carry, x):
    _, h_re, h_im = carry
    (l_re, l_im), (b_re, b_im) = _lru_coefficients(cell, p, x)
    carry = _lru_readout(cell, p, (l_re * h_re - l_im * h_im + b_re, l_re * h_im + l_im * h_re + b_im), x)
    return carry, carry[0], {}


def _lru_carry(cell, batch, n_in):
    h = zeros_state(cell, batch, n_in)
    return (h, h, h)


def _ordered(low: str, high: str, said: str):
    """The check that option ``low`` is at most option ``high`` (``said``: how the message writes them)."""
    def check(cell):
        if cell.opt(low) > cell.opt(high):
            raise ValueError(f"{low}: {cell.kind} needs {said}, got {low}={cell.opt(low)!r} > {high}={cell.opt(high)!r}")

    return check


_lru_check = _ordered("rmin", "rmax", "r_min <= r_max")


LRU = ZooKind(
    "lru", "h' = λ⊙h + γ⊙(B x) (complex, diagonal); y = Re(C h) + D x; λ_j = exp(-exp(ν_j) + i exp(θ_j)), "
    "γ_j = exp(γlog_j)",
    "Orvieto et al. 2023, 'Resurrecting recurrent neural networks for long sequences' (ICML 2023), section 3 and "
    "appendix A; the paper's long-range settings rmin=0.9, rmax=0.999",
    "NicolasZucchet/minimal-LRU lru/model.py (LRU, nu_init, theta_init, gamma_log_init, matrix_init)",
    _lru_init, _lru_step, _lru_carry, KERAS,
    (Option("rmin", 0.0, "smallest eigenvalue modulus", lambda v: 0 <= v < 1, "in [0, 1)"),
     Option("rmax", 1.0, "largest eigenvalue modulus", lambda v: 0 < v <= 1, "in (0, 1]"),
     Option("phase", 6.28, "largest eigenvalue phase", lambda v: v > 0, "> 0")),
    _lru_check, _lru_coefficients,
    parameterisation="real: ν, θ, γ as logs (nu_log, theta_log, gamma_log), B and C as real and imaginary parts "
    "(B_re, B_im, C_re, C_im), as minimal-LRU holds them; the state as (real, imaginary). The read-out sees y = Re(C h) + x D, "
    "C (N, N) and D (n_in, N) a matrix (the authors' D is a vector because their input and output widths agree)",
    state=lambda cell, carry: carry[1:], readout=_lru_readout)


# --- minGRU, minLSTM -------------------------------------------------------------------------------------------


def g(x: jax.Array) -> jax.Array:
    """Feng et al.'s positive activation: x + 1/2 for x >= 0, σ(x) below."""
    return jnp.where(x >= 0, x + 0.5, jax.nn.sigmoid(x))


def log_g(x: jax.Array) -> jax.Array:
    """log g(x), computed in log space: log(x + 1/2) for x >= 0, -softplus(-x) below."""
    return jnp.where(x >= 0, jnp.log(jax.nn.relu(x) + 0.5), -jax.nn.softplus(-x))


def _min_init(blocks: int):
    def init(cell, key, n_in):
        """lucidrains/minGRU-pytorch: one bias-free ``nn.Linear(n_in, blocks * H)``, U(-1/sqrt(n_in), 1/sqrt(n_in))."""
        return {"weight": torch_uniform(key, (blocks * cell.units, n_in), n_in)}
    return init


def _mingru_coefficients(cell, p, x):
    """minGRU: a = 1 - z, b = z ⊙ g(h̃), [h̃, z-logits] = x Wᵀ (hidden block first, as the authors chunk it)."""
    hidden, gate = jnp.split(dot(x, p["weight"].T), 2, axis=-1)
    z = jax.nn.sigmoid(gate)
    return 1.0 - z, z * g(hidden)


def _minlstm_coefficients(cell, p, x):
    """minLSTM: a = f / (f + i), b = i / (f + i) ⊙ g(h̃), blocks hidden, f, i."""
    hidden, f, i = jnp.split(dot(x, p["weight"].T), 3, axis=-1)
    f, i = jax.nn.sigmoid(f), jax.nn.sigmoid(i)
    return f / (f + i), i / (f + i) * g(hidden)


def _mingru_log_coefficients(cell, p, x):
    """minGRU's log a = -softplus(k_z), log b = -softplus(-k_z) + log g(h̃) (lucidrains ``minGRU.forward``)."""
    hidden, gate = jnp.split(dot(x, p["weight"].T), 2, axis=-1)
    return -jax.nn.softplus(gate), -jax.nn.softplus(-gate) + log_g(hidden)


def _minlstm_log_coefficients(cell, p, x):
    """minLSTM's log f' = -softplus(d), log i' = -softplus(-d), d = softplus(-k_f) - softplus(-k_i); log b = log i'
    + log g(h̃) (lucidrains ``minLSTM.forward``)."""
    hidden, f, i = jnp.split(dot(x, p["weight"].T), 3, axis=-1)
    diff = jax.nn.softplus(-f) - jax.nn.softplus(-i)
    return -jax.nn.softplus(diff), -jax.nn.softplus(-diff) + log_g(hidden)


def _min_step(gate_name: str):
    def step(cell, p, h, x):
        a, b = cell.spec.coefficients(cell, p, x)
        h = a * h + b
        return h, h, {gate_name: 1.0 - a}
    return step


MIN_SOURCE = "Feng et al. 2024, 'Were RNNs all we needed?' (arXiv:2410.01201), sections 3.1-3.2 and appendix A"
MINGRU = ZooKind(
    "mingru", "z = σ(W_z x); h̃ = W_h x; h' = (1 - z)⊙h + z⊙g(h̃), g(v) = v + 1/2 (v >= 0) else σ(v)",
    MIN_SOURCE, "lucidrains/minGRU-pytorch minGRU_pytorch/minGRU.py (minGRU.forward, g, log_g)",
    _min_init(2), _min_step("update"), zeros_state, ("torch",), coefficients=_mingru_coefficients,
    log_coefficients=_mingru_log_coefficients)
MINLSTM = ZooKind(
    "minlstm", "f, i = σ(W_f x), σ(W_i x); h̃ = W_h x; h' = f/(f+i)⊙h + i/(f+i)⊙g(h̃)",
    MIN_SOURCE, "lucidrains/minGRU-pytorch minGRU_pytorch/minLSTM.py (minLSTM.forward)",
    _min_init(3), _min_step("input"), zeros_state, ("torch",), coefficients=_minlstm_coefficients,
    log_coefficients=_minlstm_log_coefficients)


# --- S6 --------------------------------------------------------------------------------------------------------


def dt_rank(units: int) -> int:
    """Mamba's ``dt_rank="auto"``: ceil(width / 16)."""
    return math.ceil(units / 16)


def _s6_init(cell, key, n_in):
    """state-spaces/mamba ``Mamba.__init__`` for the SSM's own parameters: in_proj and x_proj as ``nn.Linear``
    without bias; dt_proj's weight U(-rank^-1/2, rank^-1/2) and its bias the inverse softplus of
    Δ ~ exp(U[log dtmin, log dtmax]) floored at 1e-4; A_log = log(1..N) per channel (S4D-real); D = 1."""
    h, n, r = cell.units, cell.opt("state"), dt_rank(cell.units)
    k_in, k_x, k_dt, k_bias = jax.random.split(key, 4)
    lo, hi = math.log(cell.opt("dtmin")), math.log(cell.opt("dtmax"))
    dt = jnp.maximum(jnp.exp(jax.random.uniform(k_bias, (h,), jnp.float32) * (hi - lo) + lo), 1e-4)
    return {"in_proj": torch_uniform(k_in, (h, n_in), n_in),
            "x_proj": torch_uniform(k_x, (r + 2 * n, h), h),
            "dt_proj": jax.random.uniform(k_dt, (h, r), jnp.float32, -(r**-0.5), r**-0.5),
            "dt_bias": dt + jnp.log(-jnp.expm1(-dt)),
            "A_log": jnp.log(jnp.tile(jnp.arange(1, n + 1, dtype=jnp.float32), (h, 1))),
            "D": jnp.ones((h,), jnp.float32)}


def _s6_parts(cell, p, x):
    """u = in_proj x; [δ, B, C] = x_proj u; Δ = softplus(dt_proj δ + dt_bias)."""
    n, r = cell.opt("state"), dt_rank(cell.units)
    u = dot(x, p["in_proj"].T)
    low, B, C = jnp.split(dot(u, p["x_proj"].T), [r, r + n], axis=-1)
    delta = jax.nn.softplus(dot(low, p["dt_proj"].T) + p["dt_bias"])
    return u, delta, B, C


def _s6_coefficients(cell, p, x):
    """a = exp(Δ A), b = Δ u B per channel and state: (batch, H, N)."""
    u, delta, B, _ = _s6_parts(cell, p, x)
    A = -jnp.exp(p["A_log"])
    return jnp.exp(delta[..., None] * A), (delta * u)[..., None] * B[..., None, :]


def _s6_step(cell, p, carry, x):
    u, delta, B, C = _s6_parts(cell, p, x)
    A = -jnp.exp(p["A_log"])
    h = jnp.exp(delta[..., None] * A) * carry[1] + (delta * u)[..., None] * B[..., None, :]
    y = _s6_output(p, h, u, C)
    return (y, h), y, {"delta": delta}


def _s6_output(p, h, u, C):
    """y = C h + D ⊙ u."""
    return jnp.einsum("bhn,bn->bh", h, C) + p["D"] * u


def _s6_readout(cell, p, h, x):
    u, _, _, C = _s6_parts(cell, p, x)
    return _s6_output(p, h, u, C), h


def _s6_carry(cell, batch, n_in):
    return (zeros_state(cell, batch, n_in), jnp.zeros((batch, cell.units, cell.opt("state")), jnp.float32))


_s6_check = _ordered("dtmin", "dtmax", "dtmin <= dtmax")


S6 = ZooKind(
    "s6", "u = W_in x; Δ = softplus(W_Δ δ + b_Δ), [δ, B, C] = W_x u; h' = exp(Δ A)⊙h + Δ u B; y = C h + D⊙u "
    "(per channel, state N; A = -exp(A_log))",
    "Gu & Dao 2023, 'Mamba: linear-time sequence modeling with selective state spaces' (arXiv:2312.00752), "
    "algorithm 2 and section 3.6; one layer, no convolution, SiLU, gate or out_proj",
    "state-spaces/mamba mamba_ssm/modules/mamba_simple.py (Mamba.__init__) and "
    "mamba_ssm/ops/selective_scan_interface.py (selective_scan_ref)",
    _s6_init, _s6_step, _s6_carry, ("torch",),
    (Option("state", 16, "state size N", lambda v: 1 <= v <= 1024, "an integer in [1, 1024]", int),
     Option("dtmin", 0.001, "smallest initial step Δ", lambda v: v > 0, "> 0"),
     Option("dtmax", 0.1, "largest initial step Δ", lambda v: v > 0, "> 0")),
    _s6_check, _s6_coefficients, "real diagonal A held as A_log (A = -exp(A_log)), as Mamba holds it",
    state=lambda cell, carry: carry[1], readout=_s6_readout)
