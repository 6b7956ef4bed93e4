"""The literature's cells (ZooCell) whose authors wrote PyTorch, against ``torch.nn`` modules written in this file the
way that code writes them (the `torch` extra; skipped where torch is not installed).

Each module below follows one repository and file, named in its docstring, in the authors' own terms: ``nn.Linear``
layers with their ``(out, in)`` weights, the authors' parameter names and ``reset_parameters``, their explicit
updates. latchjax's parameters (its init moved by N(0, 0.3²), so every term counts) are copied into the module under an
explicit map (latchjax name -> torch parameter), both run a random sequence, and the per-step outputs, the final state
and the gradient of one scalar loss with respect to every parameter (torch autograd against ``jax.grad``) must agree.
Moving one mapped parameter of the torch module must break the agreement (so the comparison can fail). Where the
authors' module draws its own initialisation with torch, 10³ torch draws and 10³ latchjax draws must have the same
distribution (two-sample Kolmogorov-Smirnov, fixed seeds).

Compared: ``cornn``, ``lem``, ``asrnn`` (also the gated form), ``lipschitz``, ``exprnn`` (Henaff and Cayley),
``mingru`` and ``minlstm`` (the authors' sequential path against latchjax's step, and their log-space parallel path
against latchjax's parallel scan) and ``s6`` (Mamba's parameters and ``selective_scan_ref``).

Not compared, because their authors' code is not PyTorch (``tests/test_zoo_cells.py`` checks them against NumPy
transcriptions of that code): ``irnn`` follows Keras's ``examples/mnist_irnn.py``; ``indrnn`` follows batzner/indrnn's
TensorFlow ``ind_rnn_cell.py`` (glorot-uniform input kernel; Sunnydreamrain/IndRNN_pytorch is a different code base
with its own initialisation, not the one latchjax follows); ``lru`` follows NicolasZucchet/minimal-LRU (JAX/Flax).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

torch = pytest.importorskip("torch")
stats = pytest.importorskip("scipy.stats")

from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from latchjax.core.cells import parse_cell  # noqa: E402
from latchjax.core.cells.linear_rnn import dt_rank  # noqa: E402
from latchjax.core.model import run_cell  # noqa: E402

pytestmark = pytest.mark.fidelity  # against PyTorch itself

T, BATCH, N_IN = 12, 4, 2


# --- tk-rusch/coRNN, tk-rusch/LEM ----------------------------------------------------------------------------------


class CoRNNCell(nn.Module):
    """tk-rusch/coRNN adding/model.py ``coRNNCell``: one ``nn.Linear`` i2h over the concatenation (x, hz, hy), and the
    explicit update hz += dt (tanh(i2h(.)) - gamma hy - epsilon hz), hy += dt hz. PyTorch's default init."""

    def __init__(self, n_inp, n_hid, dt, gamma, epsilon):
        super().__init__()
        self.dt, self.gamma, self.epsilon = dt, gamma, epsilon
        self.i2h = nn.Linear(n_inp + 2 * n_hid, n_hid)

    def forward(self, x, hy, hz):
        drive = torch.tanh(self.i2h(torch.cat((x, hz, hy), 1)))
        hz = hz + self.dt * (drive - self.gamma * hy - self.epsilon * hz)
        hy = hy + self.dt * hz
        return hy, hz


class LEMCell(nn.Module):
    """tk-rusch/LEM psMNIST/network.py ``LEMCell``: inp2hid (4N), hid2hid (3N) and transform_z (N), each an
    ``nn.Linear`` with bias, all re-drawn U(-1/sqrt(N), 1/sqrt(N)) by ``reset_parameters``; the multiscale steps
    dt·σ(.) gate z first, then y from the new z."""

    def __init__(self, ninp, nhid, dt):
        super().__init__()
        self.nhid, self.dt = nhid, dt
        self.inp2hid = nn.Linear(ninp, 4 * nhid)
        self.hid2hid = nn.Linear(nhid, 3 * nhid)
        self.transform_z = nn.Linear(nhid, nhid)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.nhid)
        for w in self.parameters():
            nn.init.uniform_(w, -bound, bound)

    def forward(self, x, y, z):
        i_dt1, i_dt2, i_z, i_y = self.inp2hid(x).chunk(4, 1)
        h_dt1, h_dt2, h_y = self.hid2hid(y).chunk(3, 1)
        dt_bar = self.dt * torch.sigmoid(i_dt1 + h_dt1)
        dt_z = self.dt * torch.sigmoid(i_dt2 + h_dt2)
        z = (1.0 - dt_z) * z + dt_z * torch.tanh(i_y + h_y)
        y = (1.0 - dt_bar) * y + dt_bar * torch.tanh(self.transform_z(z) + i_z)
        return y, z


# --- erichson/LipschitzRNN -----------------------------------------------------------------------------------------


def gaussian_init_(n_units, std=1.0):
    """erichson/LipschitzRNN tools.py ``gaussian_init_``: an (n, n) sample of torch's Normal(0, std / n)."""
    sampler = torch.distributions.Normal(torch.tensor([0.0]), torch.tensor([std / n_units]))
    return sampler.sample((n_units, n_units))[..., 0]


class LipschitzRNNs(nn.Module):
    """erichson/LipschitzRNN models.py ``rnn_models`` for ``model='asymRNN'`` and ``model='LipschitzRNN'`` (forward
    Euler, alpha 1), without the decoder D: the encoder E an ``nn.Linear`` re-drawn xavier_normal with zero bias, C
    (and B) from ``gaussian_init_``, the matrices mixed inside ``forward`` at every step, ``h @ W`` row-vector products.
    ``gated`` adds Chang et al. 2019's gate (eq. 13, not in this code for asymRNN) the way the code's
    ``LipschitzRNN_gated`` adds one: an E_gate ``nn.Linear`` read with the same ``h @ W``; it is drawn as E (latchjax's
    choice). ``forward`` returns the state after every step (batch, T, N)."""

    def __init__(self, input_dim, n_units, eps=0.01, beta=0.8, gamma=0.01, gated=False, init_std=1.0, alpha=1.0,
                 model="LipschitzRNN"):
        super().__init__()
        self.n_units, self.eps, self.beta, self.gamma, self.alpha, self.model = n_units, eps, beta, gamma, alpha, model
        self.E = nn.Linear(input_dim, n_units)
        if gated:
            self.E_gate = nn.Linear(input_dim, n_units)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.constant_(m.bias, 0.0)
        self.register_buffer("I", torch.eye(n_units))
        self.C = nn.Parameter(gaussian_init_(n_units, std=init_std))
        if model == "LipschitzRNN":
            self.B = nn.Parameter(gaussian_init_(n_units, std=init_std))

    def _mix(self, M):
        return self.beta * (M - M.transpose(1, 0)) + (1 - self.beta) * (M + M.transpose(1, 0)) - self.gamma * self.I

    def forward(self, x):
        h = x.new_zeros(x.shape[0], self.n_units)
        hs = []
        for i in range(x.shape[1]):
            z = self.E(x[:, i, :])
            if self.model == "asymRNN":
                W = self.C - self.C.transpose(1, 0) - self.gamma * self.I
                step = torch.tanh(torch.matmul(h, W) + z)
                if hasattr(self, "E_gate"):
                    step = step * torch.sigmoid(torch.matmul(h, W) + self.E_gate(x[:, i, :]))
                h = h + self.eps * step
            else:
                A, W = self._mix(self.B), self._mix(self.C)
                h = h + self.eps * self.alpha * torch.matmul(h, A) + self.eps * torch.tanh(torch.matmul(h, W) + z)
            hs.append(h)
        return torch.stack(hs, 1)


# --- lezcano/expRNN ------------------------------------------------------------------------------------------------


def create_diag_(A, diag):
    """lezcano/expRNN initialization.py ``create_diag_``: ``diag`` on every other superdiagonal entry, made skew."""
    n = A.size(0)
    superdiagonal = torch.zeros(max(n - 1, 0))
    superdiagonal[::2] = diag
    M = torch.diag(superdiagonal, diagonal=1)
    with torch.no_grad():
        A.copy_(M - M.T)
    return A


def henaff_init_(A):
    """initialization.py ``henaff_init_``: s ~ U[-π, π] per 2x2 block."""
    return create_diag_(A, A.new(A.size(0) // 2).uniform_(-math.pi, math.pi))


def cayley_init_(A):
    """initialization.py ``cayley_init_``: s = -sqrt((1 - cos φ)/(1 + cos φ)), φ ~ U[0, π/2]."""
    phi = A.new(A.size(0) // 2).uniform_(0.0, math.pi / 2)
    return create_diag_(A, -torch.sqrt((1.0 - torch.cos(phi)) / (1.0 + torch.cos(phi))))


class Orthogonal(nn.Module):
    """lezcano/expRNN orthogonal.py ``Orthogonal`` on parametrization.py ``Parametrization`` in static mode: a free
    square ``_A``, a base (the identity), B = base @ expm(triu(A, 1) - triu(A, 1)ᵀ) (``torch.matrix_exp`` for the
    ``param``), and ``input.matmul(B)``."""

    def __init__(self, size, initializer):
        super().__init__()
        self._A = nn.Parameter(torch.empty(size, size))
        self.register_buffer("base", torch.eye(size))
        initializer(self._A)

    def retraction(self, A_raw, base):
        A = A_raw.triu(diagonal=1)
        return base.mm(torch.matrix_exp(A - A.t()))

    def forward(self, input):
        return input.matmul(self.retraction(self._A, self.base))


class ModReLU(nn.Module):
    """orthogonal.py ``modrelu``: sign(z) relu(|z| + b), b ~ U(-0.01, 0.01)."""

    def __init__(self, features):
        super().__init__()
        self.b = nn.Parameter(torch.empty(features))
        nn.init.uniform_(self.b, -0.01, 0.01)

    def forward(self, inputs):
        return torch.sign(inputs) * F.relu(torch.abs(inputs) + self.b)


class ExpRNN(nn.Module):
    """lezcano/expRNN orthogonal.py ``OrthogonalRNN``: input_kernel an ``nn.Linear`` without bias re-drawn
    kaiming_normal (relu), the Orthogonal recurrent kernel, modReLU; ``forward(input, hidden) -> (out, out)``."""

    def __init__(self, input_size, hidden_size, skew_initializer):
        super().__init__()
        self.hidden_size = hidden_size
        self.recurrent_kernel = Orthogonal(hidden_size, skew_initializer)
        self.input_kernel = nn.Linear(input_size, hidden_size, bias=False)
        self.nonlinearity = ModReLU(hidden_size)
        nn.init.kaiming_normal_(self.input_kernel.weight, nonlinearity="relu")

    def default_hidden(self, input):
        return input.new_zeros(input.size(0), self.hidden_size)

    def forward(self, input, hidden):
        out = self.nonlinearity(self.input_kernel(input) + self.recurrent_kernel(hidden))
        return out, out


# --- lucidrains/minGRU-pytorch -------------------------------------------------------------------------------------


def g(x):
    """minGRU.py ``g``: x + 1/2 for x >= 0, σ(x) below."""
    return torch.where(x >= 0, x + 0.5, x.sigmoid())


def log_g(x):
    """minGRU.py ``log_g``."""
    return torch.where(x >= 0, (F.relu(x) + 0.5).log(), -F.softplus(-x))


def heinsen_scan_log(log_coeffs, log_values):
    """minGRU.py ``heinsen_associative_scan_log``: h_t = Σ_s exp(Σ_(s<r<=t) log a_r) v_s by cumsum and logcumsumexp."""
    a_star = log_coeffs.cumsum(dim=1)
    return (a_star + (log_values - a_star).logcumsumexp(dim=1)).exp()


class MinGRU(nn.Module):
    """lucidrains/minGRU-pytorch minGRU_pytorch/minGRU.py ``minGRU``: one bias-free ``nn.Linear`` to (hidden, gate);
    a one-step input takes the sequential path (lerp(prev, g(hidden), σ(gate))), a longer one the log-space parallel
    scan. The input width ``dim`` and the state width ``dim_inner`` differ here, with no ``to_out`` (the bare
    recurrence)."""

    def __init__(self, dim, dim_inner):
        super().__init__()
        self.to_hidden_and_gate = nn.Linear(dim, 2 * dim_inner, bias=False)

    def forward(self, x, prev_hidden=None):
        hidden, gate = self.to_hidden_and_gate(x).chunk(2, dim=-1)
        if x.shape[1] == 1:
            hidden, gate = g(hidden), gate.sigmoid()
            return hidden * gate if prev_hidden is None else torch.lerp(prev_hidden, hidden, gate)
        log_coeffs, log_values = -F.softplus(gate), -F.softplus(-gate) + log_g(hidden)
        if prev_hidden is not None:
            log_values = torch.cat((log_g(prev_hidden), log_values), dim=1)
            log_coeffs = F.pad(log_coeffs, (0, 0, 1, 0))
        return heinsen_scan_log(log_coeffs, log_values)[:, -x.shape[1]:]


class MinLSTM(nn.Module):
    """lucidrains/minGRU-pytorch minGRU_pytorch/minLSTM.py ``minLSTM``: one bias-free ``nn.Linear`` to (hidden, f, i);
    sequential f/(f+i), i/(f+i) for one step; the parallel path's log f' = -softplus(d), log i' = -softplus(-d),
    d = softplus(-f) - softplus(-i). No ``to_out``, input and state widths differ."""

    def __init__(self, dim, dim_inner):
        super().__init__()
        self.to_hidden_and_f_i_gate = nn.Linear(dim, 3 * dim_inner, bias=False)

    def forward(self, x, prev_hidden=None):
        hidden, f_gate, i_gate = self.to_hidden_and_f_i_gate(x).chunk(3, dim=-1)
        if x.shape[1] == 1:
            hidden, f_gate, i_gate = g(hidden), f_gate.sigmoid(), i_gate.sigmoid()
            f_prime, i_prime = f_gate / (f_gate + i_gate), i_gate / (f_gate + i_gate)
            return hidden * i_prime if prev_hidden is None else prev_hidden * f_prime + hidden * i_prime
        diff = F.softplus(-f_gate) - F.softplus(-i_gate)
        log_f, log_values = -F.softplus(diff), -F.softplus(-diff) + log_g(hidden)
        if prev_hidden is not None:
            log_values = torch.cat((log_g(prev_hidden), log_values), dim=1)
            log_f = F.pad(log_f, (0, 0, 1, 0))
        return heinsen_scan_log(log_f, log_values)[:, -x.shape[1]:]


# --- state-spaces/mamba --------------------------------------------------------------------------------------------


def selective_scan_ref(u, delta, A, B, C, D=None, delta_bias=None, delta_softplus=False, return_last_state=False):
    """state-spaces/mamba mamba_ssm/ops/selective_scan_interface.py ``selective_scan_ref`` for a real A (D, N) and
    input-dependent B, C (batch, N, L), without the gate z: Δ = softplus(delta + bias), Ā = exp(Δ A), B̄u = Δ B u,
    a loop over L of h = Ā h + B̄u, y = C h, plus D u. u, delta: (batch, D, L)."""
    delta = delta.float()
    if delta_bias is not None:
        delta = delta + delta_bias[..., None].float()
    if delta_softplus:
        delta = F.softplus(delta)
    batch, dim, dstate = u.shape[0], A.shape[0], A.shape[1]
    delta_A = torch.exp(torch.einsum("bdl,dn->bdln", delta, A))
    delta_B_u = torch.einsum("bdl,bnl,bdl->bdln", delta, B, u)
    h = A.new_zeros((batch, dim, dstate))
    ys = []
    for i in range(u.shape[2]):
        h = delta_A[:, :, i] * h + delta_B_u[:, :, i]
        ys.append(torch.einsum("bdn,bn->bd", h, C[:, :, i]))
    y = torch.stack(ys, dim=2)
    out = y if D is None else y + u * D[:, None]
    return (out, h) if return_last_state else out


class SelectiveSSM(nn.Module):
    """state-spaces/mamba mamba_ssm/modules/mamba_simple.py ``Mamba``, its SSM alone: in_proj (the x half, no bias),
    x_proj to (dt, B, C) without bias, dt_proj with its special init (weight U(±rank^-1/2), bias the inverse softplus
    of Δ ~ exp(U[log dt_min, log dt_max]) floored at 1e-4), A_log = log(1..N) per channel (S4D real), D = 1; the slow
    path of ``forward`` without conv1d, SiLU, gate z and out_proj, into ``selective_scan_ref``. Here ``d_model`` is
    the input width and ``d_inner`` the cell's units (no expand); the rank is latchjax's ceil(units / 16)."""

    def __init__(self, d_model, d_inner, d_state, rank, dt_min, dt_max, dt_scale=1.0, dt_init_floor=1e-4):
        super().__init__()
        self.d_state, self.rank = d_state, rank
        self.in_proj = nn.Linear(d_model, d_inner, bias=False)
        self.x_proj = nn.Linear(d_inner, rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(rank, d_inner, bias=True)
        dt_init_std = rank**-0.5 * dt_scale
        nn.init.uniform_(self.dt_proj.weight, -dt_init_std, dt_init_std)
        dt = torch.exp(torch.rand(d_inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        dt = dt.clamp(min=dt_init_floor)
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1, dtype=torch.float32).repeat(d_inner, 1)))
        self.D = nn.Parameter(torch.ones(d_inner))

    def forward(self, hidden_states):
        """(batch, L, d_model) -> y (batch, d_inner, L) and the last state (batch, d_inner, N)."""
        batch, seqlen, _ = hidden_states.shape
        x = self.in_proj(hidden_states).transpose(1, 2)  # b d l
        A = -torch.exp(self.A_log.float())
        x_dbl = self.x_proj(x.transpose(1, 2).reshape(batch * seqlen, -1))  # (b l) d
        dt, B, C = torch.split(x_dbl, [self.rank, self.d_state, self.d_state], dim=-1)
        dt = (self.dt_proj.weight @ dt.t()).reshape(-1, batch, seqlen).transpose(0, 1)  # b d l
        B = B.reshape(batch, seqlen, self.d_state).transpose(1, 2)  # b dstate l
        C = C.reshape(batch, seqlen, self.d_state).transpose(1, 2)
        return selective_scan_ref(x, dt, A, B, C, self.D.float(), delta_bias=self.dt_proj.bias.float(),
                                  delta_softplus=True, return_last_state=True)


# --- building, loading and running ---------------------------------------------------------------------------------

# latchjax's parameter name -> the torch module's parameter (every one of each side, same layout: both hold PyTorch's
# (out, in) weights)
PARAMETER_MAP = {
    "cornn": {"i2h_weight": "i2h.weight", "i2h_bias": "i2h.bias"},
    "lem": {"inp2hid_weight": "inp2hid.weight", "inp2hid_bias": "inp2hid.bias", "hid2hid_weight": "hid2hid.weight",
            "hid2hid_bias": "hid2hid.bias", "transform_z_weight": "transform_z.weight",
            "transform_z_bias": "transform_z.bias"},
    "asrnn": {"C": "C", "E_weight": "E.weight", "E_bias": "E.bias", "E_gate_weight": "E_gate.weight",
              "E_gate_bias": "E_gate.bias"},
    "lipschitz": {"B": "B", "C": "C", "E_weight": "E.weight", "E_bias": "E.bias"},
    "exprnn": {"A": "recurrent_kernel._A", "input_kernel": "input_kernel.weight", "modrelu_b": "nonlinearity.b"},
    "mingru": {"weight": "to_hidden_and_gate.weight"},
    "minlstm": {"weight": "to_hidden_and_f_i_gate.weight"},
    "s6": {"in_proj": "in_proj.weight", "x_proj": "x_proj.weight", "dt_proj": "dt_proj.weight",
           "dt_bias": "dt_proj.bias", "A_log": "A_log", "D": "D"},
}
# the torch parameter the mutation check moves: one that counts at every width
MUTATED = {"cornn": "i2h.weight", "lem": "hid2hid.weight", "asrnn": "E.weight", "lipschitz": "B",
           "exprnn": "input_kernel.weight", "mingru": "to_hidden_and_gate.weight",
           "minlstm": "to_hidden_and_f_i_gate.weight", "s6": "x_proj.weight"}


def torch_module(cell, n_in):
    """The authors' module for ``cell``, with its options; drawn by torch's own initialisation."""
    o, u = cell.opt, cell.units
    if cell.kind == "cornn":
        return CoRNNCell(n_in, u, o("dt"), o("gamma"), o("eps"))
    if cell.kind == "lem":
        return LEMCell(n_in, u, o("dt"))
    if cell.kind == "asrnn":
        return LipschitzRNNs(n_in, u, eps=o("eps"), gamma=o("gamma"), gated=bool(o("gated")), init_std=o("std"),
                             model="asymRNN")
    if cell.kind == "lipschitz":
        return LipschitzRNNs(n_in, u, eps=o("eps"), beta=o("beta"), gamma=o("gamma"), init_std=o("std"))
    if cell.kind == "exprnn":
        return ExpRNN(n_in, u, (henaff_init_, cayley_init_)[o("init")])
    if cell.kind == "mingru":
        return MinGRU(n_in, u)
    if cell.kind == "minlstm":
        return MinLSTM(n_in, u)
    if cell.kind == "s6":
        return SelectiveSSM(n_in, u, o("state"), dt_rank(u), o("dtmin"), o("dtmax"))
    raise KeyError(cell.kind)


def load(module, params, kind):
    """Copy latchjax's ``params`` into ``module`` by :data:`PARAMETER_MAP`; the map must cover both sides."""
    mapping = {name: path for name, path in PARAMETER_MAP[kind].items() if name in params}
    assert set(mapping) == set(params), f"latchjax parameters of {kind} not mapped: {set(params) - set(mapping)}"
    assert set(mapping.values()) == {n for n, _ in module.named_parameters()}, f"torch parameters of {kind} not mapped"
    with torch.no_grad():
        for name, path in mapping.items():
            target = module.get_parameter(path)
            assert tuple(target.shape) == params[name].shape, (name, path)
            target.copy_(torch.from_numpy(np.array(params[name], np.float32)))
    return mapping


def run_torch(cell, module, xs, path):
    """The module over ``xs`` (T, batch, n_in) as the authors' code drives it: (outputs (T, batch, units), the final
    state as latchjax's carry leaves)."""
    kind = cell.kind
    if kind in ("cornn", "lem"):
        y = xs.new_zeros(xs.shape[1], cell.units)
        z, outs = y, []
        for x in xs:
            y, z = module(x, y, z)
            outs.append(y)
        return torch.stack(outs), (y, z)
    if kind in ("asrnn", "lipschitz"):
        outs = module(xs.transpose(0, 1)).transpose(0, 1)
        return outs, (outs[-1],)
    if kind == "exprnn":
        hidden, outs = module.default_hidden(xs[0]), []
        for x in xs:
            out, hidden = module(x, hidden)
            outs.append(out)
        return torch.stack(outs), (hidden,)
    if kind in ("mingru", "minlstm"):
        if path == "parallel":
            outs = module(xs.transpose(0, 1)).transpose(0, 1)
        else:
            hidden, steps = None, []
            for x in xs:
                hidden = module(x[:, None, :], hidden)
                steps.append(hidden[:, 0])
            outs = torch.stack(steps)
        return outs, (outs[-1],)
    if kind == "s6":
        y, last_state = module(xs.transpose(0, 1))
        outs = y.permute(2, 0, 1)
        return outs, (outs[-1], last_state)
    raise KeyError(kind)


def run_ours(cell, params, xs, path):
    """latchjax over ``xs``: ``cell.step`` in a time loop, or the parallel scan (``run_cell(scan="parallel")``)."""
    if path == "parallel":
        outs = jnp.swapaxes(run_cell(cell, params, jnp.swapaxes(xs, 0, 1), every=True, scan="parallel"), 0, 1)
        return outs, (outs[-1],)
    carry, outs = jax.lax.scan(lambda c, x: cell.step(params, c, x), cell.initial_carry(xs.shape[1], xs.shape[2]), xs)
    return outs, tuple(jax.tree.leaves(carry))


def scalar_loss(outs, final, weights):
    """Σ outputs ⊙ R + Σ final state ⊙ R' (fixed random R, R'): every output and state entry weighs in."""
    loss = (outs * weights[0]).sum()
    for leaf, w in zip(final, weights[1:]):
        loss = loss + (leaf * w).sum()
    return loss


def perturbed(cell, key, n_in):
    """The cell's init with every leaf moved by N(0, 0.3²) (as tests/test_zoo_cells.py does), so every term counts."""
    params = cell.init(key, n_in)
    keys = jax.random.split(jax.random.fold_in(key, 7), len(params))
    return {name: leaf + 0.3 * jax.random.normal(k, leaf.shape) for (name, leaf), k in zip(params.items(), keys)}


def compare(spec, units, path="sequential", seed=0):
    """latchjax against the authors' torch module on one random sequence: the largest differences of the outputs, of
    the final state, of the gradients (absolute and relative to the largest gradient entry) and, after moving one
    mapped torch parameter, of the outputs."""
    cell = parse_cell(spec, units)
    params = perturbed(cell, jax.random.key(seed + units), N_IN)
    xs = np.asarray(jax.random.uniform(jax.random.key(seed + 100), (T, BATCH, N_IN), minval=-1.0, maxval=2.0))

    def loss(p, weights):
        outs, final = run_ours(cell, p, jnp.asarray(xs), path)
        return scalar_loss(outs, final, weights), (outs, final)

    shapes = [o.shape for o in jax.tree.leaves(jax.eval_shape(lambda p: run_ours(cell, p, jnp.asarray(xs), path),
                                                              params))]
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=s).astype(np.float32) for s in shapes]
    (_, (outs, final)), grads = jax.jit(jax.value_and_grad(loss, has_aux=True))(params, weights)

    torch.manual_seed(seed)
    module = torch_module(cell, N_IN)
    mapping = load(module, params, cell.kind)
    t_outs, t_final = run_torch(cell, module, torch.tensor(xs), path)
    scalar_loss(t_outs, t_final, [torch.tensor(w) for w in weights]).backward()
    scale = max(float(np.max(np.abs(grads[name]))) for name in grads)
    grad_diff = max(float(np.max(np.abs(module.get_parameter(p).grad.numpy() - np.asarray(grads[name]))))
                    for name, p in mapping.items())

    with torch.no_grad():
        moved = module.get_parameter(MUTATED[cell.kind])
        moved.add_(0.1 * torch.randn(moved.shape, generator=torch.Generator().manual_seed(9)))
        mutated_outs, _ = run_torch(cell, module, torch.tensor(xs), path)
    size = max(1.0, float(np.max(np.abs(np.asarray(outs)))))
    output = float(np.max(np.abs(t_outs.detach().numpy() - np.asarray(outs))))
    state = max(float(np.max(np.abs(t.detach().numpy() - np.asarray(o)))) for t, o in zip(t_final, final))
    return {"output": output, "state": state, "size": size, "output_rel": max(output, state) / size,
            "grad": grad_diff, "grad_scale": scale, "grad_rel": grad_diff / max(scale, 1.0),
            "mutated": float(np.max(np.abs(mutated_outs.numpy() - np.asarray(outs))))}


CASES = [("cornn", "sequential"), ("cornn:dt=0.076:gamma=0.4:eps=8", "sequential"), ("lem", "sequential"),
         ("lem:dt=0.5", "sequential"), ("asrnn:eps=0.5", "sequential"), ("asrnn:gated=1:eps=0.5", "sequential"),
         ("lipschitz:eps=0.5:beta=0.65", "sequential"), ("exprnn", "sequential"), ("exprnn:init=1", "sequential"),
         ("mingru", "sequential"), ("mingru", "parallel"), ("minlstm", "sequential"), ("minlstm", "parallel"),
         ("s6:state=3:dtmin=0.3:dtmax=1", "sequential"), ("s6:state=3:dtmin=0.3:dtmax=1", "parallel")]


@pytest.mark.parametrize("units", [1, 3])
@pytest.mark.parametrize("spec,path", CASES)
def test_zoo_cell_equals_its_authors_torch_module(spec, path, units):
    """Same parameters in, the same outputs at every step and final state (< 1e-5 of the largest output, or absolutely
    below 1), the same gradient of a scalar loss for every parameter (< 1e-4 of the largest entry, or absolutely below
    1); and moving one torch parameter by N(0, 0.1²) moves the outputs by more than 1e-3 (the comparison can fail).

    expRNN's bound is 3e-5: float32 ``torch.matrix_exp`` is 1.1e-6 off float64 scipy's expm of the same S (jax's
    expm 1.8e-7), and twelve steps through W carry that to 5.6e-6 of the output."""
    d = compare(spec, units, path)
    assert d["output_rel"] < (3e-5 if spec.startswith("exprnn") else 1e-5), d
    assert d["grad_rel"] < 1e-4, d
    assert d["mutated"] > 1e-3, d


# --- the initial distribution --------------------------------------------------------------------------------------

DRAWS = 1000


def hasattr_path(module, path):
    """Whether ``module`` has the parameter ``path`` (asrnn has E_gate only in its gated form)."""
    try:
        module.get_parameter(path)
    except AttributeError:
        return False
    return True


def torch_draws(spec, units, n_in):
    """``DRAWS`` modules of the authors' class, drawn by torch from seed 0: each parameter stacked."""
    cell = parse_cell(spec, units)
    torch.manual_seed(0)
    modules = [torch_module(cell, n_in) for _ in range(DRAWS)]
    return {path: np.stack([m.get_parameter(path).detach().numpy() for m in modules])
            for path in PARAMETER_MAP[cell.kind].values() if hasattr_path(modules[0], path)}


# spec -> the latchjax parameters whose distribution is compared with torch's (the rest are deterministic: checked
# equal); for exprnn, the skew matrix's block entries
INIT_CASES = [("cornn", ["i2h_weight", "i2h_bias"]),
              ("lem", ["inp2hid_weight", "inp2hid_bias", "hid2hid_weight", "hid2hid_bias", "transform_z_weight",
                       "transform_z_bias"]),
              ("asrnn", ["C", "E_weight"]), ("asrnn:gated=1", ["C", "E_weight", "E_gate_weight"]),
              ("lipschitz:std=3", ["B", "C", "E_weight"]),
              ("exprnn", ["A", "input_kernel", "modrelu_b"]), ("exprnn:init=1", ["A", "input_kernel", "modrelu_b"]),
              ("mingru", ["weight"]), ("minlstm", ["weight"]),
              ("s6", ["in_proj", "x_proj", "dt_proj", "dt_bias"])]


def block_entries(A):
    """The 2x2 blocks' entries s of expRNN's skew matrices (units 4): A[0, 1] and A[2, 3]."""
    return A[:, [0, 2], [1, 3]]


@pytest.mark.parametrize("spec,compared", INIT_CASES)
def test_zoo_cell_initial_distribution_is_its_authors_torch_draw(spec, compared):
    """10³ torch draws of the authors' module against 10³ latchjax inits (units 4, n_in 2): each compared parameter's
    entries have the same distribution (two-sample Kolmogorov-Smirnov, p > 1e-3); the deterministic ones (zero biases,
    Mamba's A_log and D, expRNN's zeros outside its blocks) are equal."""
    units, n_in = 4, 2
    cell = parse_cell(spec, units)
    theirs = torch_draws(spec, units, n_in)
    ours = jax.vmap(lambda k: cell.init(k, n_in))(jax.random.split(jax.random.key(0), DRAWS))
    ours = {name: np.asarray(leaf) for name, leaf in ours.items()}
    mapping = PARAMETER_MAP[cell.kind]
    assert set(theirs) == {mapping[name] for name in ours}
    for name, ours_leaf in ours.items():
        theirs_leaf = theirs[mapping[name]]
        assert ours_leaf.shape == theirs_leaf.shape, name
        if name not in compared:
            np.testing.assert_allclose(ours_leaf, theirs_leaf, rtol=1e-6, err_msg=name)
            continue
        if cell.kind == "exprnn" and name == "A":
            rest = np.ones((units, units), bool)
            rest[[0, 2, 1, 3], [1, 3, 0, 2]] = False
            assert not np.any(ours_leaf[:, rest]) and not np.any(theirs_leaf[:, rest])
            for leaf in (ours_leaf, theirs_leaf):
                np.testing.assert_array_equal(leaf, -np.swapaxes(leaf, 1, 2))
            ours_leaf, theirs_leaf = block_entries(ours_leaf), block_entries(theirs_leaf)
        p = stats.ks_2samp(ours_leaf.ravel(), theirs_leaf.ravel()).pvalue
        assert p > 1e-3, (name, p)
