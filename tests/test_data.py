"""Tasks and train/validation splits (SPEC.md sections 1-2)."""

import functools

import jax
import numpy as np
import pytest

from latchjax.core.data import make_dataset, split_indices
from latchjax.core.tasks import bit_relay, latch, make_task


def test_latch_carries_the_label_in_the_first_element_only():
    x, y = latch(jax.random.key(0), 1000, 30, noise=0.1)
    x, y = np.asarray(x), np.asarray(y)
    assert x.shape == (1000, 30, 1) and y.shape == (1000,)
    np.testing.assert_array_equal(y[:500], 1)  # the question's order: positives first
    np.testing.assert_array_equal(y[500:], 0)
    np.testing.assert_array_equal(x[:, 0, 0] > 0, y == 1)
    assert abs(np.abs(x[:, 0, 0]).mean() - 1) < 0.02
    assert abs(x[:, 1:].std() - 0.1) < 0.005 and abs(x[:, 1:].mean()) < 0.005


def test_bit_relay_label_is_sign_agreement():
    x, y = bit_relay(jax.random.key(0), 2000, 11, noise=0.1)
    x, y = np.asarray(x)[..., 0], np.asarray(y)
    same = np.sign(x[:, 0]) == np.sign(x[:, 11 // 2])
    np.testing.assert_array_equal(same, y == 1)
    assert y.mean() == 0.5
    assert 0.4 < (x[:, 0] > 0).mean() < 0.6  # the first sign alone says nothing
    others = np.delete(x, [0, 5], axis=1)
    assert np.abs(others).max() < 0.7
    x7, _ = bit_relay(jax.random.key(0), 100, 11, middle=7)
    assert np.abs(np.asarray(x7)[:, 7, 0]).min() > 0.5


def test_bit_relay_rejects_bad_middle():
    with pytest.raises(ValueError, match="middle"):
        bit_relay(jax.random.key(0), 10, 5, middle=5)
    with pytest.raises(ValueError, match="length >= 2"):
        bit_relay(jax.random.key(0), 10, 1)


def test_keras_split_on_question_order_is_all_negative():
    _, y = latch(jax.random.key(0), 10_000, 5)
    train, val = split_indices(jax.random.key(1), np.asarray(y), 0.2, "keras")
    np.testing.assert_array_equal(val, np.arange(8000, 10_000))
    assert np.asarray(y)[val].sum() == 0  # all negative
    assert np.asarray(y)[train].mean() == pytest.approx(0.625)


def test_shuffled_split_is_balanced_random_and_disjoint():
    _, y = latch(jax.random.key(0), 1000, 5)
    y = np.asarray(y)
    train, val = split_indices(jax.random.key(1), y, 0.2, "shuffled")
    assert len(val) == 200 and len(train) == 800
    assert y[val].mean() == 0.5 and y[train].mean() == 0.5
    assert len(np.intersect1d(train, val)) == 0
    assert val.max() > 900 and val.min() < 100  # not a block of rows
    train2, val2 = split_indices(jax.random.key(2), y, 0.2, "shuffled")
    assert not np.array_equal(val, val2)


def test_dataset_is_left_padded_and_reproducible():
    task = functools.partial(latch, noise=0.1)
    d = make_dataset(task, (3, 8), 100, 0.2, "shuffled", data_seed=5)
    assert d.x_train.shape == (2, 80, 8, 1) and d.x_val.shape == (2, 20, 8, 1)
    np.testing.assert_array_equal(d.x_train[0, :, :5], 0)  # length 3 starts at t = 5
    assert np.abs(d.x_train[0, :, 5]).min() > 0.5  # ... with its signal
    again = make_dataset(task, (8,), 100, 0.2, "shuffled", data_seed=5)
    np.testing.assert_array_equal(again.x_train[0], d.x_train[1])  # a length's data ignores the others


def test_custom_task_and_bad_task():
    def first_sign(key, n, length):
        x = jax.random.normal(key, (n, length, 2))
        return x, (x[:, 0, 0] > 0).astype(np.int32)

    d = make_dataset(make_task(first_sign), (4,), 50, 0.2, "shuffled", 0)
    assert d.n_in == 2
    with pytest.raises(ValueError, match="task: unknown task 'kopy'"):
        make_task("kopy")
    with pytest.raises(ValueError, match="task: must return"):
        make_dataset(lambda k, n, t: (np.zeros((n, t)), np.zeros(n)), (4,), 50, 0.2, "shuffled", 0)
