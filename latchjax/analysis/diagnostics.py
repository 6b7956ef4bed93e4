"""Look inside trained models: state and gate trajectories over time."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from latchjax.core.cells import Cell, RNNCell
from latchjax.core.model import head_logits, head_loss
from latchjax.core.scan import masked_scan
from latchjax.core.tasks.output import as_sequences


def trajectories(cell: RNNCell, params: Any, x: jax.Array) -> dict[str, jax.Array]:
    """Hidden state and gates at every step of ``x`` (batch, T, n_in), unpadded.

    Returns arrays of shape (T, batch, units): ``h`` and each gate of
    :meth:`~latchjax.core.cells.rnn.RNNCell.step_with_gates` (e.g. ``update`` for a GRU, ``forget`` and
    ``cell`` for an LSTM).
    """
    def time_step(carry, x_t):
        carry, h, gates = cell.step_with_gates(params, carry, x_t)
        return carry, {"h": h, **gates}

    _, out = masked_scan(time_step, cell.initial_carry(x.shape[0], x.shape[2]), jnp.swapaxes(x, 0, 1), None,
                         outputs=True)
    return out


def hidden_grad_norms(cell: Cell, params: Any, x: jax.Array, y: jax.Array, head: str = "softmax") -> jax.Array:
    """‖∂loss/∂h_t‖ for every step t: shape (T,). ``params`` = {"cell": ..., "head": ...}; the loss is the
    mean loss of the batch (``head``: :func:`~latchjax.core.model.head_loss`'s, ``mse`` for a regression).
    Computed by adding a zero perturbation to h_t at every step and
    differentiating with respect to it (vanishing gradients made visible)."""
    steps = x.shape[1]

    def loss(deltas):
        def time_step(state, inputs):
            x_t, delta = inputs
            carry, h = cell.step(params["cell"], state, x_t)
            h = h + delta
            return cell.with_output(carry, h), h

        carry0 = cell.initial_carry(x.shape[0], x.shape[2])
        _, hs = masked_scan(time_step, carry0, (jnp.swapaxes(x, 0, 1), deltas), None, outputs=True)
        return head_loss(head, head_logits(params, hs[-1]), y)[0].mean()

    grads = jax.grad(loss)(jnp.zeros((steps, x.shape[0], cell.units), jnp.float32))
    return jnp.sqrt(jnp.sum(grads**2, axis=(1, 2)))


def fixed_points(w: float, b: float = 0.0, resolution: int = 20001) -> list[float]:
    """Fixed points of h -> tanh(w h + b) in [-1, 1], found by sign changes on a fine grid and bisection.

    One stable fixed point for |w| <= 1 (b = 0); three (two stable, one unstable) for w > 1:
    the bistability that makes a one-unit SimpleRNN a latch.
    """
    h = np.linspace(-1.0, 1.0, resolution)
    g = np.tanh(w * h + b) - h
    roots = [float(h[i]) for i in np.flatnonzero(g == 0)]
    for i in np.flatnonzero(np.sign(g[:-1]) * np.sign(g[1:]) < 0):
        lo, hi = h[i], h[i + 1]
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if np.sign(np.tanh(w * mid + b) - mid) == np.sign(np.tanh(w * lo + b) - lo):
                lo = mid
            else:
                hi = mid
        roots.append(float(0.5 * (lo + hi)))
    return sorted(set(round(r, 9) for r in roots))


def fixed_point_diagram(ws: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The fixed points of h -> tanh(w h) against w (default: 241 values in [-3, 3]), as the points
    ``(w, h*)`` of a bifurcation diagram."""
    ws = np.linspace(-3, 3, 241) if ws is None else np.asarray(ws)
    pairs = [(w, h) for w in ws for h in fixed_points(float(w))]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def diagnose_run(result: Any, cfg: Any, params: dict, length: int, samples: int) -> tuple[dict, Any, Any]:
    """What ``latchjax diagnose`` shows of a saved run at one trained ``length``, for every
    :class:`~latchjax.core.cells.rnn.RNNCell` with saved parameters (the first lr and forget bias: one model per seed),
    on ``samples`` fresh sequences of the run's task: per cell ``norms`` (model, T) of
    :func:`hidden_grad_norms`, ``success`` per model, ``trajectories`` of the first four models and, for a
    one-unit SimpleRNN, each model's (w, b) (``b`` adds PyTorch's two biases, which act as one).
    Returns ``(report, y, diagram)``: the report is empty when no cell qualifies; ``diagram`` is
    :func:`fixed_point_diagram` where a one-unit SimpleRNN was diagnosed, else None."""
    lengths = result.coords["length"]
    x, y = as_sequences(cfg.resolved.task(jax.random.key(12345), samples, length))[:2]
    cells = {cell.name: cell for cell in cfg.resolved.cells}
    success = result.success(cfg.threshold)
    seeds = len(result.coords["seed"])
    report: dict = {}
    for c, name in enumerate(result.coords["cell"]):
        cell = cells.get(name)
        if not isinstance(cell, RNNCell) or name not in params:
            continue
        tree = jax.tree.map(lambda a: a[:seeds], params[name][length])
        models = [jax.tree.map(lambda a, i=i: a[i], tree) for i in range(seeds)]
        norms = np.asarray(jax.jit(jax.vmap(lambda p, cell=cell: hidden_grad_norms(cell, p, x, y, cfg.loss_head)))(tree))
        traj = {i: {k: np.asarray(v) for k, v in trajectories(cell, models[i]["cell"], x).items()}
                for i in range(min(4, seeds))}
        w_b = None
        if cell.kind == "srnn" and cell.units == 1:
            weights = [cell.weights(m["cell"]) for m in models]
            w_b = np.array([[float(w.U.ravel()[0]), float(w.b.ravel()[0] + (0 if w.b2 is None else w.b2.ravel()[0]))]
                            for w in weights])
        report[name] = {"norms": norms, "success": success[c, lengths.index(length), 0, 0], "trajectories": traj,
                        "w_b": w_b}
    srnn = any(r["w_b"] is not None for r in report.values())
    return report, np.asarray(y), fixed_point_diagram() if srnn else None
