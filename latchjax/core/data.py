"""Datasets for a sweep: generation, train/validation splits, and left-padding to one length.

Every length gets its own dataset, drawn once from ``(data_seed, length)`` and shared by
all repeats, as in the question's script (``data = "shared"``). With ``repeats`` given
(``data = "per-seed"``), repeat ``i`` draws its own from ``(data_seed, length, i)``.
Sequences of different lengths are *left*-padded with zeros to a common length; the trainer
keeps the state at its initial value until a sequence's first real element, so padding changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from latchjax.core.tasks import Task
from latchjax.core.tasks.output import BINARY, Output, task_name, task_output

SPLITS = ("shuffled", "keras")


def split_indices(
    key: jax.Array, labels: np.ndarray, val_fraction: float, mode: str
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the training and validation sets.

    ``keras``: the last rows, before any shuffling, exactly as Keras's
    ``validation_split`` (``split_at = int(n * (1 - val_fraction))``). On the
    question's row order (positives first) the validation set is all negative.

    ``shuffled``: a random, class-balanced split of the same sizes; each class gives
    its share of the validation rows (largest remainder).
    """
    if mode not in SPLITS:
        raise ValueError(f"split: unknown split {mode!r}; allowed: {', '.join(SPLITS)}")
    n = len(labels)
    split_at = int(n * (1.0 - val_fraction))
    if mode == "keras":
        return np.arange(split_at), np.arange(split_at, n)
    n_val = n - split_at
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * n_val / n
    per_class = np.floor(exact).astype(int)
    per_class[np.argsort(per_class - exact)[: n_val - per_class.sum()]] += 1
    rng = np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel())
    val = np.concatenate(
        [rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, per_class)]
    )
    val = np.sort(val)
    train = np.setdiff1d(np.arange(n), val)
    return train, val


@dataclass(frozen=True)
class Dataset:
    """Train/validation data of several lengths, left-padded to ``max(lengths)``.

    Arrays: ``x_train (n_lengths, n_train, T, n_in)``, ``y_train (n_lengths, n_train)`` (a regression's
    ``(n_lengths, n_train, d)``),
    ``x_val (n_lengths, n_val, T, n_in)``, ``y_val (n_lengths, n_val)``; ``lengths (n_lengths,)``.
    Per-repeat datasets have a repeat axis after the length axis: ``x_train (n_lengths, n_repeats, ...)``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    lengths: np.ndarray

    @property
    def max_length(self) -> int:
        return int(self.x_train.shape[-2])

    @property
    def n_in(self) -> int:
        return int(self.x_train.shape[-1])


def make_dataset(
    task: Task, lengths: tuple[int, ...], samples: int, val_fraction: float, split: str, data_seed: int,
    repeats: tuple[int, ...] | None = None,
) -> Dataset:
    """Generate, split and pad one dataset per length (pure: the same arguments give the same data).

    With ``repeats``, one dataset per length and repeat ``i``, from key ``fold_in(fold_in(key(data_seed),
    length), i)``, stacked along a repeat axis (a repeat listed twice gets the same data).
    """
    if repeats is not None:
        unique = sorted(set(repeats))
        each = {i: _make_dataset(task, lengths, samples, val_fraction, split, data_seed, i) for i in unique}
        stacked = {k: np.stack([getattr(each[i], k) for i in repeats], axis=1)
                   for k in ("x_train", "y_train", "x_val", "y_val")}
        return Dataset(**stacked, lengths=np.asarray(lengths, np.int32))
    return _make_dataset(task, lengths, samples, val_fraction, split, data_seed, None)


def check_labels(y: np.ndarray, length: int, output: Output = BINARY, name: str = "task") -> np.ndarray:
    """A task's targets as the trainer takes them, refusing what does not match the task's declared ``output``
    (a plain task: one binary class): for ``class`` K, integer labels in ``0..K-1`` (int32; float targets, NaN and
    labels outside the range refused); for ``regress`` d, finite numbers (float32). ``name`` is the task's."""
    said = f"task {name} asks for {output}"
    if output.kind == "regress":
        if y.dtype.kind not in "biuf":
            raise ValueError(f"task: returned targets of dtype {y.dtype} at length {length}; {said}: targets must be "
                             "numbers")
        if not np.all(np.isfinite(y)):
            raise ValueError(f"task: returned targets that are not finite (NaN or inf) at length {length}; {said}")
        return y.astype(np.float32)
    what = "a binary class at the last step (labels 0 and 1)" if output.binary else \
        f"{output.size} classes at the last step (labels 0 to {output.size - 1})"
    if y.dtype.kind == "f" and not np.all(np.isfinite(y) & (y == np.round(y))):
        example = y.ravel()[~(np.isfinite(y.ravel()) & (y.ravel() == np.round(y.ravel())))][0]
        raise ValueError(f"task: returned float targets at length {length} (e.g. {float(example):g}); {said}: "
                         f"{what}" + ("; a regression is a TaskSpec(fn, Output('regress', d), rule)" if output.binary
                                      else ""))
    if y.dtype.kind not in "biuf" or not np.isin(y, np.arange(output.size)).all():
        found = np.unique(y)[:6] if y.dtype.kind in "biuf" else y.dtype
        hint = "; K classes are a TaskSpec(fn, Output('class', K))" if output.binary and y.dtype.kind in "biu" else ""
        raise ValueError(f"task: returned labels {found} at length {length}; {said}: {what}{hint}")
    return y.astype(np.int32)


def check_task_data(task: Task, x: Any, y: Any, n: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of ``task`` at ``n`` rows of ``length`` as float32 inputs and checked targets
    (:func:`check_labels`); anything that does not match what the task declares (shapes, dtypes, non-finite
    inputs) is one ``ValueError`` naming the task."""
    output, name = task_output(task), task_name(task)
    x, y = np.asarray(x), np.asarray(y)
    want_y = (n,) if output.kind == "class" else (n, output.size)
    if x.ndim != 3 or x.shape[:2] != (n, length) or y.shape != want_y:
        y_shape = "(n,)" if output.kind == "class" else f"(n, {output.size})"
        raise ValueError(f"task: must return x of shape (n, length, n_in) and y of shape {y_shape} (task {name} "
                         f"declares {output}); got {x.shape} and {y.shape} for n={n}, length={length}")
    if x.dtype.kind not in "biuf":
        raise ValueError(f"task: returned inputs of dtype {x.dtype} (task {name}); a task's inputs must be real "
                         "numbers")
    y = check_labels(y, length, output, name)
    x = x.astype(np.float32)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"task: returned inputs that are not finite (NaN or inf) at length {length} (task {name}); "
                         "a task's inputs must be finite numbers")
    return x, y


def _make_dataset(task: Task, lengths: tuple[int, ...], samples: int, val_fraction: float, split: str,
                  data_seed: int, repeat: int | None) -> Dataset:
    base = jax.random.key(data_seed)
    t_max = max(lengths)
    parts: dict[str, list[np.ndarray]] = {"x_train": [], "y_train": [], "x_val": [], "y_val": []}
    for length in lengths:
        key = jax.random.fold_in(base, length)
        if repeat is not None:
            key = jax.random.fold_in(key, repeat)
        k_data, k_split = jax.random.split(key)
        x, y = check_task_data(task, *task(k_data, samples, length), samples, length)
        padded = np.zeros((samples, t_max, x.shape[2]), np.float32)
        padded[:, t_max - length :] = x
        # a regression has no classes to balance: the shuffled split is then a plain random one
        strata = y if y.ndim == 1 else np.zeros(samples, np.int32)
        train, val = split_indices(k_split, strata, val_fraction, split)
        parts["x_train"].append(padded[train])
        parts["y_train"].append(y[train])
        parts["x_val"].append(padded[val])
        parts["y_val"].append(y[val])
    arrays = {k: np.stack(v) for k, v in parts.items()}
    return Dataset(**arrays, lengths=np.asarray(lengths, np.int32))
