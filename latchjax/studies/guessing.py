"""Random weight guessing (Hochreiter & Schmidhuber 1996/2001) on their benchmark tasks.

REPEAT draw every weight uniformly in [-100, 100] UNTIL the net classifies all training sequences
correctly; then measure it on a fresh test set. "Trials" is the number of guesses drawn.

* Tasks (:data:`TASKS`, in :mod:`latchjax.studies.guess_tasks`): ``latch1``, ``latch2``, ``two_sequence``,
  ``parity`` and ``adding`` (LSTM paper, Exp. 4). Every sequence has its own length, drawn uniformly
  in [length, length_max]; sequences are left-padded and the state is held at zero until a
  sequence's first element (:func:`latchjax.scan.masked_scan`), so each one is processed at exactly
  its own length.
* Architectures (:func:`make_arch`): ``latch1`` (Bengio's latch: one recurrent weight and one
  trainable first input per class), ``unit`` (one tanh unit with self, input and bias weights:
  latch II), ``a1[:n=N]`` / ``a2[:n=N]`` (H&S's fully / sparsely connected sigmoid nets with N
  hidden units and one output unit), and any Keras cell spec (``srnn``, ``lstm:units=2``,
  ``gru``...) with a Dense(1) read-out. Each is a :class:`latchjax.cells.Recurrence`.

Guess ``k`` of simulation ``s`` is drawn from ``fold_in(fold_in(key(seed), s), k)``, so the trials
of a simulation do not depend on how many guesses are evaluated per batch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from latchjax.core.cells import CELL_KINDS, RNNCell, parse_cell
from latchjax.core.scan import masked_scan
from latchjax.studies.bengio import LATCH
from latchjax.studies.guess_tasks import TASK_OPTIONS, TASKS, Batch, GuessTask, make_batch
from latchjax.sweep.compiler import compile_lowered

__all__ = ["TASKS", "TASK_OPTIONS", "Batch", "GuessTask", "make_batch",  # the tasks, from guess_tasks
           "Arch", "Latch1", "Recurrent", "CellArch", "make_arch", "run_arch", "correct", "guess_correct",
           "Evaluator", "make_scorer", "GuessConfig", "GuessResult", "guess", "DEFAULT_ARCH", "ARCH_HELP"]

WEIGHT_RANGE = 100.0


# --- architectures ------------------------------------------------------------------------------

class Arch:
    """A network whose every weight is guessed, a :class:`latchjax.cells.Recurrence`: ``shapes(n_in)``
    gives the parameter pytree's shapes; ``initial_carry(batch, n_in)``, ``step(params, carry, x_t) ->
    (carry, out)`` and ``output(carry)`` run it; ``readout(params, carry)`` is its answer at a
    sequence's end (the output, unless a read-out layer follows); ``output_range`` is what that
    answer can reach."""

    name: str
    output_range: tuple[float, float]

    def shapes(self, n_in: int) -> Any:
        raise NotImplementedError

    def initial_carry(self, batch: int, n_in: int) -> Any:
        raise NotImplementedError

    def step(self, params: Any, carry: Any, x_t: jax.Array) -> tuple[Any, jax.Array]:
        raise NotImplementedError

    def output(self, carry: Any) -> jax.Array:
        raise NotImplementedError

    def readout(self, params: Any, carry: Any) -> jax.Array:
        return self.output(carry)

    def n_weights(self, n_in: int) -> int:
        """The weights that take part (a sparse net draws, but never uses, the others)."""
        return sum(math.prod(s) for s in jax.tree.leaves(self.shapes(n_in), is_leaf=lambda s: isinstance(s, tuple)))

    def draw(self, key: jax.Array, n_in: int) -> Any:
        """Every weight uniform in [-100, 100]."""
        shapes = self.shapes(n_in)
        leaves, treedef = jax.tree.flatten(shapes, is_leaf=lambda s: isinstance(s, tuple))
        keys = jax.random.split(key, len(leaves))
        return treedef.unflatten([jax.random.uniform(k, s, jnp.float32, -WEIGHT_RANGE, WEIGHT_RANGE)
                                  for k, s in zip(keys, leaves)])


@dataclass(frozen=True)
class Latch1(Arch):
    """Bengio's minimal latch with L = 1 (:data:`latchjax.bengio.LATCH`: a_t = w tanh(a_{t-1}) + h_t,
    output tanh(a_T)). h_1 is a free parameter per class (``h_pos``, ``h_neg``); later h_t are the
    task's noise. 3 parameters."""

    name: str = "latch1"
    output_range: tuple[float, float] = (-1.0, 1.0)

    def shapes(self, n_in):
        if n_in != 2:
            raise ValueError("arch: latch1 only runs the latch1 task (its inputs carry the class of the free first input)")
        return {"w": (), "h_pos": (), "h_neg": ()}

    def initial_carry(self, batch, n_in):
        return LATCH.initial_carry(batch, n_in)

    def step(self, p, a, x_t):
        h = x_t[:, 0] + jnp.where(x_t[:, 1] > 0, p["h_pos"], 0.0) + jnp.where(x_t[:, 1] < 0, p["h_neg"], 0.0)
        return LATCH.step(p["w"], a, h)

    def output(self, a):
        return LATCH.output(a)


@dataclass(frozen=True)
class Recurrent(Arch):
    """H&S's nets: ``hidden`` units and one output unit, all biased, activations 0 at the start,
    updated layer by layer: the hidden units read the input and the previous step's hidden and
    output units; the output unit then reads the input, this step's hidden units and its own
    previous value. ``a1``: fully connected. ``a2``: each hidden unit sees only itself (and the
    input and the output unit); the output unit has no self-connection. ``unit`` is a1 with no
    hidden unit and tanh: one unit with self, input and bias weights."""

    name: str = "a1"
    hidden: int = 1
    sparse: bool = False
    activation: str = "sigmoid"

    @property
    def output_range(self):
        return (0.0, 1.0) if self.activation == "sigmoid" else (-1.0, 1.0)

    def shapes(self, n_in):
        n = self.hidden
        return {"hh": (n, n), "oh": (n,), "xh": (n_in, n), "bh": (n,),
                "ho": (n,), "oo": (), "xo": (n_in,), "bo": ()}

    def n_weights(self, n_in: int) -> int:
        full = super().n_weights(n_in)
        return full - (self.hidden * self.hidden - self.hidden + 1) if self.sparse else full

    def initial_carry(self, batch, n_in):
        return jnp.zeros((batch, self.hidden), jnp.float32), jnp.zeros((batch,), jnp.float32)

    def _act(self, net):
        return jax.nn.sigmoid(net) if self.activation == "sigmoid" else jnp.tanh(net)

    def step(self, p, carry, x_t):
        h, o = carry
        if self.sparse:  # each hidden unit sees only itself
            recurrent = h * jnp.diagonal(p["hh"])
        elif self.hidden <= 4:  # a few multiply-adds beat a tiny matmul
            recurrent = (h[:, :, None] * p["hh"][None]).sum(1)
        else:
            recurrent = h @ p["hh"]
        net_h = recurrent + o[:, None] * p["oh"] + (x_t[:, :, None] * p["xh"][None]).sum(1)
        h = self._act(net_h + p["bh"])
        oo = 0.0 if self.sparse else p["oo"]
        o = self._act((h * p["ho"]).sum(-1) + oo * o + (x_t * p["xo"]).sum(-1) + p["bo"])
        return (h, o), o

    def output(self, carry):
        return carry[1]


@dataclass(frozen=True)
class CellArch(Arch):
    """A Keras cell (``srnn``, ``lstm``, ``gru``, any units/flavour) and a Dense(1) read-out squashed
    to the task's target range (tanh for +-targets, sigmoid for 0/1 targets)."""

    cell: RNNCell = RNNCell()
    squash: str = "sigmoid"

    @property
    def name(self):
        return self.cell.name

    @property
    def output_range(self):
        return (0.0, 1.0) if self.squash == "sigmoid" else (-1.0, 1.0)

    def shapes(self, n_in):
        cell = jax.eval_shape(lambda: self.cell.init(jax.random.key(0), n_in))
        return {"cell": jax.tree.map(lambda s: tuple(s.shape), cell),
                "kernel": (self.cell.units,), "bias": ()}

    def initial_carry(self, batch, n_in):
        return self.cell.initial_carry(batch, n_in)

    def step(self, p, carry, x_t):
        return self.cell.step(p["cell"], carry, x_t)

    def output(self, carry):
        return self.cell.output(carry)

    def readout(self, p, carry):
        h = self.output(carry)
        z = (h * p["kernel"]).sum(-1) + p["bias"]
        return jax.nn.sigmoid(z) if self.squash == "sigmoid" else jnp.tanh(z)


ARCH_HELP = ("latch1, unit (one tanh unit), a1[:n=N] (N hidden sigmoid units, fully connected), "
             "a2[:n=N] (sparse, N=10 by default), or a cell spec: srnn, lstm, gru, cifg, janet, lstm97, brc, nbrc"
             "[:units=K][:flavor=keras2|keras3|torch]")


def make_arch(spec: str, task: GuessTask) -> Arch:
    """An architecture from its spec (see :data:`ARCH_HELP`), checked against the task's targets."""
    kind, *options = spec.split(":")
    try:
        if kind == "latch1":
            if options:
                raise ValueError
            arch: Arch = Latch1()
        elif kind == "unit" and not options:
            arch = Recurrent(name="unit", hidden=0, activation="tanh")
        elif kind in ("a1", "a2"):
            hidden = 1 if kind == "a1" else 10
            for option in options:
                key, sep, value = option.partition("=")
                if key != "n" or not sep:
                    raise ValueError
                hidden = int(value)
            if hidden < 0 or (kind == "a2" and hidden < 1):
                raise ValueError
            arch = Recurrent(name=spec, hidden=hidden, sparse=kind == "a2")
        elif kind in CELL_KINDS:
            squash = "tanh" if task.targets[0] < 0 else "sigmoid"
            arch = CellArch(parse_cell(spec), squash)
        else:
            raise ValueError
    except ValueError as err:
        detail = f" ({err})" if str(err) else ""
        raise ValueError(f"arch: bad architecture {spec!r}{detail}; use {ARCH_HELP}") from None
    low, high = arch.output_range
    if not (low <= task.targets[0] and task.targets[1] <= high):
        raise ValueError(f"arch: {spec} outputs values in [{low:g}, {high:g}] but {task.name}'s targets are "
                         f"{task.targets[0]:g} and {task.targets[1]:g}")
    if isinstance(arch, Latch1) and task.name != "latch1":
        raise ValueError(f"arch: latch1 only runs the latch1 task, not {task.name}")
    arch.shapes(task.n_in)
    return arch


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
    slow CPU fusion, see :func:`latchjax.trainer.compile_lowered`); ``compile_seconds`` adds up the
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

@dataclass(frozen=True)
class GuessConfig:
    task: str | GuessTask = "latch1"
    arch: str | Arch | None = None  # default per task: DEFAULT_ARCH
    simulations: int = 40
    length: int | None = None  # minimal sequence length T (default per task)
    length_max: int | None = None
    train: int = 100
    test: int = 100
    max_trials: int = 1_000_000
    batch: int = 4096  # largest number of guesses evaluated at once
    seed: int = 0
    options: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        def need(ok, message):
            if not ok:
                raise ValueError(message)

        need(isinstance(self.task, GuessTask) or self.task in TASKS,
             f"task: unknown task {self.task!r}; allowed: {', '.join(TASKS)}")
        task = self.guess_task
        if self.length is None:
            object.__setattr__(self, "length", task.length)
        if self.length_max is None:
            object.__setattr__(self, "length_max", task.length_max(self.length))
        for name in ("simulations", "length", "train", "test", "max_trials", "batch"):
            value = getattr(self, name)
            need(isinstance(value, (int, np.integer)) and value >= 1, f"{name}: must be an integer >= 1, got {value!r}")
        need(self.length_max >= self.length, f"length_max: must be >= length ({self.length}), got {self.length_max}")
        need(self.train >= 2 and self.test >= 2, "train, test: need at least 2 sequences (one per class)")
        if task.name == "adding":
            need(self.length >= 22, f"length: the adding problem needs T >= 22, got {self.length}")
        allowed = TASK_OPTIONS.get(task.name, ())
        for key, value in self.options:
            need(key in allowed, f"{key}: not an option of {task.name} (options: {', '.join(allowed) or 'none'})")
            if key == "N":
                need(float(value).is_integer() and 1 <= value <= self.length,
                     f"N: must be an integer in [1, {self.length}], got {value:g}")
            if key == "noise_var":
                need(value >= 0, f"noise_var: must be >= 0, got {value:g}")
        _ = self.network  # builds and checks the architecture

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


DEFAULT_ARCH = {"latch1": "latch1", "latch2": "unit", "two_sequence": "a1", "parity": "a1", "adding": "a1"}


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
