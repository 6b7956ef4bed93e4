"""What defines a sweep: :class:`SweepConfig`, and the one vocabulary users write it in.

Every setting is declared once, on the :class:`SweepConfig` field it sets (its flag/TOML name, type
and help travel in the field's metadata; its default is the field's), or, for a task's options
(``noise``, ``middle``, ``informative``), in :data:`latchjax.tasks.TASK_OPTIONS` with each task's own
default. :data:`SETTINGS` is derived from both; the TOML reader, the flags, ``--help`` and
:func:`from_settings` are made from it, and every check lives in :meth:`SweepConfig.__post_init__`.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jax
import numpy as np

from latchjax.cells import FLAVORS, make_cell
from latchjax.data import SPLITS
from latchjax.optim import OPTIMIZERS
from latchjax.prototypes import has_prototypes
from latchjax.tasks import TASK_OPTIONS, TASKS, Task, make_task

# The question's lengths: [2, 5, 8, 10, 15, 20, 25, 30] + range(30, 210, 10). Its loop ran 30 twice
# (26 iterations) and its result dict kept one; latchjax runs each distinct length once.
QUESTION_LENGTHS: tuple[int, ...] = (2, 5, 8, 10, 15, 20, 25, 30) + tuple(range(40, 210, 10))
HEADS = ("softmax", "sigmoid")
HEAD_INITS = ("random", "aligned", "reversed")
DATA_MODES = ("shared", "per-seed")


def default_length_buckets() -> int:
    """3 on CPU, where padded steps cost as much as real ones; 1 on accelerators, where a step's
    cost hardly depends on its width and one program is fastest (benchmarks/RESULTS.md)."""
    return 3 if jax.default_backend() == "cpu" else 1


GRADIENTS = ("auto", "reverse", "forward")


def default_unroll() -> int:
    """1 on CPU, where unrolling the time loop measured slower (benchmarks/RESULTS.md); 8 on accelerators,
    where every loop iteration costs launches and a loop-condition round trip whatever its width."""
    return 1 if jax.default_backend() == "cpu" else 8


def _setting(name: str, kind: type, help: str, is_list: bool = False, shown: str | None = None) -> dict:
    """Field metadata declaring a user-facing setting: its flag/TOML ``name``, element ``kind``, ``help``,
    and ``shown``, how ``--help`` shows a default that is not a plain value."""
    return {"setting": {"name": name, "kind": kind, "help": help, "is_list": is_list, "shown": shown}}


@dataclass(frozen=True)
class SweepConfig:
    """Everything that defines a sweep. Defaults are the question's Q1 setup with a correct split.

    ``cells`` holds names or specs (``srnn``, ``lstm``, ``gru``, ``janet:flavor=torch``, ...; see
    :func:`~latchjax.cells.parse_cell`), :class:`~latchjax.cells.RNNCell` /
    :class:`~latchjax.cells.FlaxCell` objects or Flax cells. ``task`` is a name or a function
    ``(key, n, length) -> (x, y)``, ``task_kwargs`` its options. ``optimizer`` is ``"flavor"`` (each
    cell's flavour's Adam: Keras's for ``keras2``/``keras3``, PyTorch's for ``torch``), a name in
    :data:`latchjax.optim.OPTIMIZERS` or a factory ``lr -> optax transformation``; ``lrs`` and
    ``forget_biases`` are grids trained side by side in the same program (default forget bias: the
    flavour's, 1 for Keras, PyTorch's random draw for torch). ``seeds`` is the number of repeats; repeat
    ``i`` uses ``fold_in(key(seed), i)`` for its initialisation and shuffles, whatever else is in the sweep.

    ``head_init``: ``random`` (the framework's draw), or ``aligned`` / ``reversed``: after the draw the
    head's class difference is flipped where needed so that the task's noiseless prototypes start
    classified right / wrong (:func:`latchjax.prototypes.orient_head`). ``data``: ``shared`` (the
    question's: one dataset per length, common to every repeat) or ``per-seed`` (repeat ``i`` draws its
    own dataset from ``fold_in(fold_in(key(data_seed), length), i)``, so repeats are independent in data too).
    ``threshold``: a model succeeds when its final validation accuracy reaches it.
    """

    task: str | Task = field(default="latch", metadata=_setting(
        "task", str, f"task: {', '.join(TASKS)}"))
    task_kwargs: Mapping[str, Any] = field(default_factory=dict)
    cells: tuple = field(default=("srnn", "lstm"), metadata=_setting(
        "cells", str, "cells (comma-separated): srnn, lstm, gru, cifg, janet, lstm97, brc, nbrc, each with "
        ":option=value (see `latchjax cells`)", is_list=True))
    flavor: str = field(default="keras2", metadata=_setting(
        "flavor", str, "framework defaults: keras2 (Keras 2.1, hard_sigmoid gates, as in 2018), keras3 or torch "
        "(PyTorch's init, layout and Adam)"))
    units: int = field(default=1, metadata=_setting("units", int, "units per recurrent layer"))
    lengths: tuple[int, ...] = field(default=QUESTION_LENGTHS, metadata=_setting(
        "lengths", int, "sequence lengths (comma-separated)", is_list=True))
    seeds: int = field(default=30, metadata=_setting("seeds", int, "repeats (seeds) per setting"))
    epochs: int = field(default=5, metadata=_setting("epochs", int, "training epochs"))
    batch_size: int = field(default=16, metadata=_setting("batch_size", int, "minibatch size"))
    samples: int = field(default=10_000, metadata=_setting(
        "samples", int, "samples per length (train + validation)"))
    split: str = field(default="shuffled", metadata=_setting(
        "split", str, "shuffled (random, class-balanced) or keras (last rows, as the question)"))
    val_fraction: float = field(default=0.2, metadata=_setting(
        "val_fraction", float, "fraction of samples held out for validation"))
    lrs: tuple[float, ...] = field(default=(1e-3,), metadata=_setting(
        "lr", float, "learning rates, trained side by side (comma-separated)", is_list=True))
    forget_biases: tuple[float, ...] | None = field(default=None, metadata=_setting(
        "forget_bias", float, "forget-gate bias init values, trained side by side", is_list=True,
        shown="the flavour's: 1 for Keras, PyTorch's random draw for torch"))
    head: str = field(default="softmax", metadata=_setting(
        "head", str, "softmax (Dense(2) + cross-entropy) or sigmoid (Dense(1) + BCE)"))
    optimizer: str | Callable[[Any], Any] = field(default="flavor", metadata=_setting(
        "optimizer", str, "flavor (Keras's Adam, or PyTorch's for torch), keras_adam, torch_adam or sgd"))
    seed: int = field(default=0, metadata=_setting(
        "seed", int, "base random seed (initialisation, shuffles and data)"))
    data_seed: int = 0
    length_buckets: int | None = field(default=None, metadata=_setting(
        "buckets", int, "length buckets, one compile each", shown="3 on CPU, 1 on GPU"))
    unroll: int | None = field(default=None, metadata=_setting(
        "unroll", int, "time steps per iteration of the time loop", shown="1 on CPU, 8 on accelerators"))
    gradient: str = field(default="auto", metadata=_setting(
        "gradient", str, "reverse (backpropagation through time), forward (exact real-time recurrent learning: "
        "no backward scan) or auto (forward where it is expected to be faster: latchjax.forward)"))
    head_init: str = field(default="random", metadata=_setting(
        "head_init", str, "random (the framework's draw), aligned or reversed: flip the head so the noiseless "
        "class prototypes start classified right / wrong"))
    data: str = field(default="shared", metadata=_setting(
        "data", str, "shared (one dataset per length for every seed, as the question) or per-seed (each seed "
        "draws its own dataset)"))
    threshold: float = field(default=0.9, metadata=_setting(
        "threshold", float, "success = final validation accuracy >= threshold"))

    def __post_init__(self) -> None:
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise ValueError(message)

        def choice(name: str, allowed: tuple) -> None:
            value = getattr(self, name)
            need(value in allowed, f"{name}: unknown {name.replace('_', ' ')} {value!r}; allowed: {', '.join(allowed)}")

        def integer(name: str, low: int = 1) -> None:
            value = getattr(self, name)
            need(isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= low,
                 f"{name}: must be an integer >= {low}, got {value!r}")

        def distinct(name: str) -> None:
            values = list(getattr(self, name))
            need(len(set(values)) == len(values), f"{name}: duplicates in {values}")

        choice("flavor", tuple(FLAVORS))
        if self.forget_biases is None:
            object.__setattr__(self, "forget_biases", (FLAVORS[self.flavor].default_forget_bias,))
        for name in ("cells", "lengths", "lrs", "forget_biases"):
            value = getattr(self, name)
            if isinstance(value, (str, int, float)) or not hasattr(value, "__len__"):
                value = (value,)
            object.__setattr__(self, name, tuple(value))
            need(len(value) > 0, f"{name}: give at least one value")
        names = [make_cell(cell, self.units, self.flavor).name for cell in self.cells]
        need(len(set(names)) == len(names), f"cells: duplicate cells in {names}")
        need(all(isinstance(n, (int, np.integer)) and n >= 1 for n in self.lengths),
             f"lengths: every length must be an integer >= 1, got {list(self.lengths)}")
        for name in ("lengths", "lrs", "forget_biases"):
            distinct(name)
        if self.length_buckets is None:
            object.__setattr__(self, "length_buckets", default_length_buckets())
        if self.unroll is None:
            object.__setattr__(self, "unroll", default_unroll())
        for name in ("seeds", "epochs", "batch_size", "samples", "length_buckets", "unroll"):
            integer(name)
        integer("seed", 0)
        integer("data_seed", 0)
        choice("split", SPLITS)
        choice("head", HEADS)
        choice("head_init", HEAD_INITS)
        choice("data", DATA_MODES)
        choice("gradient", GRADIENTS)
        if isinstance(self.optimizer, str):
            choice("optimizer", ("flavor", *OPTIMIZERS))
        need(isinstance(self.val_fraction, (int, float)) and 0 < self.val_fraction < 1,
             f"val_fraction: must be in (0, 1), got {self.val_fraction!r}")
        need(0 < self.n_train < self.samples,
             f"samples: {self.samples} samples leave an empty train or validation set at "
             f"val_fraction={self.val_fraction}")
        need(self.batch_size <= self.n_train,
             f"batch_size: {self.batch_size} is larger than the training set ({self.n_train} samples)")
        need(all(float(lr) > 0 for lr in self.lrs), f"lrs: must be > 0, got {list(self.lrs)}")
        need(0 < self.threshold <= 1, f"threshold: must be in (0, 1], got {self.threshold!r}")
        need(self.task_kwargs.get("noise", 0) >= 0, f"noise: must be >= 0, got {self.task_kwargs.get('noise')!r}")
        task = make_task(self.task, **self.task_kwargs)
        # the task checks its options against a length (bit_relay's middle, two_sequence's informative)
        jax.eval_shape(lambda: task(jax.random.key(0), 2, min(self.lengths)))
        if self.head_init != "random":
            need(has_prototypes(self.task), f"head_init: {self.head_init} needs a task with class prototypes "
                                            "(latch, bit_relay, two_sequence)")

    @property
    def n_train(self) -> int:
        return int(self.samples * (1.0 - self.val_fraction))

    def replace(self, **changes) -> SweepConfig:
        return dataclasses.replace(self, **changes)


# --- the vocabulary of settings ------------------------------------------------------------------

@dataclass(frozen=True)
class Setting:
    """A setting as users write it (flag ``--name``, TOML key ``name``): element type, default, help,
    and where it goes: the :class:`SweepConfig` ``fields`` it sets, or (none) a task option."""

    name: str
    kind: type  # int, float or str (of each element for lists)
    default: Any
    help: str
    is_list: bool = False
    fields: tuple[str, ...] = ()
    shown: str | None = None  # how --help shows a default that is not a plain value

    @property
    def shown_default(self) -> str:
        if self.shown is not None:
            return self.shown
        return ",".join(map(str, self.default)) if self.is_list else str(self.default)


def _settings() -> dict[str, Setting]:
    out: dict[str, Setting] = {}
    for f in dataclasses.fields(SweepConfig):
        meta = f.metadata.get("setting")
        if meta is None:
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if meta["is_list"] and default is not None:
            default = list(default)
        extra = ("data_seed",) if f.name == "seed" else ()  # one seed for the models and the data
        out[meta["name"]] = Setting(meta["name"], meta["kind"], default, meta["help"], meta["is_list"],
                                    (f.name, *extra), meta["shown"])
    for name, (kind, help) in TASK_OPTIONS.items():
        defaults = {t: p.default for t, fn in TASKS.items() for p in inspect.signature(fn).parameters.values()
                    if p.name == name}
        shown = "the task's: " + ", ".join(f"{v:.4g} for {t}" if isinstance(v, float) else f"{v} for {t}"
                                           for t, v in defaults.items() if v is not None) or "the task's"
        out[name] = Setting(name, kind, None, help, shown=shown)
    return out


SETTINGS: dict[str, Setting] = _settings()


def from_settings(settings: Mapping[str, Any], saved: bool = False) -> SweepConfig:
    """The :class:`SweepConfig` of user settings (names as in :data:`SETTINGS`; missing ones take their
    defaults); raises ``ValueError`` naming the setting when one is out of range. A task option is passed to
    the task only when set; one the task does not take is refused, or ignored where the settings are a
    ``saved`` run's (runs written before 2026-12 saved ``noise`` whatever the task)."""
    fields: dict[str, Any] = {}
    task_kwargs: dict[str, Any] = {}
    task = settings.get("task", SETTINGS["task"].default)
    takes = set(inspect.signature(TASKS[task]).parameters) if task in TASKS else set()
    for s in SETTINGS.values():
        value = settings.get(s.name, s.default)
        if s.is_list and value is not None:
            value = tuple(value) or None  # an empty list: the default
        if s.fields:
            fields.update(dict.fromkeys(s.fields, value))
        elif value is not None and s.name in takes:
            task_kwargs[s.name] = value
        elif value is not None and not saved:
            raise ValueError(f"{s.name}: task {task} has no such option")
    return SweepConfig(task_kwargs=task_kwargs, **fields)
