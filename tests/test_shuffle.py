"""Minibatch orders (:mod:`latchjax.core.shuffle`): the fast sort draws exactly what JAX's permutation draws."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latchjax.core.shuffle import epoch_order, permutation, sort_rounds, stable_argsort


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 8000, 70_000])
def test_the_fast_shuffle_draws_jax_random_permutations_bit_for_bit(n):
    keys = jax.random.split(jax.random.key(n), 16)
    fast = jax.jit(jax.vmap(lambda k: permutation(k, n)))(keys)
    reference = jax.vmap(lambda k: jax.random.permutation(k, n))(keys)
    np.testing.assert_array_equal(fast, reference)
    assert fast.dtype == jnp.int32 and jnp.zeros(1).dtype == jnp.float32  # 64 bits only inside the sort


def test_stable_argsort_orders_equal_keys_by_position():
    keys = jax.random.randint(jax.random.key(0), (5, 300), 0, 4).astype(jnp.uint32)  # many ties
    keys = keys.at[0, :3].set(jnp.uint32(2**32 - 1))  # the largest key too
    np.testing.assert_array_equal(jax.jit(jax.vmap(stable_argsort))(keys),
                                  np.argsort(np.asarray(keys), axis=-1, kind="stable"))


def test_an_epoch_order_is_the_epoch_keys_permutation_in_keras_sized_minibatches():
    key, epochs, n, batch = jax.random.key(5), 3, 50, 16
    order = epoch_order(key, 2, epochs, n, batch)
    _, k_shuffle = jax.random.split(key)
    perm = jax.random.permutation(jax.random.split(k_shuffle, epochs)[2], n)
    assert order.shape == (4, 16) and sort_rounds(n) == 1 and sort_rounds(8000) == 2
    np.testing.assert_array_equal(order.ravel()[:n], perm)  # every sample once ...
    np.testing.assert_array_equal(order.ravel()[n:], perm[: 4 * 16 - n])  # ... then the last batch filled up


def test_a_shuffle_seed_changes_the_minibatch_order_alone():
    """The shuffle-only control: with --shuffle-seed every repeat keeps its initialisation and trains on other
    minibatch orders; the shuffle seed equal to the seed is the default run bit for bit; each model of the sweep
    is the model trained alone with the same settings."""
    from latchjax.analysis.explain import run_initial_params
    from latchjax.sweep.config import SweepConfig
    from latchjax.sweep.runner import run_sweep, train_one

    base = dict(cells=("gru",), lengths=(6,), seeds=3, epochs=2, samples=96, lrs=(0.05,), seed=4)
    default, same, other = (SweepConfig(**base), SweepConfig(**base, shuffle_seed=4),
                            SweepConfig(**base, shuffle_seed=9))
    runs = [run_sweep(c) for c in (default, same, other)]
    for name in ("val_loss", "train_loss"):
        np.testing.assert_array_equal(runs[0].metrics[name], runs[1].metrics[name])
        assert not np.any(runs[0].metrics[name][..., -1] == runs[2].metrics[name][..., -1])
    for a, b in zip(jax.tree.leaves(run_initial_params(default, "gru")), jax.tree.leaves(run_initial_params(other,
                                                                                                            "gru"))):
        np.testing.assert_array_equal(a, b)
    alone = train_one(other, "gru", 6, seed=2)
    np.testing.assert_allclose(runs[2].sel("val_loss", cell="gru", length=6)[0, 0, 2], alone["val_loss"], rtol=1e-6)


@pytest.mark.integration
def test_a_shuffle_seed_is_a_setting_of_the_run_and_online_data_refuses_it(tmp_path, capsys):
    import json

    from latchjax.cli import run

    out = tmp_path / "run"
    assert run(["sweep", "--cells", "srnn", "--lengths", "4", "--seeds", "2", "--epochs", "1", "--samples", "64",
                "--shuffle-seed", "7", "--quiet", "--out", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["shuffle_seed"] == 7
    from latchjax.sweep.config import SweepConfig
    from latchjax.sweep.settings import from_settings, to_settings

    assert "shuffle_seed" not in to_settings(SweepConfig())  # earlier runs' config.json unchanged
    assert from_settings(json.loads((out / "config.json").read_text())).shuffle_seed == 7
    bad = tmp_path / "bad"
    assert run(["sweep", "--task", "adding", "--data", "online", "--budget", "640", "--lengths", "4",
                "--shuffle-seed", "1", "--quiet", "--out", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "online data has no shuffle" in err[0] and not bad.exists()


def test_shuffled_labels_are_the_training_labels_apart_from_their_inputs():
    """The random-label control: per length (and repeat) the training labels are a permutation of the task's, the
    inputs and the validation set unchanged; a latch at T = 5 that the true labels teach to 100% then stays near
    chance on validation (on average: an untrained SimpleRNN with an aligned read-out already reads the latch at
    T = 5, and shuffled labels do not teach it more)."""
    from latchjax.sweep.config import SweepConfig
    from latchjax.sweep.runner import draw_data, run_sweep

    base = dict(cells=("srnn",), lengths=(5, 8), seeds=4, epochs=6, samples=400, lrs=(0.05,))
    true, control = SweepConfig(**base), SweepConfig(**base, labels="shuffled")
    a, b = draw_data(true, true.lengths, None), draw_data(control, control.lengths, None)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_val, b.y_val)
    for i in range(2):
        assert sorted(a.y_train[i]) == sorted(b.y_train[i]) and np.mean(a.y_train[i] == b.y_train[i]) < 0.7
    # a length's (and a repeat's) labels do not depend on what is drawn beside it: a bucket, a chunk, one model
    np.testing.assert_array_equal(draw_data(control, (8,), None).y_train[0], b.y_train[1])
    per_seed = SweepConfig(**base | {"data": "per-seed"}, labels="shuffled")
    d = draw_data(per_seed, per_seed.lengths, (0, 1, 2))
    np.testing.assert_array_equal(draw_data(per_seed, (8,), (2,)).y_train[0, 0], d.y_train[1, 2])
    assert not np.array_equal(d.y_train[0, 0], d.y_train[0, 1]) or not np.array_equal(d.x_train[0, 0],
                                                                                        d.x_train[0, 1])
    learned, shuffled = run_sweep(true), run_sweep(control)
    assert learned.final("val_acc")[0, 0].max() == 1.0
    assert shuffled.final("val_acc").mean() < 0.65 and np.abs(shuffled.final("train_acc") - 0.5).max() < 0.1


@pytest.mark.integration
@pytest.mark.parametrize("flags, message", [
    (["--task", "adding", "--data", "online", "--budget", "640"], "online data has no fixed training labels"),
    (["--task", "copy", "--lengths", "4"], "one class label per sequence"),
    (["--task", "adding", "--lengths", "20"], "one class label per sequence"),
])
def test_shuffled_labels_refuse_what_they_cannot_shuffle(tmp_path, capsys, flags, message):
    from latchjax.cli import run

    out = tmp_path / "bad"
    assert run(["sweep", *flags, "--labels", "shuffled", "--quiet", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and not out.exists()
