"""Random weight guessing (Hochreiter & Schmidhuber 1996/2001) on their benchmark tasks.

REPEAT draw every weight uniformly in [-100, 100] UNTIL the net classifies all training sequences
correctly; then measure it on a fresh test set. "Trials" is the number of guesses drawn.

* Tasks (:data:`TASKS`, in :mod:`latchjax.studies.guess_tasks`): ``latch1``, ``latch2``, ``two_sequence``,
  ``parity`` and ``adding`` (LSTM paper, Exp. 4). Every sequence has its own length, drawn uniformly
  in [length, length_max]; sequences are left-padded and the state is held at zero until a
  sequence's first element (:func:`latchjax.core.scan.masked_scan`), so each one is processed at exactly
  its own length.
* Architectures (:func:`make_arch`, in :mod:`latchjax.studies.guess_nets`): ``latch1`` (Bengio's latch: one recurrent weight and one
  trainable first input per class), ``unit`` (one tanh unit with self, input and bias weights:
  latch II), ``a1[:n=N]`` / ``a2[:n=N]`` (H&S's fully / sparsely connected sigmoid nets with N
  hidden units and one output unit), and any Keras cell spec (``srnn``, ``lstm:units=2``,
  ``gru``...) with a Dense(1) read-out. Each is a :class:`latchjax.core.cells.protocol.Recurrence`.

Guess ``k`` of simulation ``s`` is drawn from ``fold_in(fold_in(key(seed), s), k)``, so the trials
of a simulation do not depend on how many guesses are evaluated per batch.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from latchjax.core.scan import masked_scan
from latchjax.core.vocabulary import Checks, SettingsError, setting
from latchjax.studies.guess_nets import ARCH_HELP, DEFAULT_ARCH, Arch, CellArch, Latch1, Recurrent, make_arch
from latchjax.studies.guess_tasks import TASK_OPTIONS, TASKS, Batch, GuessTask, make_batch
from latchjax.sweep.compiler import compile_lowered

__all__ = ["TASKS", "TASK_OPTIONS", "Batch", "GuessTask", "make_batch",  # the tasks, from guess_tasks
           "Arch", "Latch1", "Recurrent", "CellArch", "make_arch", "DEFAULT_ARCH", "ARCH_HELP",  # from guess_nets
           "run_arch", "correct", "guess_correct", "Evaluator", "make_scorer", "GuessConfig", "GuessResult", "guess"]


def run_arch(arch: Arch, params: Any, x: jax.Array, start: jax.Array) -> jax.Array:
    """Read-outs at each sequence's end, ``(n,)``; the state stays at zero before ``start`` (one per row)."""
    n, _, n_in = x.shape

    def step(carry, x_t):
        return arch.step(params, carry, x_t)

    carry, _ = masked_scan(step, arch.initial_carry(n, n_in), jnp.swapaxes(x, 0, 1), start)
    return arch.readout(params, carry)


def correct(output: jax.Array, target: jax.Array, tolerance: float) -> jax.Array:
    """H&S's criterion; NaN/inf outputs are never correct."""
    return jnp.abs(output - target) < tolerance


def guess_correct(arch: Arch, task: GuessTask, sim_key, k, x, start, target) -> jax.Array:
    """Which sequences guess ``k`` of a simulation classifies correctly, ``(n,)`` bool."""
    params = arch.draw(jax.random.fold_in(sim_key, k), task.n_in)
    return correct(run_arch(arch, params, x, start), target, task.tolerance)


class Evaluator:
    """``evaluate(sim_key, ks, x, start, target) -> (G,) bool``: whether guess k (for k in ``ks``) of
    the simulation classifies every sequence correctly. Compiled once per batch shape (without the
    slow CPU fusion, see :func:`latchjax.sweep.compiler.compile_lowered`); ``compile_seconds`` adds up the
    time spent compiling."""

    def __init__(self, arch: Arch, task: GuessTask) -> None:
        one = lambda *args: jnp.all(guess_correct(arch, task, *args))  # noqa: E731
        self.batched = jax.jit(jax.vmap(one, in_axes=(None, 0, None, None, None)))
        self.cache: dict = {}
        self.compile_seconds = 0.0

    def __call__(self, sim_key, ks, x, start, target):
        shape = (ks.shape, x.shape)
        if shape not in self.cache:
            t0 = time.perf_counter()
            self.cache[shape] = compile_lowered(self.batched.lower(sim_key, ks, x, start, target))
            self.compile_seconds += time.perf_counter() - t0
        return self.cache[shape](sim_key, ks, x, start, target)


def make_scorer(arch: Arch, task: GuessTask) -> Callable:
    """Jitted ``score(sim_key, k, x, start, target) -> accuracy`` of one guess."""
    return jax.jit(lambda *args: jnp.mean(guess_correct(arch, task, *args)))


# --- the search ---------------------------------------------------------------------------------

def _per_task(rule: Callable[[str, GuessTask], str]) -> str:
    """A default that depends on the task, as ``--help`` shows it: the most common value, then the others
    (``500; 100 for two_sequence, adding``)."""
    values = {name: rule(name, task) for name, task in TASKS.items()}
    common = Counter(values.values()).most_common(1)[0][0]
    others: dict[str, list[str]] = {}
    for name, value in values.items():
        if value != common:
            others.setdefault(value, []).append(name)
    return "; ".join([common, *(f"{value} for {', '.join(names)}" for value, names in others.items())])


def _length_max_rule(name: str, task: GuessTask) -> str:
    """A task's default ``length_max`` as a rule, ``T + T/5``, from its value at the task's own T."""
    return f"T + T/{task.length // (task.length_max(task.length) - task.length)}"


@dataclass(frozen=True)
class GuessConfig:
    """One random-weight-guessing experiment: ``simulations`` independent searches on ``task`` (a name in
    :data:`TASKS` or a :class:`GuessTask`) with ``arch`` (a spec, see :data:`ARCH_HELP`, or an :class:`Arch`;
    default per task: :data:`DEFAULT_ARCH`). ``length`` / ``length_max`` default to the task's. ``options``
    holds the task's options as ``(key, value)`` pairs or ``"KEY=VALUE"`` texts (``--task-option``)."""

    task: str | GuessTask = field(metadata=setting("task", str, f"task: {', '.join(TASKS)}"))
    arch: str | Arch | None = field(default=None, metadata=setting(
        "arch", str, ARCH_HELP, shown=_per_task(lambda name, task: DEFAULT_ARCH[name])))
    simulations: int = field(default=40, metadata=setting(
        "simulations", int, "independent searches, each with its own data"))
    length: int | None = field(default=None, metadata=setting(
        "length", int, "minimal sequence length T", shown=_per_task(lambda name, task: str(task.length))))
    length_max: int | None = field(default=None, metadata=setting(
        "length_max", int, "longest sequence length", shown=_per_task(_length_max_rule)))
    train: int = field(default=100, metadata=setting("train", int, "training sequences (half per class)"))
    test: int = field(default=100, metadata=setting("test", int, "fresh test sequences for the successful guess"))
    max_trials: int = field(default=1_000_000, metadata=setting(
        "max_trials", int, "give a simulation up after this many guesses"))
    batch: int = field(default=4096, metadata=setting("batch", int, "most guesses evaluated at once"))
    seed: int = field(default=0, metadata=setting("seed", int, "base random seed (data and guesses)"))
    options: tuple[tuple[str, float], ...] = field(default=(), metadata=setting(
        "task_option", str, "task option: N (two_sequence: informative first inputs), noise_var (latch1, latch2, "
        "two_sequence); repeatable", repeatable=True, metavar="KEY=VALUE", shown="none"))

    def __post_init__(self) -> None:
        check = Checks(self)
        if not isinstance(self.task, GuessTask):
            check.choice("task", tuple(TASKS))
        task = self.guess_task
        if self.length is None:
            object.__setattr__(self, "length", task.length)
        if self.length_max is None:
            object.__setattr__(self, "length_max", task.length_max(self.length))
        for name in ("simulations", "length", "length_max", "max_trials", "batch"):
            check.integer(name)
        check.integer("train", 2)  # one sequence per class at least
        check.integer("test", 2)
        check.seed("seed")
        check.need(self.max_trials <= 2**32, "max_trials", f"must be <= 2**32 (guesses are numbered in 32 bits), "
                   f"got {self.max_trials}")
        check.need(self.length_max >= self.length, "length_max",
                   f"must be >= --length ({self.length}), got {self.length_max}")
        if task.name == "adding":
            check.need(self.length >= 22, "length", f"the adding problem needs T >= 22, got {self.length}")
        object.__setattr__(self, "options", tuple(self._option(o, task) for o in self.options))
        _ = self.network  # builds and checks the architecture

    def _option(self, option: str | tuple[str, float], task: GuessTask) -> tuple[str, float]:
        """One task option, ``"KEY=VALUE"`` or ``(key, value)``, checked against the task."""
        if isinstance(option, str):
            key, sep, text = option.partition("=")
            try:
                value = float(text) if sep else None
            except ValueError:
                value = None
            if value is None:
                raise SettingsError(f"expected KEY=NUMBER, got {option!r}", "task_option")
            option = (key.strip(), value)
        key, value = option
        allowed = TASK_OPTIONS.get(task.name, ())
        if key not in allowed:
            raise SettingsError(f"{key} is not an option of {task.name} (options: {', '.join(allowed) or 'none'})",
                                "task_option")
        if key == "N" and not (float(value).is_integer() and 1 <= value <= self.length):
            raise SettingsError(f"N must be an integer in [1, {self.length}], got {value:g}", "task_option")
        if key == "noise_var" and not (np.isfinite(value) and value >= 0):
            raise SettingsError(f"noise_var must be finite and >= 0, got {value:g}", "task_option")
        return key, float(value)

    @property
    def guess_task(self) -> GuessTask:
        return self.task if isinstance(self.task, GuessTask) else TASKS[self.task]

    @property
    def network(self) -> Arch:
        if isinstance(self.arch, Arch):
            return self.arch
        return make_arch(self.arch or DEFAULT_ARCH[self.guess_task.name], self.guess_task)

    @property
    def arch_spec(self) -> str:
        return self.network.name

    @property
    def task_options(self) -> dict:
        return {k: int(v) if k == "N" else float(v) for k, v in self.options}


@dataclass
class GuessResult:
    config: GuessConfig
    trials: np.ndarray  # (simulations,) guesses drawn until success; 0 where none succeeded within max_trials
    test_accuracy: np.ndarray  # (simulations,) of the successful guess; nan where none
    guesses: int  # guesses evaluated (including those after a batch's first success)
    seconds: float  # evaluation time, compile excluded
    compile_seconds: float
    n_params: int

    @property
    def solved(self) -> np.ndarray:
        return self.trials > 0

    def summary(self) -> dict:
        solved = self.trials[self.solved]
        cfg = self.config
        return {
            "task": cfg.guess_task.name, "arch": cfg.arch_spec, "n_params": self.n_params,
            "length": cfg.length, "length_max": cfg.length_max, "train": cfg.train, "test": cfg.test,
            "options": cfg.task_options, "simulations": cfg.simulations, "solved": int(self.solved.sum()),
            "max_trials": cfg.max_trials,
            "mean_trials": float(solved.mean()) if solved.size else None,
            "median_trials": float(np.median(solved)) if solved.size else None,
            "min_trials": int(solved.min()) if solved.size else None,
            "max_trials_seen": int(solved.max()) if solved.size else None,
            "mean_test_accuracy": float(np.nanmean(self.test_accuracy)) if solved.size else None,
            "guesses_evaluated": self.guesses, "seconds": round(self.seconds, 3),
            "compile_seconds": round(self.compile_seconds, 3),
            "guesses_per_second": self.guesses / self.seconds if self.seconds > 0 else None,
            "sequence_steps_per_second": self.guesses * cfg.train * (cfg.length + cfg.length_max) / 2 / self.seconds
            if self.seconds > 0 else None,
        }


def guess(cfg: GuessConfig, progress: Callable[[int, int], None] | None = None) -> GuessResult:
    """Run ``cfg.simulations`` independent random searches (own training and test sets each).

    Guesses are evaluated in batches that double from 64 up to ``cfg.batch`` while a simulation is
    unsolved; ``progress(simulation, trials)`` is called as each simulation ends.
    """
    task, arch = cfg.guess_task, cfg.network
    evaluate, score = Evaluator(arch, task), make_scorer(arch, task)
    base = jax.random.key(cfg.seed)
    trials = np.zeros(cfg.simulations, np.int64)
    accuracy = np.full(cfg.simulations, np.nan)
    guesses, seconds = 0, 0.0
    for s in range(cfg.simulations):
        k_sim = jax.random.fold_in(base, s)
        k_train, k_test, k_guess = jax.random.split(k_sim, 3)
        train = make_batch(task, k_train, cfg.train, cfg.length, cfg.length_max, **cfg.task_options)
        drawn, size = 0, 64
        while drawn < cfg.max_trials:
            g = min(size, cfg.batch, cfg.max_trials - drawn)
            ks = jnp.arange(drawn, drawn + g, dtype=jnp.uint32)
            t0, compiling = time.perf_counter(), evaluate.compile_seconds
            ok = np.asarray(evaluate(k_guess, ks, train.x, train.start, train.target))
            seconds += time.perf_counter() - t0 - (evaluate.compile_seconds - compiling)
            guesses += g
            if ok.any():
                first = int(np.argmax(ok))
                trials[s] = drawn + first + 1
                test = make_batch(task, k_test, cfg.test, cfg.length, cfg.length_max, **cfg.task_options)
                accuracy[s] = float(score(k_guess, jnp.uint32(drawn + first), test.x, test.start, test.target))
                break
            drawn += g
            size *= 2
        if progress is not None:
            progress(s, int(trials[s]))
    return GuessResult(cfg, trials, accuracy, guesses, seconds, evaluate.compile_seconds, arch.n_weights(task.n_in))
