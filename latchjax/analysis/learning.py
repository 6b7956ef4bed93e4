"""``latchjax explain DIR --dynamics``: what training did, per model of a run.

* Columns of ``explain.csv`` (:func:`dynamics_features`): ``n_stable_final``, the stable zero-input fixed points of
  the trained model (a latch holding a bit has two), ``n_cycles_final``, its stable period-2 orbits (a SimpleRNN with
  w < -1 holds a bit in one), ``saddle_final``, the largest |eigenvalue| of the fixed point
  between the two most visited ones (NaN with fewer than two), and ``dprime0``, the untrained model's class
  separability d′ of its final state on the run's validation (or test) set, for a binary task read at the last
  step (NaN for any other output). See :mod:`latchjax.analysis.dynamics`.
* ``dynamics.csv`` (:func:`dynamics_rows`) for a run swept with ``--snapshots``: one row per model and round
  (epoch, or evaluation of online data; round 0 is the initialisation, regenerated from the config) with λ, the rest state's residual and gates, and, for a model of at most
  :data:`MAX_SCALARS` parameters (one-unit cells), every parameter by name: ``cell.bias[f]`` is an LSTM's forget
  bias b_f, ``cell.recurrent_kernel[c]`` its U_c, ``head.kernel[1]`` the read-out's weight to class 1.
"""

from __future__ import annotations

import itertools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from latchjax.analysis.dynamics import landscape_of_attractors, separability, trajectory
from latchjax.analysis.explain import ID_COLUMNS, run_initial_params
from latchjax.sweep.config import SweepConfig
from latchjax.sweep.results import SweepResult
from latchjax.sweep.runner import as_data, draw_data
from latchjax.sweep.trainer import forget_bias_values

FEATURES = ("n_stable_final", "n_cycles_final", "saddle_final", "dprime0")
MAX_SCALARS = 64


def _flat_models(tree: Any) -> tuple[Any, tuple[int, int]]:
    """(lengths, models, ...) leaves as (lengths * models, ...), and the two sizes."""
    lead = jax.tree.leaves(tree)[0].shape[:2]
    return jax.tree.map(lambda a: np.reshape(a, (-1, *a.shape[2:])), tree), lead


def dprime0(cell: Any, cfg: SweepConfig) -> np.ndarray:
    """d′ of every untrained model at every length, ``(n_lengths, n_models)``: NaN unless the task has two classes
    read at the last step. Each model is scored on the data it was validated (or, online, tested) on."""
    out = cfg.output
    starts = run_initial_params(cfg, cell)
    n_models = jax.tree.leaves(starts[0])[0].shape[0]
    if not (out.kind == "class" and out.size == 2 and not out.every):
        return np.full((len(cfg.lengths), n_models), np.nan)
    per_seed = cfg.data == "per-seed"
    data = as_data(draw_data(cfg, cfg.lengths, tuple(range(cfg.seeds)) if per_seed else None), cfg,
                   tuple(range(cfg.seeds)))
    width = data.x_val.shape[-2]
    seed_of_model = np.arange(n_models) % cfg.seeds  # models run (lr, forget_bias, seed), seed fastest
    rows = []
    for i, length in enumerate(cfg.lengths):
        x, y = data.x_val[i], data.y_val[i]
        start = width - length if data.start_val is None else data.start_val[i]
        if per_seed:
            score = jax.vmap(lambda p, xs, ys, st: separability(cell, p, xs, ys, st),
                             in_axes=(0, 0, 0, 0 if data.start_val is not None else None))
            pick = jnp.asarray(seed_of_model)
            rows.append(score(starts[i]["cell"], x[pick], y[pick], start[pick] if data.start_val is not None
                              else start))
        else:
            rows.append(jax.vmap(lambda p: separability(cell, p, x, y, start))(starts[i]["cell"]))
    return np.asarray(jnp.stack(rows), np.float64)


def dynamics_features(result: SweepResult, cfg: SweepConfig, params: dict[str, dict[int, Any]]) -> dict[str, dict]:
    """``{cell name: {feature: (n_lengths, n_models)}}`` for :data:`FEATURES`, in ``params.npz``'s model order."""
    cells = {cell.name: cell for cell in cfg.resolved.cells}
    n_in = cfg.resolved.n_in
    features = {}
    for name in result.coords["cell"]:
        cell = cells[name]
        final = jax.tree.map(lambda *a: np.stack(a), *[params[name][n] for n in cfg.lengths])
        flat, (n_lengths, n_models) = _flat_models(final["cell"])
        found = landscape_of_attractors(cell, flat, n_in)
        features[name] = {"n_stable_final": found["n_stable"].reshape(n_lengths, n_models).astype(float),
                          "n_cycles_final": found["n_cycles"].reshape(n_lengths, n_models).astype(float),
                          "saddle_final": found["saddle"].reshape(n_lengths, n_models),
                          "dprime0": dprime0(cell, cfg)}
    return features


def _scalar_names(cell: Any, part: str, name: str, shape: tuple[int, ...]) -> list[str]:
    """``part.name[i,j]`` per scalar; an axis as long as a one-unit gated cell's blocks is named by its blocks
    (``cell.bias[f]``)."""
    blocks = getattr(cell, "blocks", ()) if part == "cell" and getattr(cell, "units", 0) == 1 else ()
    axes = [list(blocks) if len(blocks) > 1 and size == len(blocks) else [str(i) for i in range(size)]
            for size in shape]
    return [f"{part}.{name}[{','.join(index)}]" if index else f"{part}.{name}"
            for index in itertools.product(*axes)]


def dynamics_rows(result: SweepResult, cfg: SweepConfig, snapshots: dict[str, dict[int, Any]]
                  ) -> tuple[list[str], list[list]]:
    """``dynamics.csv``: columns and rows, one per (cell, length, model, round)."""
    c = result.coords
    info = {name: i for i, name in enumerate(c["cell"])}
    cells = {cell.name: cell for cell in cfg.resolved.cells}
    per_cell, gate_keys, scalar_names = {}, set(), {}
    for name in c["cell"]:
        cell = cells[name]
        starts = run_initial_params(cfg, cell)  # round 0: the parameters training started from
        per_length = [jax.tree.map(lambda s, r: np.concatenate([np.asarray(s)[:, None], r], axis=1), start,
                                   snapshots[name][n]) for start, n in zip(starts, cfg.lengths)]
        snaps = jax.tree.map(lambda *a: np.stack(a), *per_length)
        flat, (n_lengths, n_models) = _flat_models(snaps)
        traj = trajectory(cell, flat["cell"], cfg.resolved.n_in)
        leaves = {f"{part}.{k}": np.asarray(v) for part in ("cell", "head") for k, v in flat[part].items()}
        n_scalars = sum(int(np.prod(v.shape[2:])) for v in leaves.values())
        scalars = {}
        if n_scalars <= MAX_SCALARS:
            for key, value in leaves.items():
                part, pname = key.split(".", 1)
                names = _scalar_names(cell, part, pname, value.shape[2:])
                for j, column in enumerate(names):
                    scalars[column] = value.reshape(*value.shape[:2], -1)[..., j]
        per_cell[name] = (cell, n_lengths, n_models, traj, scalars)
        gate_keys |= {k for k in traj if k.startswith("gate_")}
        scalar_names |= dict.fromkeys(scalars)
    columns = [*ID_COLUMNS, "round", "lambda", "rest_residual", *sorted(gate_keys), *scalar_names]
    rows = []
    for name, (cell, _, n_models, traj, scalars) in per_cell.items():
        fbs = forget_bias_values(cfg, cell)
        flavor = result.cell_info()[info[name]]["flavor"]
        for (i_len, length), model in itertools.product(enumerate(cfg.lengths), range(n_models)):
            i_lr, rest = divmod(model, len(fbs) * cfg.seeds)
            i_fb, seed = divmod(rest, cfg.seeds)
            flat = i_len * n_models + model
            for r in range(traj["lambda"].shape[1]):
                values = {"cell": name, "flavor": flavor, "units": cell.units, "length": length,
                          "lr": cfg.lrs[i_lr], "forget_bias": fbs[i_fb], "seed": seed, "round": r,
                          "lambda": traj["lambda"][flat, r], "rest_residual": traj["rest_residual"][flat, r]}
                values |= {k: traj[k][flat, r] for k in gate_keys if k in traj}
                values |= {k: v[flat, r] for k, v in scalars.items()}
                rows.append([values.get(k, np.nan) for k in columns])
    return columns, rows
