"""Which seeds fail, and why: per-model features of a run's initial and trained parameters.

For every model of a run, :func:`explain_run` regenerates the parameters it started from
(:func:`latchjax.sweep.trainer.initial_params`, exactly what the trainer used) and reads off:

* ``lambda0``: the spectral radius of the Jacobian of the state update s' = F(s, x = 0) at the
  *rest state* s* of the untrained cell, the state it settles to under zero input (found by
  iterating F from the initial carry; for Keras's zero biases s* = 0). The state is the flattened
  carry (h for SimpleRNN and GRU, (h, c) for an LSTM), so this works for any cell and width:

      lambda0 = max |eig(dF/ds (s*))|,   dF/ds by ``jax.jacfwd``.

  Closed forms at Keras init with one unit (``../shared/SPEC.md`` section 6): SimpleRNN
  lambda0 = |w| = 1; LSTM lambda0 = |g(b_f) + U_c / 4| (g the gate activation, U_c the candidate's
  recurrent weight: at h = c = 0 the Jacobian is [[o i U_c, o f], [i U_c, f]] with i = o = 1/2, rank 1);
  GRU (``reset_after=False``) lambda0 = |1/2 + U_h / 4|. For a cell linear in its state (LRU, minGRU, minLSTM,
  S6) or diagonal (IndRNN), lambda0 = max_j |λ_j| of its state matrix at rest; ReLU cells resting at h = 0 (IRNN,
  IndRNN) are linearised on their active branch (ReLU's derivative 1 at 0, :meth:`ZooCell.for_jacobian`), so an
  IRNN starts at lambda0 = 1. ``lambda_final``: the same for the trained model.
* ``rest_residual0`` / ``rest_residual_final``: max |F(s*) - s*|, which is 0 where the iteration
  reached a fixed point (a trained SimpleRNN with w < -1, for instance, oscillates instead).
* ``proto_acc0``: the untrained model's accuracy on the task's noiseless prototypes
  (:mod:`latchjax.core.tasks.prototypes`), the general form of "the readout starts aligned with the latch".
* ``gate_<key>0``: every gate the cell reports (``step_with_gates``) at the rest state, averaged over
  units, with the aliases ``f0, i0, o0`` (LSTM) and ``z0, r0`` (GRU); ``w_in_norm``: the Frobenius
  norm of the input weights.

Every feature of a cell is computed by one jitted program vmapped over lengths and models, so a
run of thousands of models takes seconds. :func:`feature_auc` says how well a feature separates
successes from failures (the AUC with a stratified bootstrap 95% interval).
"""

from __future__ import annotations

import itertools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from latchjax.analysis.dynamics import REST_STEPS as REST_STEPS  # noqa: F401 (public since 0.1.0)
from latchjax.analysis.dynamics import rest_jacobian, spectral_radius
from latchjax.core.cells import make_cell
from latchjax.core.tasks.prototypes import has_prototypes, prototype_accuracy
from latchjax.sweep.config import SweepConfig
from latchjax.sweep.results import DIMS, SweepResult
from latchjax.sweep.trainer import forget_bias_values, initial_params, model_grid

GATE_ALIASES = {"forget": "f0", "input": "i0", "output": "o0", "update": "z0", "reset": "r0"}
ID_COLUMNS = ("cell", "flavor", "units", "length", "lr", "forget_bias", "seed")
BASE_FEATURES = ("lambda0", "lambda_final", "proto_acc0", "w_in_norm", "rest_residual0", "rest_residual_final")


def input_weight_norm(cell_params: Any) -> jax.Array:
    """Frobenius norm of the input weights: ``kernel`` (Keras names) or ``weight_ih`` (PyTorch names);
    NaN for a cell with neither (a Flax cell)."""
    for name in ("kernel", "weight_ih"):
        if isinstance(cell_params, dict) and name in cell_params:
            return jnp.linalg.norm(jnp.asarray(cell_params[name], jnp.float32))
    return jnp.float32(jnp.nan)


def run_initial_params(cfg: SweepConfig, cell: Any) -> list[Any]:
    """The parameters every model of ``cell`` started from, regenerated from the config alone, in the layout
    of ``params.npz``: a list over ``cfg.lengths`` of pytrees whose leading axis runs over (lr, forget_bias,
    seed) flattened. The trainer draws them with the same function (:func:`latchjax.sweep.trainer.initial_params`)
    and the same keys, so they are exactly what it started from."""
    cell = make_cell(cell, cfg.units, cfg.flavor)
    grid = model_grid(cfg, cell)
    keys, fbs = grid.key, grid.forget_bias
    n_in, max_length = cfg.resolved.n_in, max(cfg.lengths)
    per_model = jax.vmap(lambda key, fb, length: initial_params(cell, cfg, key, fb, n_in, length, max_length),
                         in_axes=(0, 0, None))
    program = jax.jit(jax.vmap(per_model, in_axes=(None, None, 0)))
    stacked = jax.tree.map(np.asarray, program(keys, jnp.asarray(fbs), jnp.asarray(cfg.lengths)))
    return [jax.tree.map(lambda a, i=i: a[i], stacked) for i in range(len(cfg.lengths))]


def cell_features(cell: Any, cfg: SweepConfig, final_params: Any | None = None) -> dict[str, np.ndarray]:
    """Features of every model of ``cell`` in ``cfg``: arrays of shape (n_lengths, n_models), models
    flattened (lr, forget_bias, seed) as in ``params.npz``.

    ``final_params`` is the trained pytree with axes (n_lengths, n_models, ...) (``lambda_final`` and
    ``rest_residual_final`` are NaN without it).
    """
    cell = make_cell(cell, cfg.units, cfg.flavor)
    grid = model_grid(cfg, cell)
    keys, fbs = grid.key, grid.forget_bias
    n_in, max_length = cfg.resolved.n_in, max(cfg.lengths)
    lengths = jnp.asarray(cfg.lengths)
    prototypes = has_prototypes(cfg.task)

    def one(key, fb, length, final):
        start = initial_params(cell, cfg, key, fb, n_in, length, max_length)
        jac0, res0, gates = rest_jacobian(cell, start["cell"], n_in)
        out = {"jac0": jac0, "rest_residual0": res0, "w_in_norm": input_weight_norm(start["cell"]),
               "proto_acc0": prototype_accuracy(cell, start, cfg.task, cfg.task_kwargs, cfg.head, length, max_length) if prototypes
               else jnp.float32(jnp.nan)}
        out |= {f"gate_{k}0": v for k, v in gates.items()}
        if final is not None:
            out["jac_final"], out["rest_residual_final"], _ = rest_jacobian(cell, final["cell"], n_in)
        return out

    per_model = jax.vmap(one, in_axes=(0, 0, None, 0 if final_params is not None else None))
    program = jax.jit(jax.vmap(per_model, in_axes=(None, None, 0, 0 if final_params is not None else None)))
    out = {k: np.asarray(v) for k, v in program(keys, jnp.asarray(fbs), lengths, final_params).items()}
    out["lambda0"] = spectral_radius(out.pop("jac0"))
    if "jac_final" in out:
        out["lambda_final"] = spectral_radius(out.pop("jac_final"))
    else:
        out["lambda_final"] = out["rest_residual_final"] = np.full(out["lambda0"].shape, np.nan)
    return out


def explain_run(result: SweepResult, cfg: SweepConfig, threshold: float,
                params: dict[str, dict[int, Any]] | None = None,
                extra: dict[str, dict[str, np.ndarray]] | None = None) -> dict[str, np.ndarray]:
    """The explain table of a run: one entry per model in the order of ``results.csv`` (cell, length, lr,
    forget_bias, seed), as columns (NumPy arrays). ``params[cell][length]`` are the trained parameters
    (``store.load_params``); gate columns a cell does not have are NaN. ``extra[cell]`` adds features of the
    same shape as :func:`cell_features`' (``explain --dynamics``: :func:`latchjax.analysis.learning.dynamics_features`),
    as columns after the base features."""
    c = result.coords
    success = result.success(threshold)
    val_acc = result.final("val_acc")
    info = result.cell_info()
    cells = {cell.name: cell for cell in cfg.resolved.cells}
    per_cell = []
    for name in c["cell"]:
        cell = cells[name]
        final = None
        if params is not None and name in params:
            final = jax.tree.map(lambda *a: np.stack(a), *[params[name][n] for n in cfg.lengths])
        features = cell_features(cell, cfg, final) | (extra or {}).get(name, {})
        per_cell.append((cell, len(forget_bias_values(cfg, cell)), features))
    gate_keys = sorted({k for _, _, f in per_cell for k in f if k.startswith("gate_")})
    extra_keys = list(dict.fromkeys(k for features in (extra or {}).values() for k in features))
    columns = (*ID_COLUMNS, "success", "val_acc", *BASE_FEATURES, *extra_keys, *gate_keys,
               *[alias for key, alias in GATE_ALIASES.items() if f"gate_{key}0" in gate_keys])
    rows: dict[str, list] = {k: [] for k in columns}
    n_seeds = len(c["seed"])
    for idx in itertools.product(*(range(len(c[d])) for d in DIMS[:-1])):
        cell, n_fb, features = per_cell[idx[0]]
        model = (idx[2] * n_fb + min(idx[3], n_fb - 1)) * n_seeds + idx[4]  # flattened (lr, forget_bias, seed)
        values = {"cell": c["cell"][idx[0]], "flavor": info[idx[0]]["flavor"], "units": info[idx[0]]["units"],
                  "length": c["length"][idx[1]], "lr": c["lr"][idx[2]], "forget_bias": c["forget_bias"][idx[3]],
                  "seed": c["seed"][idx[4]], "success": bool(success[idx]), "val_acc": float(val_acc[idx])}
        for key in (*BASE_FEATURES, *extra_keys, *gate_keys):
            values[key] = float(features[key][idx[1], model]) if key in features else np.nan
        for key, alias in GATE_ALIASES.items():
            if alias in rows:
                values[alias] = values[f"gate_{key}0"]
        for key in columns:
            rows[key].append(values[key])
    return {k: np.asarray(v) for k, v in rows.items()}


def feature_names(table: dict[str, np.ndarray]) -> list[str]:
    """The numeric features of an explain table (every column but identifiers, success and val_acc,
    and the gate aliases, which repeat ``gate_*0`` columns)."""
    skip = {*ID_COLUMNS, "success", "val_acc", *GATE_ALIASES.values()}
    return [k for k in table if k not in skip]


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` for ``labels`` (Mann-Whitney: P(score of a success >
    score of a failure) + P(tie) / 2); NaN when a class is empty. NaN scores are dropped."""
    value, _, _ = auc_interval(scores, labels, boots=0)
    return value


def auc_interval(scores: np.ndarray, labels: np.ndarray, boots: int = 1000, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float, float]:
    """AUC and a percentile bootstrap interval, resampling successes and failures separately (so every
    resample has both). Vectorised: scores become integer ranks, and the count of failures below each
    success is read off a per-resample cumulative histogram."""
    scores, labels = np.asarray(scores, np.float64), np.asarray(labels, bool)
    keep = ~np.isnan(scores)
    scores, labels = scores[keep], labels[keep]
    codes = np.unique(scores, return_inverse=True)[1].ravel()
    pos, neg = codes[labels], codes[~labels]
    if len(pos) == 0 or len(neg) == 0:
        return np.nan, np.nan, np.nan
    k = int(codes.max()) + 1

    def area(p: np.ndarray, n: np.ndarray) -> np.ndarray:  # p (B, n1), n (B, n0) -> (B,)
        rows = np.arange(len(n))[:, None]
        hist = np.bincount((rows * k + n).ravel(), minlength=len(n) * k).reshape(len(n), k)
        below = np.cumsum(hist, axis=1) - hist
        wins = np.take_along_axis(below, p, axis=1) + 0.5 * np.take_along_axis(hist, p, axis=1)
        return wins.sum(axis=1) / (p.shape[1] * n.shape[1])

    value = float(area(pos[None], neg[None])[0])
    if boots == 0:
        return value, np.nan, np.nan
    rng = np.random.default_rng(seed)
    p = pos[rng.integers(0, len(pos), (boots, len(pos)))]
    n = neg[rng.integers(0, len(neg), (boots, len(neg)))]
    low, high = np.percentile(area(p, n), [50 * (1 - level), 50 * (1 + level)])
    return value, float(low), float(high)


SUMMARY_COLUMNS = ("cell", "length", "lr", "forget_bias", "feature", "n", "successes", "auc", "ci_low", "ci_high")


def summary_rows(table: dict[str, np.ndarray], features: list[str], boots: int = 1000) -> list[list]:
    """One row per (cell, length, lr, forget_bias, feature the cell has): the feature's AUC for success
    with a bootstrap 95% interval (NaN where every model succeeded or every model failed)."""
    keys = np.stack([table[k].astype(str) for k in ("cell", "length", "lr", "forget_bias")], axis=1)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    rows = []
    for group in np.argsort(first):  # in table order
        members = inverse.ravel() == group
        ok = table["success"][members].astype(bool)
        for feature in features:
            if np.all(np.isnan(table[feature][members].astype(np.float64))):
                continue  # a feature this cell does not have (a gate of another cell)
            value, low, high = auc_interval(table[feature][members].astype(np.float64), ok, boots)
            i = np.flatnonzero(members)[0]
            rows.append([table["cell"][i], table["length"][i], table["lr"][i], table["forget_bias"][i], feature,
                         int(members.sum()), int(ok.sum()), value, low, high])
    return rows


def overview(table: dict[str, np.ndarray]) -> list[str]:
    """One line per cell: median lambda0, and the success frequency overall and of aligned
    (``proto_acc0 > 1/2``) and reversed (``< 1/2``) starts."""
    lines = []
    for cell in dict.fromkeys(table["cell"].tolist()):
        mine = table["cell"] == cell
        ok = table["success"][mine].astype(bool)
        acc = table["proto_acc0"][mine].astype(np.float64)
        parts = [f"{name} {ok[pick].mean():.2f} ({pick.sum()})" if pick.any() else f"{name} - (0)"
                 for name, pick in (("aligned", acc > 0.5), ("reversed", acc < 0.5))]
        lines.append(f"{cell}: lambda0 median {np.nanmedian(table['lambda0'][mine].astype(np.float64)):.3g}; "
                     f"success {ok.mean():.2f} overall, {', '.join(parts)}")
    return lines
