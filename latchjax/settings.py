"""Sweep settings as users write them: presets (TOML), config files and command-line flags.

The vocabulary, :data:`latchjax.config.SETTINGS`, names every setting once with its type, default and
help (derived from :class:`~latchjax.config.SweepConfig`'s fields and the tasks' options); the TOML
reader, the flag parser and ``--help`` are all made from it. Values are resolved as defaults <- preset
or ``--config`` file <- flags, then turned into a :class:`~latchjax.config.SweepConfig`, which checks
every range and name.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from latchjax.config import SETTINGS, Setting, SweepConfig, from_settings


class SettingsError(ValueError):
    """Bad user input: the message is one line naming the problem."""


META_KEYS = ("description", "reproduces")


def _convert(setting: Setting, value: Any, origin: str) -> Any:
    def one(v: Any) -> Any:
        if setting.kind is float and isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
        if setting.kind is int and isinstance(v, int) and not isinstance(v, bool):
            return v
        if setting.kind is str and isinstance(v, str):
            return v
        raise SettingsError(f"{origin}: {setting.name} must be {'a list of ' if setting.is_list else ''}"
                            f"{setting.kind.__name__}{'s' if setting.is_list else ''}, got {v!r}")

    if setting.is_list:
        values = value if isinstance(value, list) else [value]
        if not values:
            raise SettingsError(f"{origin}: {setting.name} must not be empty")
        return [one(v) for v in values]
    return one(value)


def parse_flag(setting: Setting, text: str) -> Any:
    """A flag's text: comma-separated for lists, numbers parsed by the setting's type."""
    parts = [p.strip() for p in text.split(",")] if setting.is_list else [text.strip()]
    values = []
    for part in parts:
        try:
            values.append(setting.kind(part) if setting.kind is not str else part)
        except ValueError:
            raise SettingsError(f"--{setting.name.replace('_', '-')}: expected "
                                f"{setting.kind.__name__}{'s' if setting.is_list else ''}, got {text!r}") from None
        if setting.kind is str and not part:
            raise SettingsError(f"--{setting.name.replace('_', '-')}: empty value in {text!r}")
    return values if setting.is_list else values[0]


def read_toml(path: Path, origin: str | None = None) -> dict[str, Any]:
    """Settings from a TOML file; unknown keys and wrong types are errors."""
    origin = origin or str(path)
    try:
        data = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise SettingsError(f"{origin}: no such file") from None
    except tomllib.TOMLDecodeError as err:
        raise SettingsError(f"{origin}: malformed TOML: {err}") from None
    unknown = sorted(set(data) - set(SETTINGS) - set(META_KEYS))
    if unknown:
        raise SettingsError(f"{origin}: unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(SETTINGS)}")
    out = {k: _convert(SETTINGS[k], v, origin) for k, v in data.items() if k in SETTINGS}
    out.update({k: str(data[k]) for k in META_KEYS if k in data})
    return out


def preset_dir() -> Path:
    """``experiments/`` of a source checkout (editable install), else the copy shipped in the wheel."""
    package = Path(__file__).resolve().parent
    checkout = package.parent / "experiments"
    in_checkout = checkout.is_dir() and (package.parent / "pyproject.toml").is_file()
    return checkout if in_checkout else package / "presets"


def presets() -> dict[str, dict[str, Any]]:
    """Every bundled preset (``experiments/**/*.toml``), by name (``question``, ``findings/srnn-init``)."""
    root = preset_dir()
    names = sorted(str(path.relative_to(root).with_suffix("")) for path in root.rglob("*.toml"))
    return {name: read_toml(root / f"{name}.toml", origin=f"preset {name}") for name in names}


def load_preset(name: str) -> dict[str, Any]:
    entry = preset_dir() / f"{name}.toml"
    if ".." in name.split("/") or not entry.is_file():
        raise SettingsError(f"--preset: unknown preset {name!r}; allowed: {', '.join(presets())}")
    return read_toml(entry, origin=f"preset {name}")


# values that meant "the default" in config.json files written before the vocabulary had None defaults
LEGACY_DEFAULTS = {"middle": -1, "forget_bias": [], "buckets": 0}


def resolve(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Defaults <- base (preset, file or a run's config.json) <- overrides (flags): the resolved settings."""
    resolved = {name: s.default for name, s in SETTINGS.items()}
    resolved.update({k: v for k, v in base.items() if k in SETTINGS})
    resolved.update(overrides)
    return {k: (None if LEGACY_DEFAULTS.get(k, ...) == v else v) for k, v in resolved.items()}


def to_sweep_config(settings: dict[str, Any], saved: bool = False) -> SweepConfig:
    """Build (and so validate) the :class:`SweepConfig` of resolved settings (``saved``: a run's config.json,
    see :func:`~latchjax.config.from_settings`); bad values raise :class:`SettingsError`."""
    try:
        return from_settings(settings, saved)
    except ValueError as err:
        raise SettingsError(str(err)) from None
