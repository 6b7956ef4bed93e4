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

import jax
import numpy as np

from latchjax.core.tasks import Task

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

    Arrays: ``x_train (n_lengths, n_train, T, n_in)``, ``y_train (n_lengths, n_train)``,
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


def check_labels(y: np.ndarray, length: int) -> np.ndarray:
    """A task's labels as int32, refusing what the trainer cannot honour: it learns one binary class read at the
    last step (labels 0 and 1), so float targets (a regression) and labels outside {0, 1} (K classes, +-1) are
    refused rather than trained into meaningless accuracies."""
    if y.dtype.kind == "f" and not np.all(np.isfinite(y) & (y == np.round(y))):
        raise ValueError(f"task: returned float targets at length {length} (e.g. {float(y.ravel()[0]):g}); latchjax "
                         "trains a binary class at the last step (labels 0 and 1): regression tasks are not supported")
    if y.dtype.kind not in "biuf" or not np.isin(y, (0, 1)).all():
        found = np.unique(y)[:6] if y.dtype.kind in "biuf" else y.dtype
        raise ValueError(f"task: returned labels {found} at length {length}; latchjax trains a binary class at the "
                         "last step: labels must be 0 or 1")
    return y.astype(np.int32)


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
        x, y = task(k_data, samples, length)
        x, y = np.asarray(x, np.float32), check_labels(np.asarray(y), length)
        if x.ndim != 3 or x.shape[:2] != (samples, length) or y.shape != (samples,):
            raise ValueError(
                f"task: must return x of shape (n, length, n_in) and y of shape (n,); "
                f"got {x.shape} and {y.shape} for n={samples}, length={length}"
            )
        if not np.all(np.isfinite(x)):
            raise ValueError(f"task: returned inputs that are not finite (NaN or inf) at length {length}; "
                             "a task's inputs must be finite numbers")
        padded = np.zeros((samples, t_max, x.shape[2]), np.float32)
        padded[:, t_max - length :] = x
        train, val = split_indices(k_split, y, val_fraction, split)
        parts["x_train"].append(padded[train])
        parts["y_train"].append(y[train])
        parts["x_val"].append(padded[val])
        parts["y_val"].append(y[val])
    arrays = {k: np.stack(v) for k, v in parts.items()}
    return Dataset(**arrays, lengths=np.asarray(lengths, np.int32))
