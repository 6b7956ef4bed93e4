"""Reading a finished run in a notebook: its tables as pandas DataFrames (:func:`load`), its arrays as an
``xarray.Dataset`` (:func:`load_dataset`) or a :class:`~latchjax.sweep.results.SweepResult` (:func:`load_result`).
Runs written by older versions are upgraded as they are read (:mod:`latchjax.rundir.upgrade`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latchjax.rundir.upgrade import upgrade_coords
from latchjax.sweep.results import SweepResult


def load_result(path: Path) -> SweepResult:
    """The :class:`SweepResult` saved in ``results.npz`` (upgraded by :func:`~latchjax.rundir.upgrade.upgrade_coords`
    with the ``config.json`` beside it where an older version wrote it)."""
    path = Path(path)
    with np.load(path) as data:
        coords = json.loads(str(data["coords"]))
        timing = json.loads(str(data["timing"]))
        metrics = {k: data[k] for k in data.files if k not in ("coords", "timing")}
    if "cell_info" not in coords:
        config = path.parent / "config.json"
        coords = upgrade_coords(coords, json.loads(config.read_text()) if config.is_file() else {})
    return SweepResult(coords, metrics, {}, timing)


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


def load_dataset(path: str | os.PathLike):
    """A run's results as an ``xarray.Dataset`` (needs ``pip install 'latchjax[notebook]'``): every metric
    over ``(cell, length, lr, forget_bias, seed, epoch)``, ``diverged`` and ``success`` (with the run's
    threshold), the cells' kind, flavor, units and has_forget_bias as coordinates along ``cell``, and the
    run's scalar settings as attributes. ``path``: the results directory (or its ``results.npz``).

    Example: ``load_dataset(DIR).success.sel(cell="lstm").mean("seed")``.
    """
    path = Path(path)
    npz = path if path.suffix == ".npz" else path / "results.npz"
    if not npz.is_file():
        raise FileNotFoundError(f"{npz}: no results.npz (not a finished latchjax results directory)")
    config_path = npz.parent / "config.json"
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    ds = load_result(npz).to_xarray(config.get("threshold", 0.9))
    ds.attrs.update({k: v for k, v in config.items() if isinstance(v, (str, int, float)) and k != "threshold"})
    ds.attrs["path"] = str(npz.parent)
    return ds
