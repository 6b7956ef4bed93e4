"""The results directory: what a sweep writes and what notebooks and ``latchjax plot`` read.

Layout (the contract other tools rely on)::

    DIR/config.json    the fully resolved settings
    DIR/meta.json      package versions, backend and devices, start/end time, compile/run seconds
    DIR/results.npz    every metric array with its axes (exact; what ``plot`` and ``summary`` read)
    DIR/results.csv    one row per model (final epoch)
    DIR/history.csv    one row per model per epoch
    DIR/summary.csv    one row per (cell, length, lr, forget_bias): success frequency, Wilson 95% CI
    DIR/figures/       see :mod:`latchjax.plots`

Files are written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latchjax.results import DIMS, SweepResult

MODEL_COLUMNS = ("cell", "flavor", "units", "length", "lr", "forget_bias", "seed")
FINAL_COLUMNS = ("val_acc", "val_loss", "train_acc", "train_loss", "diverged", "success")
SUMMARY_COLUMNS = ("n", "successes", "success_freq", "ci_low", "ci_high", "mean_val_acc", "std_val_acc")


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write to ``path.tmp`` then rename: the file is either absent or whole."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def csv_text(header: tuple[str, ...], rows) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _fmt(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return "nan" if np.isnan(value) else f"{float(value):.6g}"
    return value


def save_result(result: SweepResult, path: Path) -> None:
    """The metric arrays and their coordinates, losslessly, in one ``.npz``."""
    buf = io.BytesIO()
    np.savez_compressed(buf, coords=json.dumps(result.coords), timing=json.dumps(result.timing), **result.metrics)
    atomic_write(path, buf.getvalue())


def _flatten(tree: Any, prefix: str, out: dict) -> None:
    if isinstance(tree, dict):
        for key, value in tree.items():
            _flatten(value, f"{prefix}/{key}", out)
    else:
        out[prefix] = np.asarray(tree)


def save_params(result: SweepResult, path: Path) -> None:
    """Trained parameters as ``cell/length/...`` arrays; the leading axis runs over (lr, forget_bias, seed)
    flattened (forget_bias has one value for cells without a forget-gate bias)."""
    arrays: dict[str, np.ndarray] = {}
    for cell, per_length in result.params.items():
        for length, tree in zip(result.coords["length"], per_length):
            _flatten(tree, f"{cell}/{length}", arrays)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write(path, buf.getvalue())


def load_params(path: Path) -> dict[str, dict[int, dict]]:
    """``params[cell][length]``: the pytree :func:`save_params` wrote."""
    params: dict = {}
    with np.load(path) as data:
        for name in data.files:
            cell, length, *keys = name.split("/")
            node = params.setdefault(cell, {}).setdefault(int(length), {})
            for key in keys[:-1]:
                node = node.setdefault(key, {})
            node[keys[-1]] = data[name]
    return params


def load_result(path: Path) -> SweepResult:
    with np.load(path) as data:
        coords = json.loads(str(data["coords"]))
        timing = json.loads(str(data["timing"]))
        metrics = {k: data[k] for k in data.files if k not in ("coords", "timing")}
    return SweepResult(coords, metrics, {}, timing)


def write_tables(result: SweepResult, settings: dict, out: Path, threshold: float) -> None:
    """``results.csv``, ``history.csv`` and ``summary.csv`` from a result."""
    c = result.coords
    success = result.success(threshold)
    final = {name: result.final(name) for name in ("val_acc", "val_loss", "train_acc", "train_loss")}
    model_rows, history_rows = [], []
    grid = itertools.product(*(range(len(c[d])) for d in DIMS[:-1]))
    cells = [_cell_of(name, settings) for name in c["cell"]]
    for idx in grid:
        cell = cells[idx[0]]
        key = [c["cell"][idx[0]], cell.flavor, cell.units, c["length"][idx[1]], c["lr"][idx[2]],
               c["forget_bias"][idx[3]], c["seed"][idx[4]]]
        values = [final[n][idx] for n in final] + [result.diverged[idx], success[idx]]
        model_rows.append([_fmt(v) for v in key + values])
        for e, epoch in enumerate(c["epoch"]):
            history_rows.append([_fmt(v) for v in key + [epoch] + [result.metrics[n][idx + (e,)] for n in final]])
    atomic_write(out / "results.csv", csv_text(MODEL_COLUMNS + FINAL_COLUMNS, model_rows))
    atomic_write(out / "history.csv", csv_text(MODEL_COLUMNS + ("epoch", *final), history_rows))
    atomic_write(out / "summary.csv", csv_text(("cell", "length", "lr", "forget_bias") + SUMMARY_COLUMNS,
                                           summary_rows(result, threshold)))


def _cell_of(name: str, settings: dict):
    """The cell a result's name stands for (a spec such as ``lstm:units=10`` sets its own units)."""
    from latchjax.cells import make_cell

    try:
        return make_cell(name, settings["units"], settings["flavor"])
    except ValueError:  # a cell object's name (e.g. flax.GRUCell) is not a spec
        return type("Named", (), {"flavor": settings["flavor"], "units": settings["units"]})


def summary_rows(result: SweepResult, threshold: float) -> list[list]:
    """One row per (cell, length, lr, forget_bias) with success statistics over seeds."""
    c = result.coords
    freq = result.success_frequency(threshold)
    val = result.final("val_acc")
    mean, std = np.nanmean(val, axis=-1), np.nanstd(val, axis=-1)
    rows = []
    for idx in itertools.product(*(range(len(c[d])) for d in DIMS[:4])):
        key = [c["cell"][idx[0]], c["length"][idx[1]], c["lr"][idx[2]], c["forget_bias"][idx[3]]]
        stats = [freq[k][idx] for k in ("n", "successes", "success_freq", "ci_low", "ci_high")] + [mean[idx], std[idx]]
        rows.append([_fmt(v) for v in key + stats])
    return rows


@dataclass
class Run:
    """A saved run, as :func:`load` returns it: tables as pandas DataFrames, plus config and meta."""

    results: Any
    history: Any
    summary: Any
    config: dict
    meta: dict
    path: Path


def load(path: str | os.PathLike) -> Run:
    """Read a results directory into pandas DataFrames (needs ``pip install 'latchjax[notebook]'``)."""
    try:
        import pandas as pd
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("latchjax.load needs pandas: pip install 'latchjax[notebook]'") from err
    path = Path(path)
    tables = {name: pd.read_csv(path / f"{name}.csv") for name in ("results", "history", "summary")}
    for column in ("diverged", "success"):
        tables["results"][column] = tables["results"][column].astype(bool)
    return Run(tables["results"], tables["history"], tables["summary"],
               json.loads((path / "config.json").read_text()), json.loads((path / "meta.json").read_text()), path)
