"""The one vocabulary of settings: every setting declared once, on the dataclass field it sets.

A setting's flag/TOML name, element type and help travel in its field's metadata (:func:`setting`); its
default is the field's. :func:`settings_of` reads them off a dataclass (the sweep's
:class:`~latchjax.sweep.config.SweepConfig`, :class:`~latchjax.studies.bengio.BengioConfig`,
:class:`~latchjax.studies.guessing.GuessConfig`, :class:`~latchjax.analysis.landscape.LandscapeConfig`), and
the flags, ``--help``, the TOML reader and the error messages are all made from what it returns.

A bad value raises :class:`SettingsError` naming the *setting* (``lr``, not the field ``lrs``); the command
line shows it as the flag the user typed (``--lr: duplicates in [0.001, 0.001]``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


class SettingsError(ValueError):
    """Bad user input: one line naming the problem; ``setting`` is the setting it is about, if one."""

    def __init__(self, message: str, setting: str | None = None) -> None:
        self.setting = setting
        self.detail = message
        super().__init__(f"{setting}: {message}" if setting else message)

    def as_flag(self) -> str:
        """The message as the command line says it: naming the flag (``--forget-bias: ...``)."""
        return f"{flag(self.setting)}: {self.detail}" if self.setting else str(self)


def flag(name: str) -> str:
    """The flag of a setting: ``forget_bias`` -> ``--forget-bias``."""
    return "--" + name.replace("_", "-")


BOOL_TEXTS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def setting(name: str, kind: type, help: str, is_list: bool = False, shown: str | None = None,
            repeatable: bool = False, metavar: str | None = None) -> dict:
    """Field metadata declaring a user-facing setting: its flag/TOML ``name``, element ``kind`` (int, float or
    str), ``help``, whether it is a comma-separated list, ``shown``, how ``--help`` shows a default that is
    not a plain value, whether the flag is given once per value (``repeatable``: ``--task-option N=3
    --task-option noise_var=0.1``) and the ``metavar`` of its flag (default: the kind, ``INT``). A field with
    no default is a required setting."""
    return {"setting": {"name": name, "kind": kind, "help": help, "is_list": is_list, "shown": shown,
                        "repeatable": repeatable, "metavar": metavar}}


@dataclass(frozen=True)
class Setting:
    """A setting as users write it (flag ``--name``, TOML key ``name``): element type, default, help, and the
    dataclass ``fields`` it sets (none: a task option); see :func:`setting` for the rest."""

    name: str
    kind: type
    default: Any
    help: str
    is_list: bool = False
    fields: tuple[str, ...] = ()
    shown: str | None = None
    required: bool = False
    repeatable: bool = False
    metavar: str | None = None

    @property
    def shown_default(self) -> str:
        if self.shown is not None:
            return self.shown

        def text(value: Any) -> str:  # 1.0 -> "1", as a user would type it
            return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)

        return ",".join(map(text, self.default)) if self.is_list else text(self.default)

    def parse(self, text: str) -> Any:
        """A flag's text: comma-separated for lists, numbers parsed by the setting's type."""
        parts = [p.strip() for p in text.split(",")] if self.is_list else [text.strip()]
        values = []
        for part in parts:
            if self.kind is bool:  # a switch: --stop-at-success alone is "true"
                if part.lower() not in BOOL_TEXTS:
                    raise SettingsError(f"expected true or false, got {text!r}", self.name)
                values.append(BOOL_TEXTS[part.lower()])
                continue
            try:
                values.append(self.kind(part) if self.kind is not str else part)
            except ValueError:
                raise SettingsError(f"expected {self.kind.__name__}{'s' if self.is_list else ''}, got {text!r}",
                                    self.name) from None
            if self.kind is str and not part:
                raise SettingsError(f"empty value in {text!r}", self.name)
        return values if self.is_list else values[0]

    def convert(self, value: Any, origin: str) -> Any:
        """A value read from a TOML file (``origin`` names it), checked against the setting's type."""

        def one(v: Any) -> Any:
            if self.kind is bool and isinstance(v, bool):
                return v
            if self.kind is float and isinstance(v, (int, float)) and not isinstance(v, bool):
                return float(v)
            if self.kind is int and isinstance(v, int) and not isinstance(v, bool):
                return v
            if self.kind is str and isinstance(v, str):
                return v
            raise SettingsError(f"{origin}: {self.name} must be {'a list of ' if self.is_list else ''}"
                                f"{self.kind.__name__}{'s' if self.is_list else ''}, got {v!r}")

        if self.is_list:
            values = value if isinstance(value, list) else [value]
            if not values:
                raise SettingsError(f"{origin}: {self.name} must not be empty")
            return [one(v) for v in values]
        return one(value)


def settings_of(cls: type) -> dict[str, Setting]:
    """The settings a dataclass declares (fields with :func:`setting` metadata), by name, in field order."""
    out: dict[str, Setting] = {}
    for f in dataclasses.fields(cls):
        meta = f.metadata.get("setting")
        if meta is None:
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        default = None if required else f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if meta["is_list"] and default is not None:
            default = list(default)
        out[meta["name"]] = Setting(meta["name"], meta["kind"], default, meta["help"], meta["is_list"], (f.name,),
                                    meta["shown"], required, meta.get("repeatable", False), meta.get("metavar"))
    return out


def config_of(cls: type, texts: Mapping[str, Any]) -> Any:
    """The ``cls`` of settings given as text (a flag's text by setting name; a list of texts for a repeatable
    setting): each parsed by its :class:`Setting`, then checked by ``cls.__post_init__``. A setting that is
    missing or ``None`` takes its field's default."""
    values: dict[str, Any] = {}
    for s in settings_of(cls).values():
        text = texts.get(s.name)
        if text is None:
            continue
        value = [s.parse(t) for t in text] if s.repeatable else s.parse(text)
        values[s.fields[0]] = tuple(value) if isinstance(value, list) else value
    return cls(**values)


def setting_name(cls: type, field_name: str) -> str:
    """The setting a field of ``cls`` is declared as (the field's own name where it declares none)."""
    for f in dataclasses.fields(cls):
        if f.name == field_name:
            return f.metadata.get("setting", {}).get("name", field_name)
    return field_name


class Checks:
    """The checks of a dataclass's ``__post_init__``, each naming the setting it is about::

        check = Checks(self)
        check.integer("seeds")            # SettingsError("must be an integer >= 1, got 0", "seeds")
        check.need(self.lr > 0, "lrs", "must be > 0")
    """

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def need(self, ok: bool, field_name: str, message: str) -> None:
        if not ok:
            raise SettingsError(message, setting_name(type(self.obj), field_name))

    def choice(self, field_name: str, allowed: tuple) -> None:
        value = getattr(self.obj, field_name)
        name = setting_name(type(self.obj), field_name)
        self.need(value in allowed, field_name,
                  f"unknown {name.replace('_', ' ')} {value!r}; allowed: {', '.join(map(str, allowed))}")

    def boolean(self, field_name: str) -> None:
        value = getattr(self.obj, field_name)
        self.need(isinstance(value, bool), field_name, f"must be true or false, got {value!r}")

    def integer(self, field_name: str, low: int = 1) -> None:
        value = getattr(self.obj, field_name)
        ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= low
        self.need(ok, field_name, f"must be an integer >= {low}, got {value!r}")

    def seed(self, field_name: str) -> None:
        """A seed of JAX's keys: an integer in [0, 2**32) (a key takes 32 bits; a larger seed would be taken
        modulo 2**32, silently repeating another run)."""
        self.integer(field_name, 0)
        value = getattr(self.obj, field_name)
        self.need(value < 2**32, field_name, f"must be < 2**32 = {2**32}, got {value}")

    def distinct(self, field_name: str) -> None:
        values = list(getattr(self.obj, field_name))
        seen = {"nan" if isinstance(v, float) and v != v else v for v in values}  # NaN equals NaN here
        self.need(len(seen) == len(values), field_name, f"duplicates in {values}")

    def finite(self, field_name: str, values: Any = None) -> None:
        """Every number of the field (or ``values``) is finite: no NaN, no infinity."""
        values = getattr(self.obj, field_name) if values is None else values
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        self.need(all(np.isfinite(float(v)) for v in values), field_name,
                  f"must be finite, got {values if len(values) > 1 else values[0]!r}")

