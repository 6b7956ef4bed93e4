"""Sequential digits: scikit-learn's 8x8 handwritten digits read pixel by pixel, row by row, or in a fixed permuted
pixel order, 10 classes at the end. A small stand-in for sequential MNIST that needs no download, and *not*
sequential MNIST: no published benchmark uses it, so its numbers are never to be compared with sMNIST's
(:data:`NOT_SMNIST`, for reports to print).

The images are ``sklearn.datasets.load_digits`` (1797 images of 8x8 pixels, values 0 .. 16, shipped inside
scikit-learn: nothing is downloaded), scaled to [0, 1]. scikit-learn is an optional extra (``pip install
'latchjax[digits]'``); without it the task refuses in one line. Variants (``../shared/SPEC.md`` section 7):

* ``digits_pixel``: T = 64 steps of 1 input, the pixels row by row;
* ``digits_row``: T = 8 steps of 8 inputs, one image row each;
* ``digits_permuted``: T = 64 steps of 1 input, the pixels in one fixed random order (:func:`pixel_order`).

A fixed dataset, not a generator: how it fits ``(key, n, length)``. One fixed stratified split (:func:`split`)
sets aside a fifth of each class as the *test part*, never drawn unless asked for (``part="test"``); the key draws
``n`` distinct images of the chosen part, in random order (so the sweep's own train/validation split of them
never puts one image on both sides, and online minibatches are random subsets). ``n`` larger than the part is
refused (``samples``); ``length`` must be the variant's (64 or 8).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from latchjax.core.tasks.output import Output, TaskSpec

NOT_SMNIST = "scikit-learn's 8x8 digits (1797 images), not sequential MNIST: not comparable with sMNIST results"
TEST_FRACTION = 0.2  # of each class, set aside once
SPLIT_SEED = 0
PARTS = ("train", "test")


@functools.cache
def _load() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 images ``(1797, 64)`` in [0, 1] (float32) and their labels (int32)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ValueError("task: the digits tasks need scikit-learn, an optional extra: pip install "
                         "'latchjax[digits]'") from None
    data = load_digits()
    return (data.data / 16.0).astype(np.float32), data.target.astype(np.int32)


@functools.cache
def split() -> tuple[np.ndarray, np.ndarray]:
    """The fixed stratified split: ``(train rows, test rows)`` of :func:`_load`'s images, sorted; each class gives
    ``round(TEST_FRACTION x its count)`` random images (seed :data:`SPLIT_SEED`) to the test part."""
    labels = _load()[1]
    rng = np.random.RandomState(SPLIT_SEED)
    test = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[: round(TEST_FRACTION * np.sum(labels == c))]
                           for c in range(10)])
    test = np.sort(test)
    return np.setdiff1d(np.arange(len(labels)), test), test


@functools.cache
def pixel_order() -> np.ndarray:
    """``digits_permuted``'s fixed order of the 64 pixels (seed :data:`SPLIT_SEED`)."""
    return np.random.RandomState(SPLIT_SEED).permutation(64)


def _digits(key: jax.Array, n: int, length: int, variant: str, part: str) -> tuple[jax.Array, jax.Array]:
    name = f"digits_{variant}"
    want = 8 if variant == "row" else 64
    if length != want:
        what = "8 rows of 8 pixels" if variant == "row" else "64 pixels, one by one"
        raise ValueError(f"lengths: {name} needs length {want} ({what}), got {length}")
    if part not in PARTS:
        raise ValueError(f"part: must be one of {', '.join(PARTS)}, got {part!r}")
    images, labels = _load()
    rows = split()[PARTS.index(part)]
    if n > len(rows):
        raise ValueError(f"samples: the {part} part of the digits has {len(rows)} images; {n} asked (use at most "
                         f"{len(rows)}, or online data)")
    pick = jnp.asarray(rows)[jax.random.permutation(key, len(rows))[:n]]
    x = jnp.asarray(images)[pick]
    if variant == "permuted":
        x = x[:, jnp.asarray(pixel_order())]
    x = x.reshape(n, 8, 8) if variant == "row" else x[..., None]
    return x, jnp.asarray(labels)[pick]


def digits_pixel_fn(key: jax.Array, n: int, length: int, *, part: str = "train"):
    """T = 64 steps of one pixel each (row by row), 10 classes."""
    return _digits(key, n, length, "pixel", part)


def digits_row_fn(key: jax.Array, n: int, length: int, *, part: str = "train"):
    """T = 8 steps of one image row (8 inputs) each, 10 classes."""
    return _digits(key, n, length, "row", part)


def digits_permuted_fn(key: jax.Array, n: int, length: int, *, part: str = "train"):
    """T = 64 steps of one pixel each in :func:`pixel_order`, 10 classes."""
    return _digits(key, n, length, "permuted", part)


# success: validation accuracy >= the sweep's threshold
digits_pixel = TaskSpec(digits_pixel_fn, Output("class", 10), label="digits_pixel")
digits_row = TaskSpec(digits_row_fn, Output("class", 10), label="digits_row")
digits_permuted = TaskSpec(digits_permuted_fn, Output("class", 10), label="digits_permuted")
