"""The checks of a :class:`~latchjax.sweep.config.SweepConfig` that look past its own fields: online data's settings,
what the task declares against the head, threshold and validation set (its data drawn on a few rows first, so that a
task whose data do not match what it declares is refused before anything is written), and whether a task JAX cannot
trace can be drawn inside the compiled program. Each raises :class:`~latchjax.core.vocabulary.SettingsError` naming
the setting.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import jax
import numpy as np

from latchjax.core.data import check_task_data
from latchjax.core.tasks import Task
from latchjax.core.tasks.output import (
    AbsError,
    Accuracy,
    LossRatio,
    Sequences,
    describe_rule,
    task_name,
    task_output,
    task_rule,
)
from latchjax.core.vocabulary import Checks, SettingsError

if TYPE_CHECKING:
    from latchjax.sweep.config import SweepConfig

DEFAULT_THRESHOLD = 0.9
DEFAULT_TEST_SAMPLES = 2560  # H&S 1997's test set
PROBE_ROWS = 32  # rows of a declaring task drawn by SweepConfig to check its data before anything is written


def check_online(cfg: SweepConfig, check: Checks) -> None:
    """Online data's settings (``budget``, ``eval_every``, ``test_samples``), resolved, and refused for offline
    data, where the epochs and the split say the same; one program per length (the task draws in it)."""
    if not cfg.online:
        for name in ("budget", "eval_every", "test_samples"):
            check.need(getattr(cfg, name) is None, name, f"is for online data (--data online); {cfg.data} data trains "
                       "--epochs over --samples and checks the rule after every epoch")
        return
    check.need(cfg.budget is not None, "budget", "online data needs a budget of training sequences per model")
    check.integer("budget")
    if cfg.test_samples is None:
        object.__setattr__(cfg, "test_samples", DEFAULT_TEST_SAMPLES)
    check.integer("test_samples")
    if cfg.eval_every is None:
        object.__setattr__(cfg, "eval_every", cfg.total_steps)
    check.integer("eval_every")
    check.need(cfg.eval_every <= cfg.total_steps, "eval_every",
               f"{cfg.eval_every} steps is more than the budget's {cfg.total_steps} minibatches")
    check.need(cfg.split == "shuffled", "split", "online data has no split (a fixed test set is drawn apart)")
    check.need(cfg.head_init == "random", "head_init", "aligned/reversed heads are for offline data")
    lengths = len(cfg.lengths)
    check.need(cfg.length_buckets == lengths, "buckets",
               f"online data compiles one program per length (the task draws in it): {lengths}, not "
               f"{cfg.length_buckets}")


def check_output(cfg: SweepConfig, task: Task, check: Checks) -> None:
    """What the task declares (:mod:`latchjax.core.tasks.output`) against the head, the threshold and the
    validation set: ``sigmoid`` only for a binary class; ``threshold`` only where the success rule is today's
    accuracy (whose chance of being reached by guessing must stay under 5%); a rule's own values in range."""
    output, rule, n_val = task_output(task), task_rule(task), cfg.n_val
    name = task_name(task)
    check.need(cfg.head != "sigmoid" or output.binary, "head",
               f"sigmoid (Dense(1) + BCE) is for binary tasks; task {name} declares {output}")
    if rule is None:
        chance = chance_of_passing(n_val, cfg.threshold, 1.0 / output.size)
        check.need(chance < 0.05, "val_fraction",
                   f"{n_val} validation samples cannot carry the threshold {cfg.threshold:g}: a model guessing at "
                   f"random would reach it with probability {chance:.2g}; use more --samples or a larger fraction")
        return
    check.need(cfg.threshold == DEFAULT_THRESHOLD, "threshold",
               f"task {name} has its own success rule ({describe_rule(rule, cfg.threshold)}); --threshold is for "
               "accuracy rules only")
    if isinstance(rule, Accuracy):
        check.need(output.kind == "class" and 0 < rule.threshold <= 1, "task",
                   f"{name}: Accuracy({rule.threshold!r}) needs a class output and a threshold in (0, 1]")
    if isinstance(rule, AbsError):
        check.need(rule.tolerance > 0 and isinstance(rule.allowed, int) and 0 <= rule.allowed < n_val, "task",
                   f"{name}: AbsError needs a tolerance > 0 and 0 <= allowed < {n_val} (the validation sequences), "
                   f"got {rule}")
    if isinstance(rule, LossRatio):
        values = [float(rule.value(length)) for length in cfg.lengths]
        check.need(rule.ratio > 0 and all(np.isfinite(v) and v > 0 for v in values), "task",
                   f"{name}: LossRatio needs a ratio > 0 and a finite baseline > 0 at every length, got {rule.ratio!r} "
                   f"and {values[:4]}")


def probe(task: Task, length: int) -> Sequences:
    """:data:`PROBE_ROWS` sequences of ``length`` drawn and checked against what the task declares
    (:func:`~latchjax.core.data.check_task_data`)."""
    # drawn once on a few rows, so that data which do not match what the task declares are refused before anything
    # is written (make_dataset checks every row again as it draws them)
    return check_task_data(task, task(jax.random.key(0), PROBE_ROWS, length), PROBE_ROWS, length)


def check_traceable(cfg: SweepConfig, task: Task) -> None:
    """Online data is drawn inside the compiled program: the task must be a JAX function of its key."""
    try:
        for length in cfg.lengths:
            jax.eval_shape(lambda key, length=length: task(key, cfg.batch_size, length), jax.random.key(0))
    except Exception as err:  # a NumPy task, or one that branches on values
        raise SettingsError(f"online data draws inside the compiled program, and task {task_name(task)} cannot be "
                            f"traced by JAX ({type(err).__name__}); use --data shared or per-seed", "data") from None


def chance_of_passing(n_val: int, threshold: float, p: float = 0.5) -> float:
    """The probability that a model guessing each of ``n_val`` validation labels at random (right with
    probability ``p``: 1/K for K classes) reaches accuracy ``threshold``: P(Binomial(n_val, p) >= ceil(threshold *
    n_val))."""
    need = math.ceil(threshold * n_val - 1e-9)

    def log_p(k: int) -> float:
        return -n_val * math.log(2) if p == 0.5 else k * math.log(p) + (n_val - k) * math.log1p(-p)

    log_terms = (math.lgamma(n_val + 1) - math.lgamma(k + 1) - math.lgamma(n_val - k + 1) + log_p(k)
                 for k in range(max(need, 0), n_val + 1))
    total = 0.0
    for log_term in log_terms:  # past the mode the terms only fall: stop once they no longer count
        term = math.exp(log_term)
        total += term
        if 2 * need > n_val and term < 1e-18 * total:
            break
    return min(total, 1.0)


def check_time_loop(cfg: SweepConfig, cells: tuple, task: Task, check: Checks) -> None:
    """How the time loop can run: ``--scan parallel`` only for cells linear in their state and not with forward-mode
    gradients, which run the sequential loop and compute one output at the last step only."""
    if cfg.scan == "parallel":
        nonlinear = [cell.name for cell in cells if not getattr(cell, "linear", False)]
        check.need(not nonlinear, "scan", f"parallel is for cells linear in their state (lru, mingru, minlstm, "
                   f"s6); {', '.join(nonlinear)} {'is' if len(nonlinear) == 1 else 'are'} not")
        check.need(cfg.gradient != "forward", "gradient", "forward-mode gradients run the sequential time loop; "
                   "with --scan parallel use --gradient reverse or auto")
    check.need(cfg.gradient != "forward" or not task_output(task).every, "gradient",
               f"forward-mode gradients are for an output at the last step; task {task_name(task)} declares "
               f"{task_output(task)}")
