"""Sweep settings as users write them: the vocabulary, presets (TOML), config files and command-line flags.

The vocabulary, :data:`SETTINGS`, names every setting once with its type, default and
help (derived from :class:`~latchjax.sweep.config.SweepConfig`'s fields and the tasks' options); the TOML
reader, the flag parser and ``--help`` are all made from it. Values are resolved as defaults <- preset
or ``--config`` file <- flags, then turned into a :class:`~latchjax.sweep.config.SweepConfig`, which checks
every range and name.
"""

from __future__ import annotations

import dataclasses
import inspect
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from latchjax.core.tasks import TASK_OPTIONS, TASKS
from latchjax.core.vocabulary import Setting, SettingsError, settings_of
from latchjax.sweep.config import OFFLINE_ONLY, ONLINE_ONLY, SweepConfig, task_defaults

META_KEYS = ("description", "reproduces")


def _settings() -> dict[str, Setting]:
    out = settings_of(SweepConfig)
    out["seed"] = dataclasses.replace(out["seed"], fields=("seed", "data_seed"))  # one seed for models and data
    for name, (kind, help) in TASK_OPTIONS.items():
        defaults = {t: p.default for t, fn in TASKS.items() for p in inspect.signature(fn).parameters.values()
                    if p.name == name}
        values = ", ".join(f"{v:.4g} for {t}" if isinstance(v, float) else f"{v} for {t}"
                           for t, v in defaults.items() if v is not None)
        shown = f"the task's: {values}" if values else "the task's"  # bit_relay's middle: a rule, said in its help
        out[name] = Setting(name, kind, None, help, shown=shown)
    return out


SETTINGS: dict[str, Setting] = _settings()


def from_settings(settings: Mapping[str, Any]) -> SweepConfig:
    """The :class:`SweepConfig` of user settings (names as in :data:`SETTINGS`; missing ones take their
    defaults); raises :class:`~latchjax.core.vocabulary.SettingsError` naming the setting when one is out of
    range. A task option is passed to the task only when set; one the task does not take is refused."""
    fields: dict[str, Any] = {}
    task_kwargs: dict[str, Any] = {}
    task = settings.get("task", SETTINGS["task"].default)
    takes = set(task_defaults(task)) if task in TASKS else set()
    for s in SETTINGS.values():
        value = settings.get(s.name, s.default)
        if s.is_list and value is not None:
            value = tuple(value) or None  # an empty list: the default
        if s.fields:
            fields.update(dict.fromkeys(s.fields, value))
        elif value is not None and s.name in takes:
            task_kwargs[s.name] = value
        elif value is not None:
            raise SettingsError(f"task {task} has no such option", s.name)
    return SweepConfig(task_kwargs=task_kwargs, **fields)


def to_settings(cfg: SweepConfig) -> dict[str, Any]:
    """Every setting of ``cfg`` as users write it, resolved (what ``config.json`` holds): the inverse of
    :func:`from_settings`. Refuses what a file cannot hold (a task, cell or optimizer given as Python objects)."""
    if not isinstance(cfg.task, str):
        raise SettingsError("a task given as a function cannot be written to config.json", "task")
    if not all(isinstance(c, str) for c in cfg.cells):
        raise SettingsError("cells given as objects cannot be written to config.json; give cell specs", "cells")
    if not isinstance(cfg.optimizer, str):
        raise SettingsError("an optimizer factory cannot be written to config.json", "optimizer")
    if cfg.data_seed != cfg.seed:
        raise SettingsError("config.json has one seed for models and data; data_seed must equal it", "seed")
    out: dict[str, Any] = {}
    # only what the run used: online data has no epochs, samples or split; offline data no budget or test set
    unused = OFFLINE_ONLY if cfg.online else ONLINE_ONLY
    for s in SETTINGS.values():
        if s.name in unused or (s.name in ("stop_at_success", "snapshots") and not getattr(cfg, s.name)) or (
                s.name == "train" and cfg.train == "all") or (s.name == "shuffle_seed" and cfg.shuffle_seed is None) or (
                s.name == "labels" and cfg.labels == "task"):
            continue  # what every run before these options did: not written
        if s.fields:
            value = getattr(cfg, s.fields[0])
            out[s.name] = [v.item() if isinstance(v, np.generic) else v for v in value] if s.is_list else value
        elif s.name in cfg.task_kwargs:
            out[s.name] = cfg.task_kwargs[s.name]
    return out


def read_toml(path: Path, origin: str | None = None) -> dict[str, Any]:
    """Settings from a TOML file; unknown keys and wrong types are errors."""
    origin = origin or str(path)
    try:
        data = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise SettingsError(f"{origin}: no such file") from None
    except IsADirectoryError:
        raise SettingsError(f"{origin}: is a directory, not a TOML file") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{origin}: not a text file (TOML is UTF-8 text)") from None
    except OSError as err:
        raise SettingsError(f"{origin}: cannot read it: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise SettingsError(f"{origin}: malformed TOML: {err}") from None
    unknown = sorted(set(data) - set(SETTINGS) - set(META_KEYS))
    if unknown:
        raise SettingsError(f"{origin}: unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(SETTINGS)}")
    out = {k: SETTINGS[k].convert(v, origin) for k, v in data.items() if k in SETTINGS}
    out.update({k: str(data[k]) for k in META_KEYS if k in data})
    return out


def preset_dir() -> Path:
    """``latchjax/presets/``: the bundled presets, one TOML file each, shipped inside the package."""
    return Path(__file__).resolve().parent.parent / "presets"


def presets() -> dict[str, dict[str, Any]]:
    """Every bundled preset (``latchjax/presets/**/*.toml``), by name (``question``, ``findings/srnn-init``)."""
    root = preset_dir()
    names = sorted(str(path.relative_to(root).with_suffix("")) for path in root.rglob("*.toml"))
    return {name: read_toml(root / f"{name}.toml", origin=f"preset {name}") for name in names}


def load_preset(name: str) -> dict[str, Any]:
    entry = preset_dir() / f"{name}.toml"
    if ".." in name.split("/") or not entry.is_file():
        raise SettingsError(f"--preset: unknown preset {name!r}; allowed: {', '.join(presets())}")
    return read_toml(entry, origin=f"preset {name}")


def resolve(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Defaults <- base (preset, file or a run's config.json) <- overrides (flags): the resolved settings."""
    resolved = {name: s.default for name, s in SETTINGS.items()}
    resolved.update({k: v for k, v in base.items() if k in SETTINGS})
    resolved.update(overrides)
    return resolved

