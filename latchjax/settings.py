"""Sweep settings as users write them: presets (TOML), config files and command-line flags.

One table, :data:`SETTINGS`, names every setting once with its type, default and help; the
TOML reader, the flag parser and ``--help`` are all made from it. Values are resolved as
defaults <- preset or ``--config`` file <- flags, then turned into a
:class:`~latchjax.train.SweepConfig` (which checks ranges and names).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from latchjax.optim import OPTIMIZERS
from latchjax.train import QUESTION_LENGTHS, SweepConfig


class SettingsError(ValueError):
    """Bad user input: the message is one line naming the problem."""


@dataclass(frozen=True)
class Setting:
    name: str
    kind: type  # int, float or str (of each element for lists)
    default: Any
    help: str
    is_list: bool = False


SETTINGS: dict[str, Setting] = {s.name: s for s in [
    Setting("task", str, "latch", "task: latch, bit_relay, two_sequence or parity"),
    Setting("cells", str, ["srnn", "lstm"], "cells (comma-separated): srnn, lstm, gru, cifg, janet, lstm97, brc, "
            "nbrc, each with :option=value (see `latchjax cells`)", is_list=True),
    Setting("flavor", str, "keras2", "framework defaults: keras2 (Keras 2.1, hard_sigmoid gates, as in 2018), "
            "keras3 or torch (PyTorch's init, layout and Adam)"),
    Setting("units", int, 1, "units per recurrent layer"),
    Setting("lengths", int, list(QUESTION_LENGTHS), "sequence lengths (comma-separated)", is_list=True),
    Setting("seeds", int, 30, "repeats (seeds) per setting"),
    Setting("epochs", int, 5, "training epochs"),
    Setting("batch_size", int, 16, "minibatch size"),
    Setting("samples", int, 10_000, "samples per length (train + validation)"),
    Setting("noise", float, 0.1, "standard deviation of the Gaussian noise on every element"),
    Setting("middle", int, -1, "bit_relay: position of the second bit (-1: length // 2)"),
    Setting("informative", int, 1, "two_sequence: number of first elements carrying the class"),
    Setting("lr", float, [1e-3], "learning rates, trained side by side (comma-separated)", is_list=True),
    Setting("forget_bias", float, [], "forget-gate bias init values, trained side by side (default: the "
            "flavour's: 1 for Keras, PyTorch's random draw for torch)", is_list=True),
    Setting("optimizer", str, "flavor", "flavor (Keras's Adam, or PyTorch's for torch), keras_adam, torch_adam or sgd"),
    Setting("head", str, "softmax", "softmax (Dense(2) + cross-entropy) or sigmoid (Dense(1) + BCE)"),
    Setting("split", str, "shuffled", "shuffled (random, class-balanced) or keras (last rows, as the question)"),
    Setting("val_fraction", float, 0.2, "fraction of samples held out for validation"),
    Setting("threshold", float, 0.9, "success = final validation accuracy >= threshold"),
    Setting("seed", int, 0, "base random seed (initialisation, shuffles and data)"),
    Setting("buckets", int, 0, "length buckets, one compile each (0: 3 on CPU, 1 on GPU)"),
    Setting("head_init", str, "random", "random (the framework's draw), aligned or reversed: flip the head so "
            "the noiseless class prototypes start classified right / wrong"),
    Setting("data", str, "shared", "shared (one dataset per length for every seed, as the question) or per-seed "
            "(each seed draws its own dataset)"),
]}
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


def resolve(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Defaults <- base (preset or file) <- overrides (flags): the fully resolved settings."""
    resolved = {name: s.default for name, s in SETTINGS.items()}
    resolved.update({k: v for k, v in base.items() if k in SETTINGS})
    resolved.update(overrides)
    return resolved


def to_sweep_config(settings: dict[str, Any]) -> SweepConfig:
    """Build (and so validate) the :class:`SweepConfig` of resolved settings."""
    task_kwargs: dict[str, Any] = {} if settings["task"] == "parity" else {"noise": settings["noise"]}
    if settings["task"] == "two_sequence":
        task_kwargs["informative"] = settings["informative"]
    if settings["task"] == "bit_relay" and settings["middle"] >= 0:
        task_kwargs["middle"] = settings["middle"]
    if not 0 < settings["threshold"] <= 1:
        raise SettingsError(f"threshold: must be in (0, 1], got {settings['threshold']!r}")
    if settings["noise"] < 0:
        raise SettingsError(f"noise: must be >= 0, got {settings['noise']!r}")
    if settings["optimizer"] not in ("flavor", *OPTIMIZERS):
        raise SettingsError(f"optimizer: unknown optimizer {settings['optimizer']!r}; allowed: flavor, "
                            f"{', '.join(OPTIMIZERS)}")
    if settings["buckets"] < 0:
        raise SettingsError(f"buckets: must be >= 0, got {settings['buckets']!r}")
    try:
        cfg = SweepConfig(
            task=settings["task"], task_kwargs=task_kwargs, cells=tuple(settings["cells"]), flavor=settings["flavor"],
            units=settings["units"], lengths=tuple(settings["lengths"]), seeds=settings["seeds"],
            epochs=settings["epochs"], batch_size=settings["batch_size"], samples=settings["samples"],
            split=settings["split"], val_fraction=settings["val_fraction"], lrs=tuple(settings["lr"]),
            forget_biases=tuple(settings["forget_bias"]) or None, head=settings["head"], seed=settings["seed"],
            optimizer=None if settings["optimizer"] == "flavor" else OPTIMIZERS[settings["optimizer"]],
            data_seed=settings["seed"], length_buckets=settings["buckets"] or None,
            head_init=settings.get("head_init", "random"), data=settings.get("data", "shared"),
        )
    except ValueError as err:
        raise SettingsError(str(err)) from None
    if settings["task"] == "two_sequence" and not 1 <= settings["informative"] <= min(cfg.lengths):
        raise SettingsError(f"informative: must be in [1, {min(cfg.lengths)}] for the shortest length, "
                            f"got {settings['informative']}")
    if settings["task"] == "bit_relay" and min(cfg.lengths) < 2:
        raise SettingsError(f"lengths: bit_relay needs lengths >= 2, got {min(cfg.lengths)}")
    if settings["task"] == "bit_relay" and not (settings["middle"] < 0 or 0 < settings["middle"] < min(cfg.lengths)):
        raise SettingsError(f"middle: must be in [1, {min(cfg.lengths) - 1}] for the shortest length, "
                            f"got {settings['middle']}")
    return cfg
