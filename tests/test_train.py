"""The vmapped trainer: one model alone == the same model inside a sweep, learning, divergence, errors."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from latchjax import RNNCell, SweepConfig, keras_adam, run_sweep, train_one
from latchjax.core.model import head_loss, run_cell
from latchjax.core.vocabulary import SettingsError
from latchjax.sweep.results import DIMS
from latchjax.sweep.trainer import METRICS

# one length bucket: the length-4 models run padded to 9 steps
TINY = SweepConfig(cells=("srnn", "lstm"), lengths=(4, 9), seeds=3, epochs=2, samples=160, batch_size=16,
                   length_buckets=1)


def assert_same_model(alone, sweep_result, **where):
    for name in METRICS:
        np.testing.assert_allclose(alone[name], np.squeeze(sweep_result.sel(name, **where)), rtol=2e-5, atol=2e-6, err_msg=name)


@pytest.fixture(scope="module")
def tiny_sweep():
    return run_sweep(TINY.replace(lrs=(1e-3, 3e-2)))


@pytest.mark.integration
def test_result_axes(tiny_sweep):
    r = tiny_sweep
    assert r.dims == DIMS == ("cell", "length", "lr", "forget_bias", "seed", "epoch")
    assert r.metrics["val_acc"].shape == (2, 2, 2, 1, 3, 2)
    assert r.diverged.shape == (2, 2, 2, 1, 3)
    assert r.coords["cell"] == ["srnn", "lstm"] and r.coords["length"] == [4, 9]
    assert np.all(np.isfinite(r.metrics["val_loss"]))
    # different lrs and seeds really are different models
    assert not np.allclose(r.sel("train_loss", lr=1e-3), r.sel("train_loss", lr=3e-2))
    assert not np.allclose(r.sel("train_loss", seed=0), r.sel("train_loss", seed=1))


@pytest.mark.integration
@pytest.mark.parametrize("cell,length,seed,lr", [("lstm", 4, 2, 3e-2), ("srnn", 9, 0, 1e-3), ("srnn", 4, 1, 3e-2)])
def test_model_alone_equals_model_in_sweep(tiny_sweep, cell, length, seed, lr):
    """Trained alone (no vmap, no padding) vs inside the sweep (vmapped, length 4 padded to 9)."""
    alone = train_one(TINY, cell, length, seed, lr=lr)
    assert_same_model(alone, tiny_sweep, cell=cell, length=length, seed=seed, lr=lr)


@pytest.mark.integration
def test_result_does_not_depend_on_batch_mates():
    small = run_sweep(TINY.replace(cells=("gru",), seeds=2, lengths=(9,)))
    large = run_sweep(TINY.replace(cells=("gru",), seeds=4, lengths=(2, 9, 5), length_buckets=2))
    for seed in (0, 1):
        for name in METRICS:
            np.testing.assert_allclose(small.sel(name, seed=seed, length=9), large.sel(name, seed=seed, length=9),
                                       rtol=2e-5, atol=2e-6)


@pytest.mark.integration
def test_forget_bias_grid_is_trained_side_by_side():
    r = run_sweep(TINY.replace(lengths=(6,), seeds=2, forget_biases=(0.0, 3.0)))
    assert r.metrics["train_loss"].shape[3] == 2
    lstm0, lstm3 = (r.sel("train_loss", cell="lstm", forget_bias=b) for b in (0.0, 3.0))
    assert not np.allclose(lstm0, lstm3)
    alone = train_one(TINY, "lstm", 6, 1, forget_bias=3.0)
    assert_same_model(alone, r, cell="lstm", length=6, seed=1, forget_bias=3.0)
    # SimpleRNN has no forget gate: every value is the same model
    np.testing.assert_array_equal(r.sel("train_loss", cell="srnn", forget_bias=0.0),
                                  r.sel("train_loss", cell="srnn", forget_bias=3.0))


@pytest.mark.integration
def test_srnn_learns_latch_at_length_5():
    cfg = SweepConfig(cells=("srnn",), lengths=(5,), seeds=10, epochs=3, samples=1000, lrs=(1e-2,))
    r = run_sweep(cfg)
    freq = r.success_frequency(0.9)["success_freq"].item()
    assert freq >= 0.6, r.final("val_acc")


@pytest.mark.integration
def test_exploding_model_is_marked_diverged_and_the_sweep_goes_on():
    cfg = TINY.replace(cells=("srnn",), lengths=(5,), seeds=2, lrs=(1e-2, 1e38), optimizer=optax.sgd)
    r = run_sweep(cfg)
    np.testing.assert_array_equal(r.sel("diverged", lr=1e38), True)
    np.testing.assert_array_equal(r.sel("diverged", lr=1e-2), False)
    assert np.all(np.isfinite(r.sel("val_loss", lr=1e-2)))
    assert not r.success(threshold=0.0)[..., 1, :, :].any()  # never a success, whatever the threshold


def test_gradient_matches_finite_differences():
    cell = RNNCell("lstm", 2, "keras3")
    params = {"cell": cell.init(jax.random.key(0), 1), "head": {"kernel": jnp.ones((2, 2)) * 0.3, "bias": jnp.zeros(2)}}
    x = jax.random.normal(jax.random.key(1), (8, 6, 1))
    y = jnp.arange(8) % 2

    def loss(p):
        logits = run_cell(cell, p["cell"], x) @ p["head"]["kernel"] + p["head"]["bias"]
        return head_loss("softmax", logits, y)[0].mean()

    grads = jax.grad(loss)(params)
    for i in range(3):
        direction = jax.tree.map(lambda a, k=i: jax.random.normal(jax.random.key(10 + k), a.shape), params)
        eps = 1e-2
        plus = loss(jax.tree.map(lambda a, d: a + eps * d, params, direction))
        minus = loss(jax.tree.map(lambda a, d: a - eps * d, params, direction))
        numeric = (plus - minus) / (2 * eps)
        analytic = sum(jnp.vdot(g, d) for g, d in zip(jax.tree.leaves(grads), jax.tree.leaves(direction)))
        assert float(numeric) == pytest.approx(float(analytic), rel=2e-2, abs=1e-4)


def test_keras_adam_update_rule():
    tx = keras_adam(0.1)
    p = {"w": jnp.array([1.0, -2.0])}
    state = tx.init(p)
    m = v = np.zeros(2)
    ref = np.array([1.0, -2.0])
    for t, g in enumerate([np.array([0.5, -1.0]), np.array([0.1, 2.0]), np.array([-0.3, 0.0])], start=1):
        updates, state = tx.update({"w": jnp.asarray(g, jnp.float32)}, state, p)
        p = optax.apply_updates(p, updates)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        ref = ref - 0.1 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t) * m / (np.sqrt(v) + 1e-7)
        np.testing.assert_allclose(p["w"], ref, rtol=1e-5)


@pytest.mark.integration
def test_other_cells_flavors_and_heads_train():
    cfg = TINY.replace(cells=("gru", RNNCell("lstm", 2, "keras3"), nn.GRUCell(features=2)), lengths=(5,),
                       seeds=2, head="sigmoid", optimizer=lambda lr: optax.adam(lr))
    r = run_sweep(cfg)
    assert r.coords["cell"] == ["gru", "lstm", "flax.GRUCell"]
    assert np.all(np.isfinite(r.metrics["train_loss"])) and not r.diverged.any()
    first, last = r.metrics["train_loss"][..., 0], r.metrics["train_loss"][..., -1]
    assert (last < first).mean() > 0.5


def test_sigmoid_and_softmax_heads_are_the_same_loss():
    z = jnp.array([[0.3], [-1.2], [2.0]])
    y = jnp.array([1, 0, 0])
    two_class = jnp.concatenate([jnp.zeros_like(z), z], axis=1)  # softmax over (0, z) == sigmoid(z)
    np.testing.assert_allclose(head_loss("sigmoid", z, y)[0], head_loss("softmax", two_class, y)[0], rtol=1e-6)
    np.testing.assert_array_equal(head_loss("sigmoid", z, y)[1], head_loss("softmax", two_class, y)[1])


@pytest.mark.parametrize("changes,message", [
    ({"cells": ("rnn",)}, "cells: unknown cell 'rnn'"),
    ({"flavor": "keras1"}, "flavor: unknown flavor"),
    ({"task": "kopy"}, "task: unknown task 'kopy'"),
    ({"lengths": (5, 0)}, "lengths: every length must be an integer >= 1"),
    ({"lengths": (5, 5)}, "lengths: duplicates"),
    ({"seeds": 0}, "seeds: must be an integer >= 1"),
    ({"batch_size": 200}, "batch_size: 200 is larger than the training set"),
    ({"val_fraction": 1.0}, r"val_fraction: must be in \(0, 1\)"),
    ({"val_fraction": 0.0}, r"val_fraction: must be in \(0, 1\)"),
    ({"split": "random"}, "split: unknown split 'random'; allowed: shuffled, keras"),
    ({"head": "linear"}, "head: unknown head"),
    ({"lrs": (0.0,)}, "lr: must be > 0"),  # the setting users write (lr), not the field (lrs)
    ({"lrs": (1e-3, 1e-3)}, r"lr: duplicates in \[0.001, 0.001\]"),
    ({"forget_biases": (1.0, 1.0)}, r"forget_bias: duplicates in \[1.0, 1.0\]"),
    ({"length_buckets": 0}, "buckets: must be an integer >= 1"),
])
def test_bad_input_raises_a_settings_error_naming_the_setting(changes, message):
    with pytest.raises(SettingsError, match="^" + message) as raised:
        TINY.replace(**changes)
    assert isinstance(raised.value, ValueError) and message.startswith(raised.value.setting)


def test_each_flavour_trains_with_its_frameworks_adam_unless_told_otherwise():
    from latchjax.core.optim import keras_adam, torch_adam

    cfg = SweepConfig(flavor="torch", samples=64, epochs=1, lrs=(0.05,))
    final = lambda c: train_one(c, "lstm", 6, 0)["params"]["cell"]["weight_hh"]  # noqa: E731
    default, torch_rule, keras_rule = final(cfg), final(cfg.replace(optimizer=torch_adam)), \
        final(cfg.replace(optimizer=keras_adam))
    np.testing.assert_array_equal(default, torch_rule)
    assert not np.array_equal(default, keras_rule)  # epsilon 1e-8 on the corrected moment vs 1e-7 on the raw one


def test_head_only_training_keeps_the_cell_at_its_initial_parameters_and_trains_the_head():
    from latchjax.sweep.trainer import initial_params, model_grid

    cfg = SweepConfig(cells=("lstm",), lengths=(5,), seeds=3, samples=200, epochs=2, train="head", lrs=(1e-2,))
    result = run_sweep(cfg)
    cell = cfg.resolved.cells[0]
    grid = model_grid(cfg, cell)
    trained = result.params["lstm"][0]
    for seed in range(cfg.seeds):
        start = initial_params(cell, cfg, grid.key[seed], grid.forget_bias[seed], 1, 5, 5)
        for a, b in zip(jax.tree.leaves(start["cell"]), jax.tree.leaves(trained["cell"])):
            np.testing.assert_array_equal(np.asarray(a), b[seed])
        moved = [not np.array_equal(np.asarray(a), b[seed])
                 for a, b in zip(jax.tree.leaves(start["head"]), jax.tree.leaves(trained["head"]))]
        assert any(moved)
    full = run_sweep(cfg.replace(train="all"))
    assert any(not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(full.params["lstm"][0]["cell"]),
                                                           jax.tree.leaves(trained["cell"])))


def test_snapshots_hold_every_models_parameters_after_every_epoch():
    from latchjax.sweep.trainer import Data, make_trainer, model_grid

    cfg = SweepConfig(cells=("lstm",), lengths=(4, 6), seeds=2, samples=120, epochs=3, snapshots=True)
    result = run_sweep(cfg)
    final, snaps = result.params["lstm"], result.snapshots["lstm"]
    for length_index in range(2):
        for a, b in zip(jax.tree.leaves(final[length_index]), jax.tree.leaves(snaps[length_index])):
            assert b.shape == (a.shape[0], 3, *a.shape[1:])  # (model, epoch, ...)
            np.testing.assert_array_equal(b[:, -1], a)  # the last snapshot is the trained model
    # the first snapshot is one epoch of the same model trained alone
    cell = cfg.resolved.cells[0]
    from latchjax.core.data import make_dataset

    d = make_dataset(cfg.resolved.task, (6,), cfg.samples, cfg.val_fraction, cfg.split, cfg.data_seed)
    data = Data(6, d.x_train[0], d.y_train[0], d.x_val[0], d.y_val[0])
    hparams = jax.tree.map(lambda a: a[1], model_grid(cfg, cell))
    trainer = make_trainer(cell, cfg)
    state, _ = jax.jit(trainer.epoch)(jax.jit(trainer.init)(hparams, data), hparams, data, 0)
    for a, b in zip(jax.tree.leaves(state[0]), jax.tree.leaves(snaps[1])):
        np.testing.assert_allclose(b[1, 0], np.asarray(a), rtol=1e-5, atol=1e-6)
    assert run_sweep(cfg.replace(snapshots=False)).snapshots == {}


@pytest.mark.integration
def test_a_sweep_with_snapshots_writes_and_reads_them(tmp_path):
    from latchjax.cli import run
    from latchjax.rundir.files import load_params

    out = tmp_path / "run"
    assert run(["sweep", "--cells", "srnn", "--lengths", "4", "--seeds", "2", "--samples", "100", "--epochs", "2",
                "--snapshots", "--quiet", "--out", str(out)]) == 0
    snaps = load_params(out / "snapshots.npz")
    final = load_params(out / "params.npz")
    for a, b in zip(jax.tree.leaves(final["srnn"][4]), jax.tree.leaves(snaps["srnn"][4])):
        np.testing.assert_array_equal(b[:, -1], a)
    assert run(["sweep", "--cells", "srnn", "--lengths", "4", "--seeds", "2", "--samples", "100", "--epochs", "2",
                "--quiet", "--out", str(out), "--force"]) == 0  # a run with snapshots is replaced by one without
    assert not (out / "snapshots.npz").exists()


def test_head_lr_scale_multiplies_the_read_outs_updates_and_leaves_the_cells_alone():
    from latchjax.sweep.trainer import initial_params, model_grid

    # plain SGD, one minibatch: an update is -lr * gradient, so a scaled head moves exactly that many times as far
    cfg = SweepConfig(cells=("srnn",), lengths=(5,), seeds=2, samples=40, val_fraction=0.5, batch_size=20, epochs=1,
                      optimizer="sgd", lrs=(0.1,))
    base, scaled = run_sweep(cfg), run_sweep(cfg.replace(head_lr_scale=3.0))
    cell = cfg.resolved.cells[0]
    grid = model_grid(cfg, cell)
    for seed in range(cfg.seeds):
        start = initial_params(cell, cfg, grid.key[seed], grid.forget_bias[seed], 1, 5, 5)
        for part, factor in (("head", 3.0), ("cell", 1.0)):
            for a, b, c in zip(jax.tree.leaves(start[part]), jax.tree.leaves(base.params["srnn"][0][part]),
                               jax.tree.leaves(scaled.params["srnn"][0][part])):
                moved, moved_scaled = b[seed] - np.asarray(a), c[seed] - np.asarray(a)
                assert np.any(moved != 0)
                np.testing.assert_allclose(moved_scaled, factor * moved, rtol=1e-4, atol=1e-7)
