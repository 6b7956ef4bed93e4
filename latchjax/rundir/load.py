"""Reading a finished run in a notebook: its tables as pandas DataFrames (:func:`load`), its arrays as an
``xarray.Dataset`` (:func:`load_dataset`) or a :class:`~latchjax.sweep.results.SweepResult` (:func:`load_result`).
Runs written by older versions are upgraded as they are read (:mod:`latchjax.rundir.upgrade`).

What is read is checked as it is read: a ``results.npz`` whose metrics do not fit its coordinates, a
``config.json`` without the settings the commands read (:func:`check_config`), settings that do not rebuild the
run (:func:`run_settings`) are one line (:class:`~latchjax.rundir.lock.RunDirError`) naming the file."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latchjax.rundir.files import damaged, read_json, read_npz
from latchjax.rundir.lock import RunDirError
from latchjax.rundir.upgrade import upgrade_coords
from latchjax.sweep.results import CELL_INFO, DIMS, SweepResult

# the metrics every results.npz holds (``diverged`` without the epoch axis)
METRICS = ("train_loss", "train_acc", "val_loss", "val_acc", "diverged")
# the settings the commands that read a run take from its config.json, and what each must be
CONFIG_KEYS = {"preset": "a name", "task": "a name", "cells": "a list of cell specs", "flavor": "a name",
               "units": "an integer >= 1", "split": "a name", "epochs": "an integer >= 1",
               "threshold": "a number in (0, 1]"}
# online data (config "data" online / online-per-seed) trains a budget of sequences instead of epochs over a split
ONLINE_KEYS = {"budget": "an integer >= 1"}


def required_keys(config: dict) -> dict[str, str]:
    """The settings a run's config.json must hold (:data:`CONFIG_KEYS`; online data: its budget, no split or
    epochs)."""
    if str(config.get("data", "")).startswith("online"):
        return {k: v for k, v in CONFIG_KEYS.items() if k not in ("split", "epochs")} | ONLINE_KEYS
    return CONFIG_KEYS


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _config_value_ok(key: str, value: Any) -> bool:
    if key == "cells":
        return isinstance(value, list) and len(value) > 0 and all(isinstance(c, str) and c for c in value)
    if key in ("units", "epochs", "budget"):
        return _is_int(value) and value >= 1
    if key == "threshold":
        return _is_number(value) and math.isfinite(value) and 0 < value <= 1
    return isinstance(value, str) and bool(value)


def check_config(config: dict, path: Path) -> dict:
    """``config`` (read from ``path``) if it has every setting of :data:`CONFIG_KEYS` as it should be; one line
    (:class:`RunDirError`) naming the file and the setting otherwise."""
    keys = required_keys(config)
    for key in keys:
        if key not in config:
            raise damaged(path, f"no {key!r} (incomplete; {key} must be {keys[key]})")
        _check_value(config, key, path, keys)
    return config


def _check_value(config: dict, key: str, path: Path, keys: dict[str, str] = CONFIG_KEYS) -> None:
    if not _config_value_ok(key, config[key]):
        raise damaged(path, f"{key!r} is {json.dumps(config[key])[:60]}, not {keys[key]}")


def _scalar_json(arrays: dict[str, np.ndarray], key: str, path: Path) -> Any:
    value = arrays[key]
    if value.shape != () or value.dtype.kind not in "US":
        raise damaged(path, f"{key} is an array of {value.dtype} and shape {value.shape}, not JSON text")
    try:
        return json.loads(str(value))
    except ValueError as err:
        raise damaged(path, f"{key} is not JSON ({' '.join(str(err).split())})") from None


def _check_coords(coords: Any, path: Path) -> None:
    if not isinstance(coords, dict):
        raise damaged(path, f"coords is a {type(coords).__name__}, not an object of axes")
    missing = [d for d in DIMS if d not in coords]
    if missing:
        raise damaged(path, f"coords has no {', '.join(missing)} axis (incomplete)")
    kinds = {"cell": (str, "names"), "length": (int, "integers"), "seed": (int, "integers"),
             "epoch": (int, "integers"), "lr": (float, "numbers"), "forget_bias": (float, "numbers")}
    for dim in DIMS:
        values, (kind, what) = coords[dim], kinds[dim]
        ok = isinstance(values, list) and len(values) > 0 and all(
            isinstance(v, str) if kind is str else _is_int(v) if kind is int else _is_number(v) for v in values)
        if not ok:
            raise damaged(path, f"coords[{dim!r}] is {json.dumps(values)[:60]}, not a non-empty list of {what}")
    if len(set(coords["cell"])) < len(coords["cell"]):
        raise damaged(path, f"coords['cell'] repeats a cell: {coords['cell']}")


def _check_cell_info(coords: dict, path: Path) -> None:
    info = coords["cell_info"]
    if not (isinstance(info, list) and len(info) == len(coords["cell"])
            and all(isinstance(i, dict) and all(k in i for k in CELL_INFO) for i in info)):
        raise damaged(path, f"coords['cell_info'] does not describe the {len(coords['cell'])} cells "
                            f"({', '.join(CELL_INFO)} of each)")


def _check_metrics(metrics: dict[str, np.ndarray], coords: dict, path: Path) -> None:
    missing = [m for m in METRICS if m not in metrics]
    if missing:
        raise damaged(path, f"no {', '.join(missing)} (incomplete)")
    shape = tuple(len(coords[d]) for d in DIMS)
    for name, value in metrics.items():
        # diverged has no epoch axis, the other metrics every axis; one a later version adds, either
        want = shape[:-1] if name == "diverged" else shape if name in METRICS else shape[: max(value.ndim, 5)]
        if value.shape != want:
            raise damaged(path, f"{name} has shape {value.shape}; its coords (" + ", ".join(
                f"{len(coords[d])} {d}" for d in DIMS[: len(want)]) + f") make {want}")
        if value.dtype.kind not in ("b" if name == "diverged" else "biuf"):
            raise damaged(path, f"{name} holds {value.dtype}, not " + ("booleans" if name == "diverged" else
                                                                        "numbers"))


def load_result(path: Path, config: dict | None = None) -> SweepResult:
    """The :class:`SweepResult` saved in ``results.npz``, checked: its metrics (:data:`METRICS`, and any other)
    have the axes its coordinates say. Results an older version wrote are upgraded by
    :func:`~latchjax.rundir.upgrade.upgrade_coords` with ``config`` (default: the ``config.json`` beside it).
    Anything else is one line (:class:`RunDirError`) naming the file."""
    path = Path(path)
    arrays = read_npz(path)
    if "coords" not in arrays:
        raise damaged(path, "no coords, the axes of its metrics (incomplete)")
    coords = _scalar_json(arrays, "coords", path)
    timing = _scalar_json(arrays, "timing", path) if "timing" in arrays else {}
    _check_coords(coords, path)
    if "cell_info" not in coords:
        if config is None:
            beside = path.parent / "config.json"
            config = read_json(beside) if beside.is_file() else {}
        try:
            coords = upgrade_coords(coords, config)
        except (TypeError, ValueError, KeyError) as err:
            raise damaged(path, f"its cells cannot be read as the run's ({' '.join(str(err).split())})") from None
    _check_cell_info(coords, path)
    metrics = {k: v for k, v in arrays.items() if k not in ("coords", "timing")}
    _check_metrics(metrics, coords, path)
    return SweepResult(coords, metrics, {}, timing if isinstance(timing, dict) else {})


def run_settings(path: Path, result: SweepResult, config: dict) -> Any:
    """The :class:`~latchjax.sweep.config.SweepConfig` a run ran with (what ``explain`` and ``diagnose`` rebuild
    its models from): ``config`` (``DIR/config.json``) made into settings and checked against its ``result``;
    one line (:class:`RunDirError`) naming the files where they cannot be used or do not match."""
    from latchjax.core.vocabulary import SettingsError
    from latchjax.sweep.settings import from_settings

    path = Path(path)
    config_path, results_path = path / "config.json", path / "results.npz"
    try:
        cfg = from_settings(config)
    except SettingsError as err:
        raise RunDirError(f"{config_path}: its settings do not make a sweep: {err}") from None
    except (TypeError, ValueError, KeyError, AttributeError) as err:
        raise damaged(config_path, f"its settings do not make a sweep ({' '.join(str(err).split())})") from None
    c = result.coords
    names = [cell.name for cell in cfg.resolved.cells]
    differ = []
    if names != c["cell"]:
        differ.append(f"cells {', '.join(names)} vs {', '.join(c['cell'])}")
    if list(cfg.lengths) != c["length"]:
        differ.append(f"lengths {list(cfg.lengths)} vs {c['length']}")
    if len(cfg.lrs) != len(c["lr"]) or not np.allclose(cfg.lrs, c["lr"]):
        differ.append(f"lr {list(cfg.lrs)} vs {c['lr']}")
    if len(cfg.forget_biases) != len(c["forget_bias"]) or not np.allclose(cfg.forget_biases, c["forget_bias"],
                                                                          equal_nan=True):
        differ.append(f"forget_bias {list(cfg.forget_biases)} vs {c['forget_bias']}")
    if cfg.seeds != len(c["seed"]):
        differ.append(f"seeds {cfg.seeds} vs {len(c['seed'])}")
    if differ:
        raise RunDirError(f"{config_path} does not match {results_path} ({'; '.join(differ)}): one of them is "
                          "damaged")
    return cfg


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
    config, meta = read_json(path / "config.json"), read_json(path / "meta.json")
    tables = {name: pd.read_csv(path / f"{name}.csv") for name in ("results", "history", "summary")}
    for column in ("diverged", "success"):
        tables["results"][column] = tables["results"][column].astype(bool)
    return Run(tables["results"], tables["history"], tables["summary"], config, meta, path)


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
    config = read_json(config_path) if config_path.is_file() else {}
    if "threshold" in config:
        _check_value(config, "threshold", config_path)
    ds = load_result(npz, config).to_xarray(config.get("threshold", 0.9))
    ds.attrs.update({k: v for k, v in config.items() if isinstance(v, (str, int, float)) and k != "threshold"})
    ds.attrs["path"] = str(npz.parent)
    return ds
