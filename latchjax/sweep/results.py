"""Sweep results as NumPy arrays with named axes, and the statistics read off them.

Every metric array has the axes ``DIMS = (cell, length, lr, forget_bias, seed, epoch)``;
``diverged`` lacks the epoch axis. ``coords`` gives the value along each axis, and ``coords["cell_info"]``
what each cell is (:data:`CELL_INFO`: kind, flavor, units, has_forget_bias), aligned with
``coords["cell"]``. :meth:`SweepResult.to_xarray` offers it all as an ``xarray.Dataset``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from latchjax.core.stats import Horizon, clopper_pearson, km_medians, memory_horizon, wilson_interval
from latchjax.core.tasks.output import describe_rule, task_baseline

DIMS = ("cell", "length", "lr", "forget_bias", "seed", "epoch")
CELL_INFO = ("kind", "flavor", "units", "has_forget_bias")
BINARY_OUTPUT = {"kind": "class", "size": 2, "rule": None}
RULE_METRICS = ("test_errors", "test_max_abs_error", "loss_ratio")  # what the success rules record
# a logistic curve has two parameters: with two lengths it passes through both points whatever they are, so a
# horizon needs a third to be more than an interpolation
MIN_HORIZON_LENGTHS = 3


def cell_info(cell) -> dict[str, Any]:
    """What a result records about a cell (an ``RNNCell``, ``KerasCell``, ``FlaxCell``, ``EquinoxCell``...): its
    ``kind`` (a Flax or Equinox cell: its name, ``flax.GRUCell``, ``equinox.LSTMCell``), ``flavor``, ``units`` and
    ``has_forget_bias``."""
    return {"kind": str(getattr(cell, "kind", cell.name)), "flavor": str(cell.flavor), "units": int(cell.units),
            "has_forget_bias": bool(cell.has_forget_bias)}


def _xarray():
    try:
        import xarray
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("latchjax's xarray datasets need xarray: pip install 'latchjax[notebook]'") from err
    return xarray


@dataclass
class SweepResult:
    """Per-model, per-epoch metrics of a sweep.

    ``metrics[name]`` for name in ``train_loss, train_acc, val_loss, val_acc`` has shape
    ``(cell, length, lr, forget_bias, seed, epoch)``; ``metrics["diverged"]`` has no epoch axis.
    ``params`` holds each cell's trained parameters (a list over lengths of pytrees whose
    leading axis runs over (lr, forget_bias, seed) flattened). ``timing`` has compile and run
    seconds per cell.
    """

    coords: dict[str, list]
    metrics: dict[str, np.ndarray]
    params: dict[str, Any] = field(default_factory=dict)
    timing: dict[str, dict[str, float]] = field(default_factory=dict)
    # with ``snapshots``: each cell's parameters after every round, as ``params`` with a round axis after the models'
    snapshots: dict[str, Any] = field(default_factory=dict)

    dims = DIMS

    @classmethod
    def from_cell(cls, cell, cfg, metrics: dict[str, np.ndarray], params, compile_s: float, run_s: float):
        """The result of one cell (a cell object) of ``cfg``."""
        name = cell.name
        coords = {
            "cell": [name],
            "cell_info": [cell_info(cell)],
            "length": list(cfg.lengths),
            "lr": [float(v) for v in cfg.lrs],
            "forget_bias": [float(v) for v in cfg.forget_biases],
            "seed": list(range(cfg.seeds)),
            "epoch": list(range(1, cfg.rounds + 1)),
        }
        if cfg.online or cfg.stop_at_success:  # when each evaluation happened, in training sequences seen
            coords["sequences"] = cfg.sequences_seen()
        output, rule = cfg.output, cfg.rule
        if not output.binary or rule is not None:  # a plain binary run's coords stay as they always were
            coords["output"] = {"kind": output.kind, "size": output.size,
                                "rule": None if rule is None else describe_rule(rule, cfg.threshold)}
            if output.every:
                coords["output"]["at"] = output.at
        baselines = [task_baseline(cfg.resolved.task, n) for n in cfg.lengths]
        if any(b is not None for b in baselines):  # the task's memoryless baseline loss at each length
            coords["baseline"] = [np.nan if b is None else b for b in baselines]
        return cls(coords, {k: v[None] for k, v in metrics.items()}, {name: params},
                   {name: {"compile_s": compile_s, "run_s": run_s}})

    def output_info(self) -> dict[str, Any]:
        """What the run's task declared (:mod:`latchjax.core.tasks.output`): ``kind`` (``class`` or ``regress``),
        ``size`` and ``rule`` (the success rule in words; ``None``: final val accuracy >= the threshold).
        Recorded in ``coords["output"]`` only for tasks that declare more than one binary class."""
        return self.coords.get("output", BINARY_OUTPUT)

    @property
    def classifies(self) -> bool:
        """Whether the run's models classify (and so have accuracies): not a regression."""
        return self.output_info()["kind"] != "regress"

    @property
    def timed(self) -> bool:
        """Whether the run records when each evaluation happened (``coords["sequences"]``: online data or
        ``stop_at_success``), so that steps to success can be read off its history."""
        return "sequences" in self.coords

    def success_history(self, threshold: float = 0.9) -> np.ndarray:
        """Whether the success rule held at each evaluation: shape (cell, length, lr, forget_bias, seed, epoch)."""
        if "success" in self.metrics:
            return self.metrics["success"] > 0.5
        return np.nan_to_num(self.metrics["val_acc"], nan=-1.0) >= threshold

    def steps_to_success(self, threshold: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """``(sequences, observed)``, shape (cell, length, lr, forget_bias, seed): the training sequences a model
        had seen at the first evaluation where its success rule held (``observed``), or, for a model that never
        succeeded within the budget or diverged, the sequences of its whole training (censored: ``observed``
        false). Needs a timed run (:attr:`timed`)."""
        if not self.timed:
            raise ValueError("steps to success need a run that records when it evaluated: online data or "
                             "--stop-at-success")
        held = self.success_history(threshold) & ~self.diverged[..., None]
        seen = np.asarray(self.coords["sequences"], np.float64)
        observed = held.any(axis=-1)
        first = np.argmax(held, axis=-1)
        return np.where(observed, seen[first], seen[-1]), observed

    def median_steps_to_success(self, threshold: float = 0.9) -> dict[str, np.ndarray]:
        """Per point (cell, length, lr, forget_bias): the Kaplan-Meier median of :meth:`steps_to_success` over
        seeds with Brookmeyer and Crowley's 95% interval (:func:`latchjax.core.stats.km_median`; models that never
        succeeded are censored at the budget, not dropped; ``inf``: not reached within the budget)."""
        times, observed = self.steps_to_success(threshold)
        median, low, high = km_medians(times, observed)
        return {"median_sequences": median, "median_low": low, "median_high": high}

    def rule_metrics(self) -> list[str]:
        """The per-epoch metrics of the task's success rule (e.g. ``test_errors``), in the order recorded."""
        return [name for name in self.metrics if name in RULE_METRICS]

    @classmethod
    def concat(cls, parts: list[SweepResult]) -> SweepResult:
        """Stack results of different cells (same grid otherwise) along the cell axis."""
        coords = dict(parts[0].coords, cell=[c for p in parts for c in p.coords["cell"]],
                      cell_info=[i for p in parts for i in p.cell_info()])
        metrics = {k: np.concatenate([p.metrics[k] for p in parts]) for k in parts[0].metrics}
        params = {k: v for p in parts for k, v in p.params.items()}
        timing = {k: v for p in parts for k, v in p.timing.items()}
        snapshots = {k: v for p in parts for k, v in p.snapshots.items()}
        return cls(coords, metrics, params, timing, snapshots)

    def cell_info(self) -> list[dict[str, Any]]:
        """:data:`CELL_INFO` of every cell, aligned with ``coords["cell"]``."""
        return self.coords["cell_info"]

    def to_xarray(self, threshold: float = 0.9):
        """An ``xarray.Dataset`` (needs ``pip install 'latchjax[notebook]'``): the metrics over
        :data:`DIMS`, ``diverged`` and ``success`` (final val accuracy >= ``threshold``, not diverged) without
        the epoch axis; the cells' :data:`CELL_INFO` are coordinates along ``cell``, e.g.
        ``ds.success.sel(cell="lstm").mean("seed")`` or ``ds.success.where(ds.has_forget_bias, drop=True)``. A run of
        a task that declares its output has ``output`` and ``success_rule`` attributes, and ``success`` is its
        rule's (a regression's accuracies are NaN)."""
        xr = _xarray()
        coords: dict[str, Any] = {d: np.asarray(self.coords[d]) for d in DIMS}
        info = self.cell_info()
        for key in CELL_INFO:
            coords[key] = ("cell", np.asarray([i[key] for i in info]))
        if self.timed:  # when each evaluation happened
            coords["sequences"] = ("epoch", np.asarray(self.coords["sequences"]))
        if "baseline" in self.coords:  # the task's memoryless baseline loss
            coords["baseline"] = ("length", np.asarray(self.coords["baseline"], np.float64))
        data = {name: (DIMS[: arr.ndim], arr) for name, arr in self.metrics.items() if name != "success"}
        data["success"] = (DIMS[:-1], self.success(threshold))
        attrs: dict[str, Any] = {"threshold": float(threshold)}
        if "output" in self.coords:  # a task that declares more than one binary class
            info = self.output_info()
            attrs |= {"output": f"{info['kind']} {info['size']}", "success_rule": info["rule"] or
                      f"final val acc >= {threshold:g}"}
        return xr.Dataset(data, coords=coords, attrs=attrs)

    def final(self, name: str) -> np.ndarray:
        """The last epoch's value of a metric: shape (cell, length, lr, forget_bias, seed)."""
        return self.metrics[name][..., -1]

    @property
    def diverged(self) -> np.ndarray:
        return self.metrics["diverged"]

    def success(self, threshold: float = 0.9) -> np.ndarray:
        """Final validation accuracy >= threshold; a diverged model is never a success. A run of a task with its
        own success rule (:mod:`latchjax.core.tasks.output`) recorded each model's ``success`` as it trained:
        that is used instead, and ``threshold`` is ignored."""
        return self.success_history(threshold)[..., -1] & ~self.diverged

    def success_frequency(self, threshold: float = 0.9) -> dict[str, np.ndarray]:
        """Success counts, frequency, Wilson's 95% interval (``ci_low, ci_high``) and Clopper and Pearson's exact one
        (``cp_low, cp_high``) over seeds: shape (cell, length, lr, forget_bias)."""
        ok = self.success(threshold)
        n = np.full(ok.shape[:-1], ok.shape[-1])
        k = ok.sum(axis=-1)
        low, high = wilson_interval(k, n)
        cp_low, cp_high = clopper_pearson(k, n)
        return {"n": n, "successes": k, "success_freq": k / n, "ci_low": low, "ci_high": high, "cp_low": cp_low,
                "cp_high": cp_high}

    def memory_horizons(self, threshold: float = 0.9, boot: int = 1000) -> dict[tuple[int, int, int], Horizon]:
        """The memory horizon (T50, T90 with 95% bootstrap intervals, :func:`latchjax.core.stats.memory_horizon`) of
        every (cell, lr, forget_bias), keyed by their indices: success on log T over every length, resampling seeds
        clustered (repeat i's initialisation is the same at every length). Needs :data:`MIN_HORIZON_LENGTHS`."""
        lengths = self.coords["length"]
        if len(lengths) < MIN_HORIZON_LENGTHS:
            raise ValueError(f"a memory horizon needs at least {MIN_HORIZON_LENGTHS} lengths; this run has "
                             f"{len(lengths)}")
        ok = self.success(threshold)
        c = self.coords
        return {(i, j, k): memory_horizon(lengths, ok[i, :, j, k], boot=boot)
                for i in range(len(c["cell"])) for j in range(len(c["lr"])) for k in range(len(c["forget_bias"]))}

    def sel(self, name: str, **where) -> np.ndarray:
        """A metric indexed by coordinate values, e.g. ``sel("val_acc", cell="lstm", length=100)``."""
        arr = self.metrics[name]
        index = []
        for dim in self.dims[: arr.ndim]:
            index.append(self.coords[dim].index(where.pop(dim)) if dim in where else slice(None))
        if where:
            raise ValueError(f"sel: unknown dimension(s) {', '.join(where)}; allowed: {', '.join(self.dims)}")
        return arr[tuple(index)]
