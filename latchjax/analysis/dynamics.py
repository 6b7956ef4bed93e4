"""What training did to a model's memory: its zero-input attractors, λ through training, and how separable the
classes are in the untrained model's final state.

* :func:`fixed_points` / :func:`attractors` / :func:`saddle`: a trained latch holds its bit in stable zero-input
  fixed points, whose slope is below 1 by definition, so ``lambda_final`` at *the* rest state says little. These
  count the stable fixed points the zero-input map s' = F(s) reaches from many starting states, and find the saddle
  between the two most visited ones by edge tracking (bisection between the basins, alternating with steps along
  the boundary, whose stable manifold leads to the saddle) and Newton's method on F(s) = s. The
  saddle's largest |eigenvalue| (above 1) is how fast a state leaves the boundary, the bit's decisiveness.
* :func:`trajectory`: λ, the rest state's residual and the gates at every snapshot of training
  (``sweep --snapshots``).
* :func:`separability`: the untrained model's d′ between the two classes of a binary task at the last step,
  sqrt(Δμᵀ Σ⁻¹ Δμ) with the pooled covariance Σ of the final output h_T (one unit: |μ1 − μ0| / σ). A linear
  integrator (λ0 = 1) reaches d′ = 2 / (σ √T) on the latch; below λ0 = 1 d′ shrinks like λ0^T.

Every function is pure and vmappable over models, except :func:`attractors`, which clusters end points in NumPy.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from latchjax.core.model import run_cell
from latchjax.core.scan import masked_scan

REST_STEPS = 500
STEPS = 1000  # zero-input steps from each start (a bistable one-unit cell settles in tens)
STARTS = 32
BOX = 1.0  # starting states drawn uniform in [-BOX, BOX] around the initial carry, plus the carry itself
TOL = 1e-4  # |F(s) - s| below this: a fixed point; end points closer than 100 TOL (relative past 1): one attractor


def zero_input_map(cell: Any, params: Any, n_in: int) -> tuple[jax.Array, Any]:
    """``(s0, F)``: the flattened initial carry and the zero-input update F(s) on flattened carries."""
    if hasattr(cell, "for_jacobian"):  # a ReLU cell resting at 0 linearises to its active branch (ZooCell)
        cell = cell.for_jacobian()
    flat0, unravel = ravel_pytree(cell.initial_carry(1, n_in))
    x0 = jnp.zeros((1, n_in), jnp.float32)

    def update(flat: jax.Array) -> jax.Array:
        return ravel_pytree(cell.step(params, unravel(flat), x0)[0])[0]

    return flat0, update


def _iterate(update, s: jax.Array, steps: int) -> jax.Array:
    return masked_scan(lambda v, _: (update(v), None), s, jnp.arange(steps), None)[0]


def rest_jacobian(cell: Any, params: Any, n_in: int, steps: int = REST_STEPS) -> tuple[jax.Array, jax.Array, dict]:
    """The Jacobian of the zero-input state update at the rest state, the residual there, and the gates.

    The rest state is the carry after ``steps`` zero-input steps from ``cell.initial_carry``. Returns
    ``(J (d, d), max |F(s*) - s*|, {gate: mean value at s*})`` with d the size of the flattened carry.
    """
    flat0, update = zero_input_map(cell, params, n_in)
    rest = _iterate(update, flat0, steps)
    residual = jnp.max(jnp.abs(update(rest) - rest))
    gates = {}
    if hasattr(cell, "step_with_gates"):
        _, unravel = ravel_pytree(cell.initial_carry(1, n_in))
        x0 = jnp.zeros((1, n_in), jnp.float32)
        gates = {k: jnp.mean(v) for k, v in cell.step_with_gates(params, unravel(rest), x0)[2].items()}
    return jax.jacfwd(update)(rest), residual, gates


def spectral_radius(jacobians: np.ndarray) -> np.ndarray:
    """max |eigenvalue| of each (..., d, d) matrix (NumPy: JAX's non-symmetric eig runs on CPU only); NaN where not
    finite."""
    jac = np.asarray(jacobians, np.float64)
    finite = np.all(np.isfinite(jac), axis=(-2, -1))
    radius = np.full(jac.shape[:-2], np.nan)
    if finite.any():
        radius[finite] = np.max(np.abs(np.linalg.eigvals(jac[finite])), axis=-1)
    return radius


def fixed_points(cell: Any, params: Any, n_in: int, key: jax.Array | None = None, starts: int = STARTS,
                 steps: int = STEPS, box: float = BOX) -> dict[str, jax.Array]:
    """Where the zero-input map takes ``starts`` states after ``steps`` steps: ``end (starts, d)``, its residual
    ``|F(s) - s|`` (max over the state) and the Jacobian dF/ds there, ``jac (starts, d, d)``; the same for the
    two-step map F(F(s)) (``residual2``, ``jac2``: a period-2 orbit, which a one-unit SimpleRNN with w < -1 latches
    with, is fixed under it), and ``next`` = F(end). The first start is the initial carry (so the rest state is among
    them), the others uniform in ``[-box, box]^d`` around it."""
    flat0, update = zero_input_map(cell, params, n_in)
    key = jax.random.key(0) if key is None else key
    offsets = jax.random.uniform(key, (starts - 1, flat0.size), jnp.float32, -box, box)
    s = jnp.concatenate([flat0[None], flat0 + offsets])
    end = jax.vmap(lambda v: _iterate(update, v, steps))(s)
    residual = jax.vmap(lambda v: jnp.max(jnp.abs(update(v) - v)))(end)
    twice = lambda v: update(update(v))  # noqa: E731
    return {"end": end, "residual": residual, "jac": jax.vmap(jax.jacfwd(update))(end), "next": jax.vmap(update)(end),
            "residual2": jax.vmap(lambda v: jnp.max(jnp.abs(twice(v) - v)))(end),
            "jac2": jax.vmap(jax.jacfwd(twice))(end)}


def cycles(end: np.ndarray, following: np.ndarray, residual: np.ndarray, residual2: np.ndarray, radius2: np.ndarray,
           tol: float = TOL) -> int:
    """The distinct stable period-2 orbits among one model's end points: points that F moves (residual >= ``tol``)
    and F(F(.)) fixes (residual2 < ``tol``, stable: radius2 < 1), an orbit {a, F(a)} counted once."""
    end, following = np.asarray(end, np.float64), np.asarray(following, np.float64)
    keep = (np.asarray(residual) >= tol) & (np.asarray(residual2) < tol) & (np.asarray(radius2) < 1)
    orbits: list[np.ndarray] = []
    for a, b in zip(end[keep], following[keep]):
        if not any(min(np.max(np.abs(o - a)), np.max(np.abs(o - b))) < 100 * tol * max(1.0, np.max(np.abs(a)))
                   for o in orbits):
            orbits.append(a)
    return len(orbits)


def attractors(end: np.ndarray, residual: np.ndarray, radius: np.ndarray, tol: float = TOL) -> list[np.ndarray]:
    """The distinct stable fixed points among one model's end points (:func:`fixed_points`), most visited first:
    end points that are fixed (residual < ``tol``) and stable (radius < 1), merged when closer than ``100 tol``
    (relative to their size beyond 1: an LSTM's cell state can rest far out)."""
    end, residual, radius = np.asarray(end, np.float64), np.asarray(residual), np.asarray(radius)
    clusters: list[list[np.ndarray]] = []
    for point in end[(residual < tol) & (radius < 1) & np.all(np.isfinite(end), axis=1)]:
        for members in clusters:
            if np.max(np.abs(members[0] - point)) < 100 * tol * max(1.0, np.max(np.abs(point))):
                members.append(point)
                break
        else:
            clusters.append([point])
    clusters.sort(key=len, reverse=True)
    return [np.mean(members, axis=0) for members in clusters]


def saddle(cell: Any, params: Any, n_in: int, a: jax.Array, b: jax.Array, rounds: int = 30, bisections: int = 24,
           advance: int = 4, steps: int = STEPS, newton: int = 30) -> dict[str, jax.Array]:
    """The fixed point on the boundary between the basins of attractors ``a`` and ``b``: ``state``, ``residual``
    and ``jac`` (dF/ds there; its largest |eigenvalue| is above 1 for a saddle).

    Edge tracking: a pair of points on either side of the boundary (their forward orbits end at ``a`` and at
    ``b``) is narrowed by bisection on the segment between them, then both are moved ``advance`` steps forward,
    ``rounds`` times: the pair runs along the boundary's stable manifold to the saddle while the bisection keeps it
    astride the boundary. Newton's method on F(s) = s from the pair's midpoint finishes. NaN where ``a`` or ``b`` is
    NaN; check the residual before trusting the result."""
    _, update = zero_input_map(cell, params, n_in)

    def to_b(point):  # whether the orbit from ``point`` ends nearer b than a
        end = _iterate(update, point, steps)
        return jnp.sum((end - b) ** 2) < jnp.sum((end - a) ** 2)

    def bisect(_, pair):
        near_a, near_b = pair
        mid = (near_a + near_b) / 2
        falls_to_b = to_b(mid)
        return jnp.where(falls_to_b, near_a, mid), jnp.where(falls_to_b, mid, near_b)

    def track(_, pair):
        near_a, near_b = jax.lax.fori_loop(0, bisections, bisect, pair)
        return _iterate(update, near_a, advance), _iterate(update, near_b, advance)

    near_a, near_b = jax.lax.fori_loop(0, rounds, track, (a, b))
    near_a, near_b = jax.lax.fori_loop(0, bisections, bisect, (near_a, near_b))

    def newton_step(v, _):
        g = update(v) - v
        jac = jax.jacfwd(update)(v) - jnp.eye(v.size)
        step = jnp.linalg.solve(jac, g)
        return jnp.where(jnp.all(jnp.isfinite(step)), v - step, v), None

    s, _ = jax.lax.scan(newton_step, (near_a + near_b) / 2, None, length=newton)
    return {"state": s, "residual": jnp.max(jnp.abs(update(s) - s)), "jac": jax.jacfwd(update)(s)}


def landscape_of_attractors(cell: Any, params: Any, n_in: int, tol: float = TOL) -> dict[str, np.ndarray]:
    """For models stacked on a leading axis: ``n_stable`` (the stable zero-input fixed points reached from
    :data:`STARTS` states), ``n_cycles`` (the stable period-2 orbits reached: an orbit holds a bit as two fixed
    points do, for sequences of one parity) and ``saddle`` (the largest |eigenvalue| at the fixed point between the
    two most visited stable ones; NaN with fewer than two, or where Newton did not reach a fixed point)."""
    found = jax.tree.map(np.asarray, jax.jit(jax.vmap(lambda p: fixed_points(cell, p, n_in)))(params))
    found["radius"] = spectral_radius(found.pop("jac"))
    found["radius2"] = spectral_radius(found.pop("jac2"))
    n = found["end"].shape[0]
    d = found["end"].shape[-1]
    counts, orbits = np.zeros(n, np.int64), np.zeros(n, np.int64)
    a, b = np.full((n, d), np.nan, np.float32), np.full((n, d), np.nan, np.float32)
    for i in range(n):
        stable = attractors(found["end"][i], found["residual"][i], found["radius"][i], tol)
        counts[i] = len(stable)
        orbits[i] = cycles(found["end"][i], found["next"][i], found["residual"][i], found["residual2"][i],
                           found["radius2"][i], tol)
        if len(stable) >= 2:
            a[i], b[i] = stable[0], stable[1]
    out = {"n_stable": counts, "n_cycles": orbits, "saddle": np.full(n, np.nan)}
    two = counts >= 2
    if two.any():
        picked = jax.tree.map(lambda leaf: leaf[two], params)
        sad = jax.jit(jax.vmap(lambda p, u, v: saddle(cell, p, n_in, u, v)))(picked, a[two], b[two])
        radius = spectral_radius(sad["jac"])
        out["saddle"][two] = np.where(np.asarray(sad["residual"]) < tol, radius, np.nan)
    return out


def trajectory(cell: Any, snapshots: Any, n_in: int, steps: int = REST_STEPS) -> dict[str, np.ndarray]:
    """λ (the spectral radius of dF/ds at the rest state reached from the initial carry), the rest state's residual
    and the gates there, for parameters with leading axes ``(models, rounds)``: arrays ``(models, rounds)``."""

    def one(params):
        jac, residual, gates = rest_jacobian(cell, params, n_in, steps)
        return {"jac": jac, "rest_residual": residual} | {f"gate_{k}": v for k, v in gates.items()}

    out = jax.tree.map(np.asarray, jax.jit(jax.vmap(jax.vmap(one)))(snapshots))
    return {"lambda": spectral_radius(out.pop("jac"))} | out


def separability(cell: Any, params: Any, x: jax.Array, y: jax.Array, start: int | jax.Array = 0,
                 ridge: float = 1e-12) -> jax.Array:
    """d′ = sqrt(Δμᵀ (Σ + ridge I)⁻¹ Δμ) between classes 0 and 1 of the cell's last output h_T on ``x`` (pooled
    within-class covariance Σ; one unit: |μ1 − μ0| / σ). ``params`` the cell's; ``y`` class labels (0 or 1)."""
    h = run_cell(cell, params, x, start).astype(jnp.float32)
    w1 = (jnp.asarray(y) == 1).astype(jnp.float32)
    w0 = 1.0 - w1
    n0, n1 = jnp.sum(w0), jnp.sum(w1)
    mu0 = jnp.sum(h * w0[:, None], axis=0) / n0
    mu1 = jnp.sum(h * w1[:, None], axis=0) / n1
    centred = h - jnp.where(w1[:, None] > 0, mu1, mu0)
    cov = centred.T @ centred / (n0 + n1 - 2)
    diff = mu1 - mu0
    scale = jnp.maximum(jnp.max(jnp.diag(cov)), 1e-30)
    solved = jnp.linalg.solve(cov + ridge * scale * jnp.eye(cov.shape[0]), diff)
    return jnp.sqrt(jnp.maximum(diff @ solved, 0.0))
