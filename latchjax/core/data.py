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
import jax.numpy as jnp
import numpy as np

from latchjax.core.tasks import Task
from latchjax.core.tasks.output import BINARY, Output, Sequences, as_sequences, task_name, task_output

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
    """Train/validation data of several lengths, left-padded to one width ``T`` (the longest length, or the
    widest a variable-length task returns).

    Arrays: ``x_train (n_lengths, n_train, T, n_in)``, ``y_train`` the targets (``(n_lengths, n_train)`` for one
    class at the last step; see :meth:`~latchjax.core.tasks.output.Output.target_shape`), ``x_val``, ``y_val``
    likewise; ``lengths (n_lengths,)``. For a task whose rows have their own lengths, ``start_train (n_lengths,
    n_train)`` / ``start_val`` hold each row's first real step (else ``None``: every row of a length starts at
    ``T - length``); for an ``every`` output, ``mask_train (n_lengths, n_train, T)`` / ``mask_val`` the steps
    whose outputs count (0 on padding). Per-repeat datasets have a repeat axis after the length axis.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    lengths: np.ndarray
    start_train: np.ndarray | None = None
    start_val: np.ndarray | None = None
    mask_train: np.ndarray | None = None
    mask_val: np.ndarray | None = None

    @property
    def max_length(self) -> int:
        return int(self.x_train.shape[-2])

    @property
    def n_in(self) -> int:
        return int(self.x_train.shape[-1])


ARRAYS = ("x_train", "y_train", "x_val", "y_val", "start_train", "start_val", "mask_train", "mask_val")


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
                   for k in ARRAYS if getattr(each[unique[0]], k) is not None}
        return Dataset(**stacked, lengths=np.asarray(lengths, np.int32))
    return _make_dataset(task, lengths, samples, val_fraction, split, data_seed, None)


def check_labels(y: np.ndarray, length: int, output: Output = BINARY, name: str = "task") -> np.ndarray:
    """A task's targets as the trainer takes them, refusing what does not match the task's declared ``output``
    (a plain task: one binary class): for ``class`` K, integer labels in ``0..K-1`` (int32; float targets, NaN and
    labels outside the range refused); for ``regress`` d, finite numbers (float32); for ``multilabel`` d, 0/1
    (float32). ``name`` is the task's."""
    said = f"task {name} asks for {output}"
    if output.kind == "regress":
        if y.dtype.kind not in "biuf":
            raise ValueError(f"task: returned targets of dtype {y.dtype} at length {length}; {said}: targets must be "
                             "numbers")
        if not np.all(np.isfinite(y)):
            raise ValueError(f"task: returned targets that are not finite (NaN or inf) at length {length}; {said}")
        return y.astype(np.float32)
    if output.kind == "multilabel":
        if y.dtype.kind not in "biuf" or not np.isin(y, (0, 1)).all():
            found = np.unique(y)[:6] if y.dtype.kind in "biuf" else y.dtype
            raise ValueError(f"task: returned targets {found} at length {length}; {said}: labels 0 and 1")
        return y.astype(np.float32)
    where = "at every step" if output.every else "at the last step"
    what = f"a binary class {where} (labels 0 and 1)" if output.size == 2 else \
        f"{output.size} classes {where} (labels 0 to {output.size - 1})"
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


def check_task_data(task: Task, value: Any, n: int, length: int) -> Sequences:
    """What ``task`` returned for ``n`` rows of ``length`` (``(x, y)`` or
    :class:`~latchjax.core.tasks.output.Sequences`) as NumPy arrays: float32 inputs, checked targets
    (:func:`check_labels`), the ``mask`` of an ``every`` output (float32, ``None`` for the last step) and the rows'
    ``length`` (int32, ``None`` when every row has ``length``). Anything that does not match what the task declares
    (shapes, dtypes, non-finite inputs, a mask without an ``every`` output, row lengths outside [1, width]) is one
    ``ValueError`` naming the task."""
    output, name = task_output(task), task_name(task)
    seq = as_sequences(value)
    x, y = np.asarray(seq.x), np.asarray(seq.y)
    fixed = seq.length is None
    width = x.shape[1] if x.ndim == 3 else -1
    want_y = output.target_shape(n, width)
    if x.ndim != 3 or x.shape[0] != n or (fixed and width != length) or y.shape != want_y:
        y_shape = str(output.target_shape(n, length)).replace(str(n), "n", 1).replace(str(length), "length")
        widths = "(n, length, n_in)" if fixed else "(n, width, n_in) with width >= every row's length"
        raise ValueError(f"task: must return x of shape {widths} and y of shape {y_shape} (task {name} "
                         f"declares {output}); got {x.shape} and {y.shape} for n={n}, length={length}")
    if x.dtype.kind not in "biuf":
        raise ValueError(f"task: returned inputs of dtype {x.dtype} (task {name}); a task's inputs must be real "
                         "numbers")
    y = check_labels(y, length, output, name)
    x = x.astype(np.float32)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"task: returned inputs that are not finite (NaN or inf) at length {length} (task {name}); "
                         "a task's inputs must be finite numbers")
    rows = None
    if not fixed:
        rows = np.asarray(seq.length)
        if rows.shape != (n,) or rows.dtype.kind not in "iu" or not np.all((rows >= 1) & (rows <= width)):
            raise ValueError(f"task: returned row lengths that are not integers in [1, {width}] of shape ({n},) at "
                             f"length {length} (task {name}); got {rows.dtype} {rows.shape}")
        rows = rows.astype(np.int32)
    mask = None
    if seq.mask is not None:
        mask = np.asarray(seq.mask)
        if not output.every:
            raise ValueError(f"task: returned a mask of steps but declares {output} (task {name}); a mask is for an "
                             "output at every step, Output(kind, size, at='every')")
        if mask.shape != (n, width) or mask.dtype.kind not in "biuf" or not np.isin(mask, (0, 1)).all():
            raise ValueError(f"task: the mask must be 0/1 of shape (n, width) = ({n}, {width}) at length {length} "
                             f"(task {name}); got {mask.dtype} {mask.shape}")
        mask = mask.astype(np.float32)
    elif output.every:
        mask = np.ones((n, width), np.float32)
    if mask is not None and rows is not None:  # a row's padding never counts
        mask = mask * (np.arange(width) >= (width - rows)[:, None])
    if mask is not None and not np.all(mask.sum(axis=1) > 0):
        raise ValueError(f"task: some rows have no step that counts (an all-zero mask) at length {length} "
                         f"(task {name})")
    return Sequences(x, y, mask, rows)


def _pad_left(a: np.ndarray, width: int, axis: int = 1) -> np.ndarray:
    """``a`` with zeros prepended along ``axis`` up to ``width``."""
    pad = [(0, 0)] * a.ndim
    pad[axis] = (width - a.shape[axis], 0)
    return np.pad(a, pad)


def _padded(seq: Sequences, width: int, every: bool) -> dict[str, np.ndarray]:
    """One length's checked sequences left-padded to ``width``: ``x``, ``y`` (padded too at every step), and where
    they apply each row's ``start`` and the ``mask`` of counted steps (0 on padding)."""
    out = {"x": _pad_left(seq.x, width), "y": _pad_left(seq.y, width) if every else seq.y}
    if seq.length is not None:
        out["start"] = width - seq.length
    if every:
        out["mask"] = _pad_left(seq.mask, width)
    return out


def _stacked(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per-length parts (``{"x_val": ...}``) stacked along a leading length axis."""
    return {k: np.stack([p[k] for p in parts]) for k in parts[0]}


def _make_dataset(task: Task, lengths: tuple[int, ...], samples: int, val_fraction: float, split: str,
                  data_seed: int, repeat: int | None) -> Dataset:
    base = jax.random.key(data_seed)
    drawn = []
    for length in lengths:
        key = jax.random.fold_in(base, length)
        if repeat is not None:
            key = jax.random.fold_in(key, repeat)
        k_data, k_split = jax.random.split(key)
        drawn.append((k_split, check_task_data(task, task(k_data, samples, length), samples, length)))
    t_max = max(seq.x.shape[1] for _, seq in drawn)
    every = task_output(task).every
    parts = []
    for k_split, seq in drawn:
        padded = _padded(seq, t_max, every)
        # a class at the last step is split class-balanced; any other target has no classes to balance: a plain
        # random split
        strata = padded["y"] if padded["y"].ndim == 1 else np.zeros(samples, np.int32)
        train, val = split_indices(k_split, strata, val_fraction, split)
        parts.append({f"{k}_{part}": v[rows] for part, rows in (("train", train), ("val", val))
                      for k, v in padded.items()})
    return Dataset(**_stacked(parts), lengths=np.asarray(lengths, np.int32))


def online_keys(data_seed: int, length: int) -> tuple[jax.Array, jax.Array]:
    """``(test key, stream key)`` of online data at ``length``: the fixed test set and the training stream are
    drawn from the two halves of ``fold_in(key(data_seed), length)``, so they never share a sequence's key."""
    k_test, k_stream = jax.random.split(jax.random.fold_in(jax.random.key(data_seed), length))
    return k_test, k_stream


def make_test_set(task: Task, lengths: tuple[int, ...], samples: int, data_seed: int) -> Dataset:
    """Online data's fixed held-out test set: ``samples`` sequences per length (as ``x_val``/``y_val``; no
    training arrays), from :func:`online_keys`, padded as :func:`make_dataset` pads."""
    drawn = [check_task_data(task, task(online_keys(data_seed, length)[0], samples, length), samples, length)
             for length in lengths]
    t_max = max(seq.x.shape[1] for seq in drawn)
    every = task_output(task).every
    parts = [{f"{k}_val": v for k, v in _padded(seq, t_max, every).items()} for seq in drawn]
    return Dataset(x_train=None, y_train=None, **_stacked(parts), lengths=np.asarray(lengths, np.int32))


def stream_keys(data_seed: int, lengths: tuple[int, ...], repeats: tuple[int, ...] | None = None) -> jax.Array:
    """The online training streams: one key per length (shared by the models of a point), or with ``repeats`` one
    per length and repeat ``i``, ``fold_in(stream key, i)``: shape ``(n_lengths,)`` or ``(n_lengths, n_repeats)``."""
    streams = [online_keys(data_seed, length)[1] for length in lengths]
    if repeats is None:
        return jnp.stack(streams)
    return jnp.stack([jnp.stack([jax.random.fold_in(k, i) for i in repeats]) for k in streams])


def shuffle_labels(y: np.ndarray, seed: int, lengths: tuple[int, ...], repeats: tuple[int, ...] | None = None
                   ) -> np.ndarray:
    """Training labels ``y (n_lengths, [n_repeats,] n)`` with their last axis permuted: the labels of a random-label
    control, apart from their inputs, with the classes' frequencies kept. Each length's (and repeat's) permutation
    comes from its own stream, ``default_rng([seed, 1, length(, repeat)])``, so it is the same whichever lengths and
    repeats are drawn beside it (a bucket, a chunk, a model trained alone), and the inputs drawn from ``seed`` are
    unchanged."""
    y = np.asarray(y)
    out = np.empty_like(y)
    for i, length in enumerate(lengths):
        for j, repeat in enumerate(repeats if repeats is not None else [None]):
            entropy = [seed, 1, int(length)] + ([] if repeat is None else [int(repeat)])
            index = (i,) if repeat is None else (i, j)
            out[index] = y[index][np.random.default_rng(entropy).permutation(y.shape[-1])]
    return out
