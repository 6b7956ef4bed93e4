"""Sweep settings as users write them: presets (TOML), config files and command-line flags.

The vocabulary, :data:`latchjax.sweep.config.SETTINGS`, names every setting once with its type, default and
help (derived from :class:`~latchjax.sweep.config.SweepConfig`'s fields and the tasks' options); the TOML
reader, the flag parser and ``--help`` are all made from it. Values are resolved as defaults <- preset
or ``--config`` file <- flags, then turned into a :class:`~latchjax.sweep.config.SweepConfig`, which checks
every range and name.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from latchjax.core.vocabulary import SettingsError
from latchjax.sweep.config import SETTINGS

META_KEYS = ("description", "reproduces")


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

