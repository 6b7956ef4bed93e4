"""Runs written by older versions of latchjax, upgraded as they are read: the one place that knows them.

* ``config.json`` (:func:`upgrade_config`): before 2026-12, values that meant "the default" were written as
  ``-1`` (``middle``), ``[]`` (``forget_bias``), ``0`` (``buckets``) or ``null``, and every task option was
  written whatever the task (``noise`` for ``parity``, which has none). Today's ``config.json`` holds every
  value a run used; an old one becomes the settings :func:`~latchjax.sweep.settings.from_settings` reads.
* ``results.npz`` (:func:`upgrade_coords`): results saved before ``coords["cell_info"]`` was recorded get it
  from their cell names, with the run's ``units`` and ``flavor``.
* ``params.npz`` (:func:`params_path`): runs from before parameters were saved have none to analyse.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from latchjax.core.cells import make_cell
from latchjax.core.tasks import TASK_OPTIONS, TASKS
from latchjax.rundir.lock import RunDirError
from latchjax.sweep.results import cell_info

# values that meant "the default" in config.json files written before the vocabulary had None defaults
LEGACY_DEFAULTS = {"middle": -1, "forget_bias": [], "buckets": 0}


def upgrade_config(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` as today's version writes it: legacy "default" values and ``null`` become absent (their
    default), and task options the run's task does not take are dropped."""
    out = {k: v for k, v in config.items() if not (k in LEGACY_DEFAULTS and v == LEGACY_DEFAULTS[k])}
    task = out.get("task", "latch")
    takes = set(inspect.signature(TASKS[task]).parameters) if task in TASKS else set()
    return {k: v for k, v in out.items() if k not in TASK_OPTIONS or (v is not None and k in takes)}


def cell_info_from_name(name: str, units: int = 1, flavor: str = "keras2") -> dict[str, Any]:
    """The :func:`~latchjax.sweep.results.cell_info` of a cell known only by its name, with the run's ``units``
    and ``flavor`` (a spec such as ``lstm:units=10`` sets its own). A name that is no cell spec (e.g.
    ``flax.GRUCell``, ``equinox.GRUCell``) is taken as a cell without a forget bias."""
    try:
        return cell_info(make_cell(name, units, flavor))
    except ValueError:
        return {"kind": name, "flavor": flavor, "units": int(units), "has_forget_bias": False}


def upgrade_coords(coords: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """``results.npz``'s coordinates with ``cell_info`` (from the cell names where an older version left it out)."""
    if "cell_info" in coords:
        return coords
    units, flavor = config.get("units", 1), config.get("flavor", "keras2")
    return coords | {"cell_info": [cell_info_from_name(name, units, flavor) for name in coords["cell"]]}


def params_path(run: Path) -> Path:
    """``DIR/params.npz``; one line for a run made before trained parameters were saved."""
    path = Path(run) / "params.npz"
    if not path.is_file():
        raise RunDirError(f"{run}: no params.npz (made by an older latchjax); re-run the sweep")
    return path
