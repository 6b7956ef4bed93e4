"""Compatibility with latchjax 0.1: its import paths (before the package was split into sub-packages) keep
working for one release, until 0.3, with a ``DeprecationWarning`` that names the new home.

``import latchjax.runner`` gives a module whose attributes are looked up, in order, in the modules that now hold
what ``latchjax/runner.py`` held (:data:`MOVED`). A finder on ``sys.meta_path`` serves exactly the names of
:data:`MOVED` and nothing else; ``latchjax/__init__.py`` installs it. The few names of 0.1 that have no new
home (renamed or replaced) are defined at the end of this module. Runs written by 0.1 are upgraded as they are
read by :mod:`latchjax.rundir.upgrade`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from pathlib import Path
from typing import Any

from latchjax.core.cells import RNNCell
from latchjax.rundir.files import atomic_write
from latchjax.rundir.tables import table_texts
from latchjax.sweep.settings import from_settings

MOVED: dict[str, tuple[str, ...]] = {
    "latchjax.scan": ("latchjax.core.scan",),
    "latchjax.model": ("latchjax.core.model",),
    "latchjax.optim": ("latchjax.core.optim",),
    "latchjax.forward": ("latchjax.core.forward",),
    "latchjax.shuffle": ("latchjax.core.shuffle",),
    "latchjax.data": ("latchjax.core.data",),
    "latchjax.stats": ("latchjax.core.stats",),
    "latchjax.cells": ("latchjax.core.cells", "latchjax.cli.listing", "latchjax.compat"),
    "latchjax.kinds": ("latchjax.core.cells", "latchjax.core.cells.common"),
    "latchjax.tasks": ("latchjax.core.tasks",),
    "latchjax.prototypes": ("latchjax.core.tasks.prototypes",),
    "latchjax.config": ("latchjax.sweep.config", "latchjax.sweep.settings", "latchjax.core.vocabulary",
                        "latchjax.core.tasks"),
    "latchjax.settings": ("latchjax.sweep.settings", "latchjax.core.vocabulary", "latchjax.sweep.config",
                          "latchjax.rundir.upgrade", "latchjax.compat"),
    "latchjax.trainer": ("latchjax.sweep.trainer", "latchjax.sweep.compiler"),
    "latchjax.runner": ("latchjax.sweep.runner", "latchjax.sweep.plan", "latchjax.sweep.compiler",
                        "latchjax.sweep.trainer", "latchjax.compat"),
    "latchjax.results": ("latchjax.sweep.results", "latchjax.core.stats", "latchjax.rundir.upgrade"),
    "latchjax.store": ("latchjax.rundir.files", "latchjax.rundir.chunks", "latchjax.rundir.lock",
                       "latchjax.rundir.sweepdir", "latchjax.rundir.tables", "latchjax.rundir.load",
                       "latchjax.compat"),
    "latchjax.plots": ("latchjax.rundir.plots", "latchjax.rundir.study_plots", "latchjax.rundir.analysis_plots"),
    "latchjax.progress": ("latchjax.rundir.progress",),
    "latchjax.explain": ("latchjax.analysis.explain",),
    "latchjax.diagnostics": ("latchjax.analysis.diagnostics",),
    "latchjax.landscape": ("latchjax.analysis.landscape",),
    "latchjax.compare": ("latchjax.analysis.compare",),
    "latchjax.fidelity": ("latchjax.analysis.fidelity",),
    "latchjax.bengio": ("latchjax.studies.bengio",),
    "latchjax.guessing": ("latchjax.studies.guessing", "latchjax.studies.guess_nets"),
    "latchjax.guess_tasks": ("latchjax.studies.guess_tasks",),
    "latchjax.commands": ("latchjax.cli.sweep", "latchjax.cli.runs", "latchjax.cli.studies", "latchjax.cli.listing",
                          "latchjax.rundir.lock", "latchjax.analysis.landscape"),
}


def _lookup(old: str, name: str) -> Any:
    for new in MOVED[old]:
        module = importlib.import_module(new)
        if name in vars(module):
            return vars(module)[name]
    raise AttributeError(f"module {old!r} has no attribute {name!r} (it moved to {', '.join(MOVED[old])})")


class _Loader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = types.ModuleType(spec.name, f"Moved to {', '.join(MOVED[spec.name])} (this path works until 0.3).")
        module.__getattr__ = lambda name: _lookup(spec.name, name)  # type: ignore[method-assign]
        module.__dir__ = lambda: sorted({n for new in MOVED[spec.name]  # type: ignore[method-assign]
                                         for n in vars(importlib.import_module(new)) if not n.startswith("_")})
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        warnings.warn(f"{module.__name__} moved to {MOVED[module.__name__][0]}; the old path works until "
                      "latchjax 0.3", DeprecationWarning, stacklevel=2)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname in MOVED:
            return importlib.machinery.ModuleSpec(fullname, _Loader())
        return None


def install() -> None:
    """Serve the old paths (once per process)."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.append(_Finder())


# --- names of 0.1 that are gone from the new layout, served under their old paths ---------------------------

KerasCell = RNNCell
to_sweep_config = from_settings


def parse_flag(setting, text):
    """0.1's ``settings.parse_flag``: now :meth:`latchjax.core.vocabulary.Setting.parse`."""
    return setting.parse(text)


def n_inputs(cfg) -> int:
    """0.1's ``runner.n_inputs``: now ``cfg.resolved.n_in``."""
    return cfg.resolved.n_in


def write_tables(result, settings, out, threshold) -> None:
    """0.1's ``store.write_tables``: now :func:`latchjax.rundir.tables.table_texts`, written by the run directory."""
    for name, text in table_texts(result, threshold).items():
        atomic_write(Path(out) / name, text)
