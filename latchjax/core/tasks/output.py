"""What a task asks of the network: its output (:class:`Output`), read at the last step, and its success rule.

A plain task function ``(key, n, length) -> (x, y)`` asks for one binary class (labels 0/1): ``Output("class",
2)``, a success being a final validation accuracy >= the sweep's ``threshold``, exactly as latchjax has always
trained it. A task that asks more is a :class:`TaskSpec`, a callable that carries its output, success rule and
(optionally) memoryless baseline beside the function::

    def four_way(key, n, length):                    # 4 classes, read from the first input
        x = jax.random.normal(key, (n, length, 1))
        y = jnp.digitize(x[:, 0, 0], jnp.array([-0.67, 0.0, 0.67]))
        return x, y

    task = TaskSpec(four_way, Output("class", 4))    # success: accuracy >= the sweep's threshold
    adding = TaskSpec(adding_fn, Output("regress", 1), AbsError(0.04))

``Output("class", K)``: integer labels ``y (n,)`` in ``0..K-1``, a Dense(K) head and softmax cross-entropy.
``Output("regress", d)``: float targets ``y (n, d)``, a Dense(d) head and the mean squared error (mean over the
``d`` outputs), no accuracy. Success rules, evaluated inside the trainer on the validation set after every
epoch (the last epoch's value is the run's):

* :class:`Accuracy` ``(threshold=None)``: validation accuracy >= ``threshold`` (``None``: the sweep's
  ``threshold``, today's rule, evaluated from ``val_acc`` as always);
* :class:`AbsError` ``(tolerance, allowed=0)`` (Hochreiter & Schmidhuber 1997): a sequence is an error when any
  output's |error| >= ``tolerance`` at its end; success when at most ``allowed`` validation sequences are errors;
  for a class task the outputs are the softmax probabilities against the one-hot target;
* :class:`NoErrors` (Pascanu et al. 2013's "solved"): every validation sequence classified right (class), or
  every squared error <= 0.04 (regress);
* :class:`LossRatio` ``(ratio, baseline)``: validation loss <= ``ratio`` x ``baseline``, a number or a function
  of the length (the task's memoryless baseline).

Each rule names the metrics it records per model (:attr:`metrics`) beside ``success``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

OUTPUT_KINDS = ("class", "regress", "multilabel")
OUTPUT_AT = ("last", "every")
NO_ERRORS_SQUARED = 0.04  # Pascanu et al. 2013: a regression's squared error above this is an error


@dataclass(frozen=True)
class Output:
    """What the network outputs: ``kind`` ``class`` (``size`` = K classes, softmax cross-entropy), ``regress``
    (``size`` = d outputs, MSE) or ``multilabel`` (``size`` = d independent binary labels, sigmoid BCE), read
    ``at`` the ``last`` step or at ``every`` step.

    Targets: ``class`` ``(n,)`` integer labels at the last step, ``(n, T)`` at every step; ``regress`` and
    ``multilabel`` ``(n, d)`` / ``(n, T, d)`` (multilabel: 0/1). At every step a task may say which steps count
    (a :class:`Sequences` ``mask``, e.g. the copy task's recall positions); the loss of a sequence is then the mean
    over its counted steps."""

    kind: str = "class"
    size: int = 2
    at: str = "last"

    def __post_init__(self) -> None:
        if self.kind not in OUTPUT_KINDS:
            raise ValueError(f"output: unknown kind {self.kind!r}; allowed: {', '.join(OUTPUT_KINDS)}")
        if self.at not in OUTPUT_AT:
            raise ValueError(f"output: unknown position {self.at!r}; allowed: {', '.join(OUTPUT_AT)}")
        least = 2 if self.kind == "class" else 1
        if not (isinstance(self.size, int) and least <= self.size <= 2**16):
            raise ValueError(f"output: a {self.kind} output needs an integer size in [{least}, 65536], "
                             f"got {self.size!r}")

    @property
    def binary(self) -> bool:
        """One binary class at the last step: what a plain task function asks."""
        return self.kind == "class" and self.size == 2 and self.at == "last"

    @property
    def every(self) -> bool:
        return self.at == "every"

    @property
    def classifies(self) -> bool:
        """Whether the output has an accuracy (a class or multilabel output; a regression has none)."""
        return self.kind != "regress"

    def target_shape(self, n: int, length: int) -> tuple[int, ...]:
        """The targets' shape for ``n`` sequences of ``length`` (the task's padded width)."""
        steps = (length,) if self.every else ()
        return (n, *steps) if self.kind == "class" else (n, *steps, self.size)

    def __str__(self) -> str:
        return f"{self.kind} {self.size}" + (" at every step" if self.every else "")


class Sequences(NamedTuple):
    """What a task may return instead of ``(x, y)``, to say more about its rows.

    ``x (n, W, n_in)`` and ``y`` as :meth:`Output.target_shape`; ``mask (n, W)`` (an ``every`` output only): 1 where
    a step's output counts, 0 elsewhere (default: every step of the row); ``length (n,)``: each row's own length
    for a task whose lengths vary inside a dataset (H&S draw them uniformly in [T, T + T/10]). Rows are then
    *left-padded* to the width ``W`` >= every row's length: row ``i``'s sequence is its last ``length[i]`` steps,
    and the state is held at its initial value before them (:func:`latchjax.core.scan.masked_scan`). ``W`` must be
    the same for every draw at one nominal ``length`` T (e.g. ``T + T // 10``)."""

    x: Any
    y: Any
    mask: Any = None
    length: Any = None


def as_sequences(value: Any) -> Sequences:
    """A task's return value as :class:`Sequences` (a plain ``(x, y)`` pair has no mask and fixed lengths)."""
    if isinstance(value, Sequences):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        return Sequences(*value)
    raise ValueError(f"task: must return (x, y) or Sequences(x, y, mask, length), got {type(value).__name__}"
                     + (f" of {len(value)} items" if isinstance(value, tuple) else ""))


BINARY = Output("class", 2)


def step_errors(output: Output, out: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(wrong, worst)`` of every output read (shape ``(n,)`` at the last step, ``(n, T)`` at every step):
    ``wrong`` whether it is an error in the sense of accuracy (class: the arg-max is not the label; multilabel: some
    label's sign is wrong; regress: some squared error > 0.04, Pascanu et al. 2013) and ``worst`` its largest
    |error| over the ``size`` outputs (class: the softmax probabilities against the one-hot, locally coded target;
    multilabel: the sigmoid probabilities against the 0/1 labels)."""
    if output.kind == "class":
        wrong = jnp.argmax(out, axis=-1) != y
        out, y = jax.nn.softmax(out, axis=-1), jax.nn.one_hot(y, output.size)
    elif output.kind == "multilabel":
        wrong = jnp.any((out > 0) != (y > 0.5), axis=-1)
        out = jax.nn.sigmoid(out)
    else:
        wrong = jnp.any((out - y) ** 2 > NO_ERRORS_SQUARED, axis=-1)
    return wrong, jnp.max(jnp.abs(out - y), axis=-1)


def _per_sequence_max(value: jax.Array, mask: jax.Array | None) -> jax.Array:
    """A per-step value's maximum over each sequence's counted steps (``mask``; ``None``: read at the last step)."""
    return value if mask is None else jnp.max(jnp.where(mask > 0, value, 0), axis=1)


@dataclass(frozen=True)
class Accuracy:
    """Validation accuracy >= ``threshold`` (``None``: the sweep's ``threshold``). Class and multilabel outputs
    (at every step: the fraction of counted steps read right)."""

    threshold: float | None = None
    metrics = ()

    def errors(self, output: Output, out: jax.Array, y: jax.Array, mask: jax.Array | None = None) -> dict:
        right = ~step_errors(output, out, y)[0]
        acc = jnp.mean(right) if mask is None else jnp.sum(right * mask) / jnp.sum(mask)
        return {"success": acc >= self.threshold}


@dataclass(frozen=True)
class AbsError:
    """H&S 1997: a sequence is an error when any output's |error| >= ``tolerance`` (at its end, or at any counted
    step of an ``every`` output); success when at most ``allowed`` of the validation sequences are errors. Records
    ``test_errors`` and ``test_max_abs_error``."""

    tolerance: float = 0.04
    allowed: int = 0
    metrics = ("test_errors", "test_max_abs_error")

    def errors(self, output: Output, out: jax.Array, y: jax.Array, mask: jax.Array | None = None) -> dict:
        worst = _per_sequence_max(step_errors(output, out, y)[1], mask)
        errors = jnp.sum(worst >= self.tolerance)
        return {"success": errors <= self.allowed, "test_errors": errors.astype(jnp.float32),
                "test_max_abs_error": jnp.max(worst)}


@dataclass(frozen=True)
class NoErrors:
    """Pascanu et al. 2013's "solved": no validation sequence with an error (class: misclassified; multilabel: a
    label wrong; regress: a squared error > 0.04), at its end or at any counted step. Records ``test_errors``."""

    metrics = ("test_errors",)

    def errors(self, output: Output, out: jax.Array, y: jax.Array, mask: jax.Array | None = None) -> dict:
        wrong = _per_sequence_max(step_errors(output, out, y)[0].astype(jnp.float32), mask) > 0
        errors = jnp.sum(wrong)
        return {"success": errors == 0, "test_errors": errors.astype(jnp.float32)}


@dataclass(frozen=True)
class LossRatio:
    """Validation loss <= ``ratio`` x ``baseline`` (a number, or a function of the sequence length: the task's
    memoryless baseline). Records ``loss_ratio`` (validation loss / baseline)."""

    ratio: float = 1.0
    baseline: float | Callable[[Any], Any] = 1.0
    metrics = ("loss_ratio",)

    def value(self, length: Any) -> Any:
        return self.baseline(length) if callable(self.baseline) else self.baseline

    def errors(self, output: Output, out: jax.Array, y: jax.Array, loss: jax.Array, length: Any) -> dict:
        ratio = loss / self.value(length)
        return {"success": ratio <= self.ratio, "loss_ratio": ratio}


Rule = Accuracy | AbsError | NoErrors | LossRatio
RULES = (Accuracy, AbsError, NoErrors, LossRatio)


def evaluate_rule(rule: Rule, output: Output, out: jax.Array, y: jax.Array, loss: jax.Array, length: Any,
                  mask: jax.Array | None = None) -> dict:
    """``{"success": bool, <the rule's metrics>}`` of one model's validation outputs ``out`` (logits for a class or
    multilabel output, predictions for a regression; ``(n, T, size)`` at every step, with ``mask (n, T)`` the
    steps that count), its targets ``y`` and its mean validation ``loss`` (pure, traceable)."""
    if isinstance(rule, LossRatio):
        return rule.errors(output, out, y, loss, length)
    return rule.errors(output, out, y, mask)


def describe_rule(rule: Rule | None, threshold: float) -> str:
    """The rule in words, as tables and figures caption it."""
    if rule is None or isinstance(rule, Accuracy):
        return f"final val acc >= {threshold if rule is None or rule.threshold is None else rule.threshold:g}"
    if isinstance(rule, AbsError):
        which = "every validation sequence" if rule.allowed == 0 else f"all but {rule.allowed} validation sequences"
        return f"|error| < {rule.tolerance:g} on {which}"
    if isinstance(rule, NoErrors):
        return "no errors on the validation sequences"
    return f"val loss <= {rule.ratio:g} x baseline"


@dataclass(frozen=True)
class TaskSpec:
    """A task that declares what it asks: ``fn(key, n, length) -> (x, y)`` with its :class:`Output`, its success
    rule (``None``: :class:`Accuracy` at the sweep's threshold, class outputs only) and its memoryless
    ``baseline`` loss (a number or a function of the length, for reference; :class:`LossRatio` carries its own).
    ``label`` names it in messages (default: the function's name). Calling it calls ``fn``; :meth:`bind` fixes
    options as ``functools.partial`` does for a plain function."""

    fn: Callable[..., Any]
    output: Output = BINARY
    success: Rule | None = None
    baseline: float | Callable[[Any], Any] | None = None
    label: str | None = None  # the name messages give it (default: the function's)

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise ValueError(f"task: TaskSpec needs a function (key, n, length) -> (x, y), got {self.fn!r}")
        if not isinstance(self.output, Output):
            raise ValueError(f"task: output must be an Output, got {self.output!r}")
        if self.success is not None and not isinstance(self.success, RULES):
            raise ValueError(f"task: success must be one of {', '.join(r.__name__ for r in RULES)}, "
                             f"got {self.success!r}")
        if not self.output.classifies and (self.success is None or isinstance(self.success, Accuracy)):
            raise ValueError(f"task: {self.name} is a regression: give it a success rule other than accuracy "
                             "(AbsError, NoErrors or LossRatio)")

    def __call__(self, key: jax.Array, n: int, length: int):
        return self.fn(key, n, length)

    @property
    def __signature__(self) -> inspect.Signature:
        """The function's signature, so that its options (``spread=0.0``) are seen where a task's are read."""
        return inspect.signature(self.fn)

    @property
    def name(self) -> str:
        return self.label or task_name(self.fn)

    def bind(self, **kwargs) -> TaskSpec:
        """The task with options fixed (``functools.partial``); a baseline function that takes an option (the copy
        task's ``symbols``) gets it too."""
        if not kwargs:
            return self
        baseline = self.baseline
        if callable(baseline):
            takes = inspect.signature(baseline).parameters
            mine = {k: v for k, v in kwargs.items() if k in takes}
            baseline = functools.partial(baseline, **mine) if mine else baseline
        return replace(self, fn=functools.partial(self.fn, **kwargs), baseline=baseline)


def task_output(task: Any) -> Output:
    """The :class:`Output` a task declares (a plain function: one binary class)."""
    return task.output if isinstance(task, TaskSpec) else BINARY


def task_rule(task: Any) -> Rule | None:
    """The success rule a task declares, or ``None`` for today's (accuracy >= the sweep's threshold)."""
    rule = task.success if isinstance(task, TaskSpec) else None
    return None if isinstance(rule, Accuracy) and rule.threshold is None else rule


def task_name(task: Any) -> str:
    """A task's name for messages: its function's name, through ``functools.partial`` and :class:`TaskSpec`."""
    while isinstance(task, functools.partial):
        task = task.func
    if isinstance(task, TaskSpec):
        return task.name
    return getattr(task, "__name__", repr(task))


def task_baseline(task: Any, length: int) -> float | None:
    """The task's memoryless baseline loss at ``length``: its :class:`TaskSpec` ``baseline``, else its
    :class:`LossRatio` rule's; ``None`` when it declares none."""
    spec = task
    while isinstance(spec, functools.partial):
        spec = spec.func
    if not isinstance(spec, TaskSpec):
        return None
    value = spec.baseline if spec.baseline is not None else (
        spec.success.baseline if isinstance(spec.success, LossRatio) else None)
    if value is None:
        return None
    return float(value(length) if callable(value) else value)
