"""What defines a sweep: :class:`SweepConfig`, and the one vocabulary users write it in.

Every setting is declared once, on the :class:`SweepConfig` field it sets (its flag/TOML name, type
and help travel in the field's metadata; its default is the field's), or, for a task's options
(``noise``, ``middle``, ``informative``), in :data:`latchjax.core.tasks.TASK_OPTIONS` with each task's own
default. :data:`latchjax.sweep.settings.SETTINGS` is derived from both; the TOML reader, the flags, ``--help`` and
:func:`~latchjax.sweep.settings.from_settings` are made from it, and every check lives in
:meth:`SweepConfig.__post_init__`.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jax
import numpy as np

from latchjax.core.cells import FLAVORS, Cell, make_cell
from latchjax.core.data import SPLITS
from latchjax.core.optim import OPTIMIZERS
from latchjax.core.tasks import TASKS, Task, make_task
from latchjax.core.tasks.output import Output, Rule, task_output, task_rule
from latchjax.core.tasks.prototypes import has_prototypes
from latchjax.core.vocabulary import Checks, SettingsError, setting
from latchjax.sweep.checks import (
    DEFAULT_TEST_SAMPLES,
    DEFAULT_THRESHOLD,
    check_online,
    check_output,
    check_time_loop,
    check_traceable,
    probe,
)

# The question's lengths: [2, 5, 8, 10, 15, 20, 25, 30] + range(30, 210, 10). Its loop ran 30 twice
# (26 iterations) and its result dict kept one; latchjax runs each distinct length once.
QUESTION_LENGTHS: tuple[int, ...] = (2, 5, 8, 10, 15, 20, 25, 30) + tuple(range(40, 210, 10))
HEADS = ("softmax", "sigmoid")
HEAD_INITS = ("random", "aligned", "reversed")
DATA_MODES = ("shared", "per-seed", "online", "online-per-seed")
ONLINE_MODES = ("online", "online-per-seed")
TRAINED = ("all", "head")
LABELS = ("task", "shuffled")
ONLINE_ONLY = ("budget", "eval_every", "test_samples")  # the settings of online data
OFFLINE_ONLY = ("epochs", "samples", "split", "val_fraction")  # what online data replaces


def default_length_buckets() -> int:
    """3 on CPU, where padded steps cost as much as real ones; 1 on accelerators, where a step's
    cost hardly depends on its width and one program is fastest (benchmarks/RESULTS.md)."""
    return 3 if jax.default_backend() == "cpu" else 1


GRADIENTS = ("auto", "reverse", "forward")
SCAN_CHOICES = ("auto", "sequential", "parallel")


def default_unroll() -> int:
    """1 on CPU, where unrolling the time loop measured slower (benchmarks/RESULTS.md); 8 on accelerators,
    where every loop iteration costs launches and a loop-condition round trip whatever its width."""
    return 1 if jax.default_backend() == "cpu" else 8


class Resolved(NamedTuple):
    """What a :class:`SweepConfig` resolves once: its cells as objects, its task with its options bound, and
    the task's number of input features."""

    cells: tuple[Cell, ...]
    task: Task
    n_in: int
    varies: bool = False  # the task gives each row its own length (Sequences.length)


@dataclass(frozen=True)
class SweepConfig:
    """Everything that defines a sweep. Defaults are the question's Q1 setup with a correct split.

    ``cells`` holds names or specs (``srnn``, ``lstm``, ``gru``, ``janet:flavor=torch``, ...; see
    :func:`~latchjax.core.cells.spec.parse_cell`), :class:`~latchjax.core.cells.rnn.RNNCell` /
    :class:`~latchjax.core.cells.flax.FlaxCell` objects, Flax cells or
    :class:`~latchjax.core.cells.equinox.EquinoxCell` objects. ``task`` is a name or a function
    ``(key, n, length) -> (x, y)``, ``task_kwargs`` its options. ``optimizer`` is ``"flavor"`` (each
    cell's flavour's Adam: Keras's for ``keras2``/``keras3``, PyTorch's for ``torch``), a name in
    :data:`latchjax.core.optim.OPTIMIZERS` or a factory ``lr -> optax transformation``; ``lrs`` and
    ``forget_biases`` are grids trained side by side in the same program (default forget bias: the
    flavour's, 1 for Keras, PyTorch's random draw for torch). ``seeds`` is the number of repeats; repeat
    ``i`` uses ``fold_in(key(seed), i)`` for its initialisation and shuffles (``fold_in(key(shuffle_seed), i)`` for
    its shuffles where that is given), whatever else is in the sweep.

    ``head_init``: ``random`` (the framework's draw), or ``aligned`` / ``reversed``: after the draw the
    head's class difference is flipped where needed so that the task's noiseless prototypes start
    classified right / wrong (:func:`latchjax.core.tasks.prototypes.orient_head`). ``data``: ``shared`` (the
    question's: one dataset per length, common to every repeat) or ``per-seed`` (repeat ``i`` draws its
    own dataset from ``fold_in(fold_in(key(data_seed), length), i)``, so repeats are independent in data too).
    ``threshold``: a model succeeds when its final validation accuracy reaches it. A task that declares its
    output and success rule (:class:`~latchjax.core.tasks.output.TaskSpec`: K classes, a regression) trains a
    Dense(K) / Dense(d) head and is judged by its own rule (:attr:`output`, :attr:`rule`); ``threshold`` then only
    applies to an accuracy rule.
    """

    task: str | Task = field(default="latch", metadata=setting(
        "task", str, f"task: {', '.join(TASKS)}"))
    task_kwargs: Mapping[str, Any] = field(default_factory=dict)
    cells: tuple = field(default=("srnn", "lstm"), metadata=setting(
        "cells", str, "cells (comma-separated): srnn, lstm, gru, cifg, janet, lstm97, brc, nbrc, each with "
        ":option=value (see `latchjax cells`)", is_list=True))
    flavor: str = field(default="keras2", metadata=setting(
        "flavor", str, "framework defaults: keras2 (Keras 2.1, hard_sigmoid gates, as in 2018), keras3 or torch "
        "(PyTorch's init, layout and Adam)"))
    units: int = field(default=1, metadata=setting("units", int, "units per recurrent layer"))
    lengths: tuple[int, ...] = field(default=QUESTION_LENGTHS, metadata=setting(
        "lengths", int, "sequence lengths (comma-separated)", is_list=True))
    seeds: int = field(default=30, metadata=setting("seeds", int, "repeats (seeds) per setting"))
    epochs: int = field(default=5, metadata=setting("epochs", int, "training epochs"))
    batch_size: int = field(default=16, metadata=setting("batch_size", int, "minibatch size"))
    samples: int = field(default=10_000, metadata=setting(
        "samples", int, "samples per length (train + validation)"))
    split: str = field(default="shuffled", metadata=setting(
        "split", str, "shuffled (random, class-balanced) or keras (last rows, as the question)"))
    val_fraction: float = field(default=0.2, metadata=setting(
        "val_fraction", float, "fraction of samples held out for validation"))
    lrs: tuple[float, ...] = field(default=(1e-3,), metadata=setting(
        "lr", float, "learning rates, trained side by side (comma-separated)", is_list=True))
    forget_biases: tuple[float, ...] | None = field(default=None, metadata=setting(
        "forget_bias", float, "forget-gate bias init values, trained side by side", is_list=True,
        shown="the flavour's: 1 for Keras, PyTorch's random draw for torch"))
    head: str = field(default="softmax", metadata=setting(
        "head", str, "softmax (Dense(K) + cross-entropy; a regression task: Dense(d) + MSE) or sigmoid (Dense(1) + "
        "BCE, binary tasks only)"))
    optimizer: str | Callable[[Any], Any] = field(default="flavor", metadata=setting(
        "optimizer", str, "flavor (Keras's Adam, or PyTorch's for torch), keras_adam, torch_adam or sgd"))
    seed: int = field(default=0, metadata=setting(
        "seed", int, "base random seed (initialisation, shuffles and data)"))
    data_seed: int = 0
    shuffle_seed: int | None = field(default=None, metadata=setting(
        "shuffle_seed", int, "base seed of the minibatch order alone: repeat i shuffles with fold_in(key(shuffle_seed), "
        "i) and keeps its initialisation (a shuffle-only control)", shown="--seed's"))
    length_buckets: int | None = field(default=None, metadata=setting(
        "buckets", int, "length buckets, one compile each", shown="3 on CPU, 1 on GPU"))
    unroll: int | None = field(default=None, metadata=setting(
        "unroll", int, "time steps per iteration of the time loop", shown="1 on CPU, 8 on accelerators"))
    gradient: str = field(default="auto", metadata=setting(
        "gradient", str, "reverse (backpropagation through time), forward (exact real-time recurrent learning: "
        "no backward scan) or auto (forward where it is expected to be faster: latchjax.core.forward)"))
    scan: str = field(default="auto", metadata=setting(
        "scan", str, "the time loop: sequential (lax.scan, T steps), parallel (jax.lax.associative_scan, about "
        "2 log2 T steps; cells linear in their state only: lru, mingru, minlstm, s6) or auto (parallel for those cells "
        "where it measured faster: latchjax.core.model.parallel_is_faster)"))
    head_init: str = field(default="random", metadata=setting(
        "head_init", str, "random (the framework's draw), aligned or reversed: flip the head so the noiseless "
        "class prototypes start classified right / wrong"))
    data: str = field(default="shared", metadata=setting(
        "data", str, "shared (one dataset per length for every seed, as the question), per-seed (each seed "
        "draws its own dataset), online (every minibatch drawn fresh, one stream shared by the models of a point, "
        "as H&S 1997) or online-per-seed (one stream per seed); online data trains --budget sequences and tests "
        "on a fixed set of --test-samples"))
    budget: int | None = field(default=None, metadata=setting(
        "budget", int, "online data: training sequences per model (replaces --epochs and --samples)",
        shown="none; required with online data"))
    eval_every: int | None = field(default=None, metadata=setting(
        "eval_every", int, "online data: check the success rule every this many minibatches (steps to success "
        "are counted at this resolution)", shown="once, at the end of the budget; offline data: every epoch"))
    test_samples: int | None = field(default=None, metadata=setting(
        "test_samples", int, "online data: size of the fixed held-out test set", shown=f"{DEFAULT_TEST_SAMPLES}"))
    train: str = field(default="all", metadata=setting(
        "train", str, "all (every parameter) or head (the read-out only: the recurrent cell keeps its initial "
        "parameters, a control for how much of a success is reading out an untrained latch)"))
    head_lr_scale: float = field(default=1.0, metadata=setting(
        "head_lr_scale", float, "multiply the read-out's updates by this (its effective learning rate against the "
        "cell's; a control for how fast the head turns)"))
    labels: str = field(default="task", metadata=setting(
        "labels", str, "task (the task's) or shuffled (the training labels permuted across sequences, apart from "
        "their inputs: a random-label control; validation keeps the true labels)"))
    snapshots: bool = field(default=False, metadata=setting(
        "snapshots", bool, "keep every model's parameters after every epoch (online data: every evaluation) in "
        "snapshots.npz, for the learning dynamics (lambda through training)"))
    stop_at_success: bool = field(default=False, metadata=setting(
        "stop_at_success", bool, "freeze each model's parameters and optimizer state once its success rule holds "
        "(at an evaluation), recording when"))
    threshold: float = field(default=DEFAULT_THRESHOLD, metadata=setting(
        "threshold", float, "success = final validation accuracy >= threshold (tasks with their own success rule, "
        "e.g. adding, keep the default)"))
    resolved: Resolved = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check = Checks(self)
        check.choice("flavor", tuple(FLAVORS))
        if self.forget_biases is None:
            object.__setattr__(self, "forget_biases", (FLAVORS[self.flavor].default_forget_bias,))
        for name in ("cells", "lengths", "lrs", "forget_biases"):
            value = getattr(self, name)
            if isinstance(value, (str, int, float)) or not hasattr(value, "__len__"):
                value = (value,)
            object.__setattr__(self, name, tuple(value))
            check.need(len(value) > 0, name, "give at least one value")
        try:
            cells = tuple(make_cell(cell, self.units, self.flavor) for cell in self.cells)
        except SettingsError:
            raise
        except ValueError as err:  # a cell spec's own message names the option ("cell: ...", "rec: ...")
            name, _, message = str(err).partition(": ")
            if name in ("units", "flavor") and all(isinstance(c, str) and ":" not in c for c in self.cells):
                raise SettingsError(message, name) from None  # the sweep's --units / --flavor
            raise SettingsError(str(err).removeprefix("cell: "), "cells") from None
        names = [cell.name for cell in cells]
        check.need(len(set(names)) == len(names), "cells", f"duplicate cells in {names}")
        check.need(all(isinstance(n, (int, np.integer)) and n >= 1 for n in self.lengths), "lengths",
                   f"every length must be an integer >= 1, got {list(self.lengths)}")
        for name in ("lengths", "lrs", "forget_biases"):
            check.distinct(name)
        check.finite("lrs")
        # NaN stands for "the framework's own draw": PyTorch's, the torch flavour's default; no other value
        own_draw = np.isnan(FLAVORS[self.flavor].default_forget_bias)
        check.need(all(np.isfinite(float(b)) or (own_draw and np.isnan(float(b))) for b in self.forget_biases),
                   "forget_biases", f"must be finite, got {list(self.forget_biases)}"
                   + ("" if own_draw else " (NaN means PyTorch's own draw, which only the torch flavour has)"))
        if self.length_buckets is None:  # online data: one program per length (the task draws in it)
            object.__setattr__(self, "length_buckets", len(self.lengths) if self.data in ONLINE_MODES
                               else default_length_buckets())
        if self.unroll is None:
            object.__setattr__(self, "unroll", default_unroll())
        for name in ("seeds", "epochs", "batch_size", "samples", "length_buckets", "unroll"):
            check.integer(name)
        check.seed("seed")
        check.seed("data_seed")
        if self.shuffle_seed is not None:
            check.seed("shuffle_seed")
            check.need(not self.online, "shuffle_seed", "online data has no shuffle: every minibatch is drawn fresh "
                       "from the data stream")
        check.choice("split", SPLITS)
        check.choice("head", HEADS)
        check.choice("head_init", HEAD_INITS)
        check.choice("data", DATA_MODES)
        check_online(self, check)
        check.choice("train", TRAINED)
        check.need(isinstance(self.head_lr_scale, (int, float)) and not isinstance(self.head_lr_scale, bool)
                   and np.isfinite(self.head_lr_scale) and self.head_lr_scale > 0, "head_lr_scale",
                   f"must be a finite number > 0, got {self.head_lr_scale!r}")
        check.boolean("snapshots")
        check.choice("labels", LABELS)
        check.need(self.labels == "task" or not self.online, "labels", "online data has no fixed training labels "
                   "to shuffle")
        check.boolean("stop_at_success")
        check.choice("gradient", GRADIENTS)
        check.choice("scan", SCAN_CHOICES)
        if isinstance(self.optimizer, str):
            check.choice("optimizer", ("flavor", *OPTIMIZERS))
        check.need(isinstance(self.val_fraction, (int, float)) and 0 < self.val_fraction < 1, "val_fraction",
                   f"must be in (0, 1), got {self.val_fraction!r}")
        check.need(0 < self.n_train < self.samples, "samples",
                   f"{self.samples} samples leave an empty train or validation set at val_fraction={self.val_fraction}")
        check.need(self.batch_size <= self.n_train, "batch_size",
                   f"{self.batch_size} is larger than the training set ({self.n_train} samples)")
        check.need(all(float(lr) > 0 for lr in self.lrs), "lrs", f"must be > 0, got {list(self.lrs)}")
        check.need(0 < self.threshold <= 1, "threshold", f"must be in (0, 1], got {self.threshold!r}")
        noise = self.task_kwargs.get("noise", 0)
        if not (isinstance(noise, (int, float)) and np.isfinite(noise) and noise >= 0):
            raise SettingsError(f"must be a finite number >= 0, got {noise!r}", "noise")
        if isinstance(self.task, str) and self.task in TASKS:  # every option the run uses, defaults included
            object.__setattr__(self, "task_kwargs", task_defaults(self.task) | dict(self.task_kwargs))
        try:
            task = make_task(self.task, **self.task_kwargs)
            # the task checks its options against a length (bit_relay's middle, two_sequence's informative)
            drawn = probe(task, min(self.lengths))
        except SettingsError:
            raise
        except (ValueError, TypeError) as err:
            name, _, message = str(err).partition(": ")
            raise SettingsError(message, name) if message else SettingsError(str(err), "task") from None
        if self.head_init != "random":
            check.need(has_prototypes(self.task), "head_init",
                       f"{self.head_init} needs a task with class prototypes (latch, bit_relay, two_sequence)")
        check_output(self, task, check)
        output = task_output(task)
        check.need(self.labels == "task" or (output.kind == "class" and not output.every), "labels",
                   "shuffled labels need one class label per sequence (a class read at the last step)")
        check_time_loop(self, cells, task, check)
        object.__setattr__(self, "resolved", Resolved(cells, task, int(drawn.x.shape[-1]), drawn.length is not None))
        if self.online:
            check_traceable(self, task)

    @property
    def n_train(self) -> int:
        return int(self.samples * (1.0 - self.val_fraction))

    @property
    def online(self) -> bool:
        """Whether every minibatch is drawn fresh (``data`` ``online`` or ``online-per-seed``)."""
        return self.data in ONLINE_MODES

    @property
    def n_val(self) -> int:
        """The validation (test) sequences the success rule is judged on: the split's, or online ``test_samples``."""
        return self.test_samples if self.online else self.samples - self.n_train

    @property
    def total_steps(self) -> int:
        """Minibatch steps of one model's training: online ``ceil(budget / batch_size)``, else epochs x batches."""
        if self.online:
            return -(-self.budget // self.batch_size)
        return self.epochs * -(-self.n_train // self.batch_size)

    @property
    def steps_per_round(self) -> int:
        """Minibatch steps between two evaluations: ``eval_every`` (online), else one epoch's."""
        return self.eval_every if self.online else -(-self.n_train // self.batch_size)

    @property
    def rounds(self) -> int:
        """Evaluations of one model's training, each after :attr:`steps_per_round` steps: the epochs of offline
        data; online ``ceil(total_steps / eval_every)`` (the last round stops at the budget)."""
        return -(-self.total_steps // self.eval_every) if self.online else self.epochs

    def sequences_seen(self) -> list[int]:
        """Training sequences a model has seen at each evaluation (the ``sequences`` of a run's history)."""
        if self.online:
            return [min((r + 1) * self.eval_every, self.total_steps) * self.batch_size for r in range(self.rounds)]
        return [(e + 1) * self.n_train for e in range(self.epochs)]

    @property
    def output(self) -> Output:
        """What the task declares it outputs (:class:`~latchjax.core.tasks.output.Output`; a plain task: a binary
        class)."""
        return task_output(self.resolved.task)

    @property
    def rule(self) -> Rule | None:
        """The task's success rule, or ``None`` for today's: final validation accuracy >= ``threshold``."""
        return task_rule(self.resolved.task)

    @property
    def loss_head(self) -> str:
        """The head the model trains (:data:`latchjax.core.model.HEAD_LOSSES`): ``head`` for a class output,
        ``mse`` for a regression."""
        return {"regress": "mse", "multilabel": "bce"}.get(self.output.kind, self.head)

    def replace(self, **changes) -> SweepConfig:
        return dataclasses.replace(self, **changes)


# --- the vocabulary of settings ------------------------------------------------------------------

def task_defaults(task: str) -> dict[str, Any]:
    """The options a built-in task takes, with its own defaults (``None``: a rule, e.g. bit_relay's
    ``middle = length // 2``)."""
    return {p.name: p.default for p in inspect.signature(TASKS[task]).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY}
