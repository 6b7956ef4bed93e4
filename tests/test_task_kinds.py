"""Tasks a memory study uses beyond one answer at the end: outputs at every step (with masks), multilabel outputs,
rows of their own lengths, online data, and steps to success with --stop-at-success. One promise per test."""

from __future__ import annotations

import csv
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latchjax.cli import run
from latchjax.core.cells import make_cell
from latchjax.core.data import make_dataset, stream_keys
from latchjax.core.model import init_head, model_loss, model_outputs, sequence_loss
from latchjax.core.stats import km_median
from latchjax.core.tasks import copy, latch
from latchjax.core.tasks.arjovsky16 import copy_baseline
from latchjax.core.tasks.output import AbsError, NoErrors, Output, Sequences, TaskSpec, evaluate_rule
from latchjax.core.vocabulary import SettingsError
from latchjax.sweep.config import SweepConfig
from latchjax.sweep.runner import run_sweep
from latchjax.sweep.trainer import Data, Hparams, make_program

ONLINE = {"task": "latch", "cells": ("srnn",), "lengths": (5,), "data": "online", "budget": 3200, "eval_every": 10,
          "test_samples": 400, "lrs": (1e-2,)}


def _hand_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    logz = np.log(np.exp(shifted).sum(axis=-1))
    return logz - np.take_along_axis(shifted, labels[..., None], axis=-1)[..., 0]


def test_per_step_masked_cross_entropy_equals_a_hand_computation():
    """A sequence's loss is the mean cross-entropy over its counted steps; the batch's the weighted mean of those."""
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 5, 4)).astype(np.float32)
    labels = rng.integers(0, 4, (3, 5))
    mask = np.array([[1, 1, 1, 1, 1], [0, 0, 1, 0, 1], [0, 0, 0, 0, 1]], np.float32)
    loss, acc = sequence_loss("softmax", jnp.asarray(logits), jnp.asarray(labels), jnp.asarray(mask))
    ce = _hand_cross_entropy(logits, labels)
    hand = [ce[0].mean(), (ce[1, 2] + ce[1, 4]) / 2, ce[2, 4]]
    np.testing.assert_allclose(np.asarray(loss), hand, rtol=1e-5)
    right = logits.argmax(-1) == labels
    np.testing.assert_allclose(np.asarray(acc), [right[0].mean(), (right[1, 2] + right[1, 4]) / 2, right[2, 4]])
    # through the model: a GRU read at every step, two sequences weighted 1 and 3
    cell = make_cell("gru", 3, "keras3")
    k1, k2 = jax.random.split(jax.random.key(1))
    params = {"cell": cell.init(k1, 2), "head": init_head(k2, cell, "softmax", 4)}
    x = rng.normal(size=(2, 5, 2)).astype(np.float32)
    weight = np.array([1.0, 3.0], np.float32)
    total, _ = model_loss(cell, "softmax", params, jnp.asarray(x), jnp.asarray(labels[:2]), jnp.asarray(weight),
                          mask=jnp.asarray(mask[:2]))
    out = np.asarray(model_outputs(cell, params, jnp.asarray(x), every=True))
    ce = _hand_cross_entropy(out, labels[:2])
    per_sequence = (ce * mask[:2]).sum(1) / mask[:2].sum(1)
    np.testing.assert_allclose(float(total), (per_sequence * weight).sum() / weight.sum(), rtol=1e-5)


def test_multilabel_loss_and_rules_at_every_step_equal_a_hand_computation():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(4, 3, 2)).astype(np.float32)
    y = rng.integers(0, 2, (4, 3, 2)).astype(np.float32)
    mask = np.array([[1, 1, 1], [0, 1, 1], [0, 0, 1], [1, 0, 0]], np.float32)
    loss, acc = sequence_loss("bce", jnp.asarray(logits), jnp.asarray(y), jnp.asarray(mask))
    bce = (np.log1p(np.exp(logits)) - y * logits).mean(-1)
    np.testing.assert_allclose(np.asarray(loss), (bce * mask).sum(1) / mask.sum(1), rtol=1e-5)
    right = ((logits > 0) == (y > 0.5)).all(-1)
    np.testing.assert_allclose(np.asarray(acc), (right * mask).sum(1) / mask.sum(1), rtol=1e-6)
    output = Output("multilabel", 2, at="every")
    worst = np.abs(1 / (1 + np.exp(-logits)) - y).max(-1)  # per step: the largest |probability - label|
    judged = evaluate_rule(AbsError(0.3), output, jnp.asarray(logits), jnp.asarray(y), 0.0, 3, jnp.asarray(mask))
    errors = int(((worst * mask).max(1) >= 0.3).sum())
    assert int(judged["test_errors"]) == errors and bool(judged["success"]) == (errors == 0)
    judged = evaluate_rule(NoErrors(), output, jnp.asarray(logits), jnp.asarray(y), 0.0, 3, jnp.asarray(mask))
    assert int(judged["test_errors"]) == int((~right * mask).max(1).astype(bool).sum())


def test_the_copy_task_is_arjovskys_and_its_memoryless_loss_is_the_stated_baseline():
    T, K = 7, 10
    seq = copy(jax.random.key(0), 64, T)
    x, y = np.asarray(seq.x), np.asarray(seq.y)
    assert x.shape == (64, T + 2 * K, 10) and y.shape == (64, T + 2 * K)
    symbols = x.argmax(-1)
    np.testing.assert_array_equal(symbols[:, K + T], 9)  # the marker after T blanks
    assert (symbols[:, K:K + T] == 0).all() and (symbols[:, K + T + 1:] == 0).all()
    assert ((symbols[:, :K] >= 1) & (symbols[:, :K] <= 8)).all()
    np.testing.assert_array_equal(y[:, -K:], symbols[:, :K])  # recall the K symbols in order
    assert (y[:, :-K] == 0).all()
    # the memoryless strategy: a blank (certain) until the last K steps, then uniform over the 8 symbols
    logits = np.where(np.arange(T + 2 * K)[:, None] < T + K, np.r_[50.0, np.full(8, -50.0)], np.r_[-50.0, np.zeros(8)])
    loss, _ = sequence_loss("softmax", jnp.asarray(np.broadcast_to(logits, (64, T + 2 * K, 9))), jnp.asarray(y),
                            jnp.ones((64, T + 2 * K)))
    np.testing.assert_allclose(np.asarray(loss), copy_baseline(T), rtol=1e-5)
    assert copy_baseline(T) == pytest.approx(K * math.log(8) / (T + 2 * K))


def _varying(key, n, length):
    """Rows of lengths 1..length (left-padded), the class of the sign of their first real element; every step read
    through a mask that counts the last three real steps of each row."""
    k_len, k_x = jax.random.split(key)
    rows = jax.random.randint(k_len, (n,), 1, length + 1)
    t = jnp.arange(length) - (length - rows)[:, None]
    x = jnp.where(t[..., None] >= 0, jax.random.normal(k_x, (n, length, 2)), 0.0)
    first = jnp.sum(jnp.where(t == 0, x[..., 0], 0.0), axis=1)
    y = jnp.broadcast_to((first > 0).astype(jnp.int32)[:, None], (n, length))
    mask = (t >= rows[:, None] - 3) & (t >= 0)
    return Sequences(x, y, mask=mask, length=rows)


def _varying_last(key, n, length):
    seq = _varying(key, n, length)
    return Sequences(seq.x, seq.y[:, -1], length=seq.length)


VARYING = TaskSpec(_varying, Output("class", 2, at="every"), label="varying")


@pytest.mark.parametrize("every", [True, False])
def test_a_model_trained_on_a_variable_length_dataset_equals_the_same_model_fed_each_row_unpadded(every):
    """The gradient of a padded batch with one start per row is the mean of each row's gradient on its own
    unpadded sequence, so training on it is training on the rows themselves."""
    task = VARYING if every else _varying_last
    data = make_dataset(task, (9,), 12, 0.25, "shuffled", 3)
    x, y, start = data.x_train[0], data.y_train[0], data.start_train[0]
    mask = data.mask_train[0] if every else None
    assert len(set(start.tolist())) > 2  # rows of several lengths
    cell = make_cell("lstm", 2, "keras3")
    k1, k2 = jax.random.split(jax.random.key(4))
    params = {"cell": cell.init(k1, 2), "head": init_head(k2, cell, "softmax", 2)}

    def loss(p, x, y, weight, start, mask):
        return model_loss(cell, "softmax", p, x, y, weight, start, mask=mask)[0]

    padded = jax.grad(loss)(params, x, y, jnp.ones(len(y)), jnp.asarray(start), None if mask is None else mask)
    alone = []
    for i in range(len(y)):
        s = int(start[i])
        row_y = y[i:i + 1, s:] if every else y[i:i + 1]
        row_mask = None if mask is None else mask[i:i + 1, s:]
        alone.append(jax.grad(loss)(params, x[i:i + 1, s:], row_y, jnp.ones(1), 0, row_mask))
    mean = jax.tree.map(lambda *g: np.mean(g, axis=0), *alone)
    for a, b in zip(jax.tree.leaves(padded), jax.tree.leaves(mean)):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-5, atol=1e-7)


def test_a_variable_length_task_trains_through_the_sweep_as_one_model_alone():
    from latchjax.sweep.runner import train_one

    cfg = SweepConfig(task=VARYING, cells=("gru",), units=3, lengths=(6, 9), seeds=2, samples=80, epochs=2,
                      flavor="keras3")
    result = run_sweep(cfg)
    alone = train_one(cfg, "gru", 6, seed=1)
    np.testing.assert_allclose(result.sel("val_loss", length=6, seed=1).ravel(), alone["val_loss"], rtol=1e-5)


def _program_outputs(cfg: SweepConfig, streams: jax.Array) -> dict:
    """Train two models with the same initialisation key on ``streams`` (one per length, or per length and model)."""
    cell = cfg.resolved.cells[0]
    from latchjax.core.data import make_test_set

    test = make_test_set(cfg.resolved.task, cfg.lengths, cfg.n_val, cfg.data_seed)
    data = Data(jnp.asarray(test.lengths), None, None, jnp.asarray(test.x_val), jnp.asarray(test.y_val), stream=streams)
    program = make_program(cell, cfg, data=data, length=cfg.lengths[0])
    key = jax.random.key(5)
    hparams = Hparams(jnp.stack([key, key]), jnp.full(2, 1e-2, jnp.float32), jnp.ones(2, jnp.float32))
    state = program.init(hparams, data)
    for r in range(cfg.rounds):
        state, _ = program.epoch(state, hparams, data, np.int32(r))
    return state[0]


def test_two_models_on_a_shared_online_stream_see_the_same_batches_per_seed_streams_differ():
    shared = SweepConfig(**ONLINE | {"budget": 320, "seeds": 2})
    params = _program_outputs(shared, stream_keys(0, (5,)))
    for leaf in jax.tree.leaves(params):  # same key, same stream: the same model
        np.testing.assert_array_equal(leaf[0, 0], leaf[0, 1])
    own = shared.replace(data="online-per-seed")
    params = _program_outputs(own, stream_keys(0, (5,), (0, 1)))
    assert any(not np.array_equal(leaf[0, 0], leaf[0, 1]) for leaf in jax.tree.leaves(params))
    # and the stream is fresh data: minibatch s is the task drawn from fold_in(stream, s)
    from latchjax.sweep.trainer import online_batch

    stream = stream_keys(0, (5,))[0]
    x0, y0, _, _ = online_batch(shared, jax.random.fold_in(stream, 0), 16, 5, 5)
    x, y = latch(jax.random.fold_in(stream, 0), 16, 5)
    np.testing.assert_array_equal(np.asarray(x0), np.asarray(x))
    x1, _, _, _ = online_batch(shared, jax.random.fold_in(stream, 1), 16, 5, 5)
    assert not np.array_equal(np.asarray(x0), np.asarray(x1))


def test_after_stop_at_success_a_solved_model_never_changes_and_equals_a_run_that_stopped_there():
    cfg = SweepConfig(**ONLINE | {"seeds": 6, "stop_at_success": True})
    result = run_sweep(cfg)
    times, observed = result.steps_to_success()
    times, observed = times.ravel(), observed.ravel()
    seen = result.coords["sequences"]
    early = [s for s in range(cfg.seeds) if observed[s] and times[s] < seen[-1]]
    assert early, (times, observed)
    seed = early[0]
    r = seen.index(times[seed])
    val_loss = result.sel("val_loss", seed=seed).ravel()
    assert (val_loss[r:] == val_loss[r]).all()  # frozen: the same model judged on the same test set
    # an independent run whose budget ends where this model succeeded: the same parameters, the same record
    stopped = run_sweep(cfg.replace(budget=int(times[seed]), stop_at_success=False))
    for a, b in zip(jax.tree.leaves(result.params["srnn"][0]), jax.tree.leaves(stopped.params["srnn"][0])):
        np.testing.assert_allclose(a[seed], b[seed], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(stopped.sel("val_loss", seed=seed).ravel(), val_loss[:r + 1], rtol=1e-6)
    # the summary's median is Kaplan-Meier's over these seeds, the unsolved censored at the budget
    median = result.median_steps_to_success()
    assert (float(median["median_sequences"].ravel()[0]), float(median["median_low"].ravel()[0]),
            float(median["median_high"].ravel()[0])) == km_median(times, observed)


def test_online_data_trains_the_budget_and_tests_on_a_fixed_set():
    cfg = SweepConfig(**ONLINE | {"seeds": 2, "budget": 1000})
    assert cfg.total_steps == 63 and cfg.rounds == 7 and cfg.sequences_seen()[-1] == 63 * 16
    result = run_sweep(cfg)
    assert result.metrics["val_acc"].shape[-1] == 7 and result.coords["sequences"][-1] == 1008
    # the test set is drawn apart from the stream and is the same whatever the budget
    again = run_sweep(cfg.replace(budget=160, eval_every=10))
    np.testing.assert_array_equal(result.sel("val_loss", seed=0)[..., 0], again.sel("val_loss", seed=0)[..., 0])


def _numpy_latch(key, n, length):
    x, y = latch(key, n, length)
    return np.asarray(x), np.asarray(y)


def _mask_at_the_end(key, n, length):
    x, y = latch(key, n, length)
    return Sequences(x, y, mask=jnp.ones((n, length)))


def _too_long(key, n, length):
    x, y = latch(key, n, length)
    return Sequences(x, y, length=jnp.full((n,), length + 1))


def _every_with_last_labels(key, n, length):
    return latch(key, n, length)


def _multilabel_twos(key, n, length):
    x, _ = latch(key, n, length)
    return x, jnp.full((n, 3), 2.0)


REFUSED = [
    ({"task": TaskSpec(_mask_at_the_end, label="masked")}, "a mask is for an output at every step"),
    ({"task": TaskSpec(_too_long, label="too_long")}, "row lengths that are not integers in [1, 5]"),
    ({"task": TaskSpec(_every_with_last_labels, Output("class", 2, at="every"), label="every")},
     "y of shape (n, length)"),
    ({"task": TaskSpec(_multilabel_twos, Output("multilabel", 3), NoErrors(), label="twos")}, "labels 0 and 1"),
    ({"task": _numpy_latch, "data": "online", "budget": 100}, "cannot be traced by JAX"),
    ({"eval_every": 5}, "is for online data"),
    ({"budget": 500}, "is for online data"),
    ({"data": "online"}, "needs a budget"),
    ({"data": "online", "budget": 100, "eval_every": 50}, "more than the budget's 7 minibatches"),
    ({"task": copy, "gradient": "forward"}, "forward-mode gradients are for an output at the last step"),
    ({"task": copy, "head": "sigmoid"}, "sigmoid (Dense(1) + BCE) is for binary tasks"),
    ({"data": "online", "budget": 100, "length_buckets": 1, "lengths": (5, 6)}, "one program per length"),
    ({"stop_at_success": "yes"}, "must be true or false"),
]


@pytest.mark.parametrize("changes, message", REFUSED, ids=[m for _, m in REFUSED])
def test_what_a_task_or_option_cannot_honour_is_refused_before_training(changes, message):
    base = {"lengths": (5,), "seeds": 2, "samples": 200, "epochs": 1}
    with pytest.raises((SettingsError, ValueError)) as err:
        SweepConfig(**base | changes)
    assert message in str(err.value), str(err.value)
    if "task" in changes and isinstance(changes["task"], TaskSpec):
        assert changes["task"].name in str(err.value)


@pytest.mark.integration
def test_a_copy_run_online_with_stop_at_success_writes_steps_to_success(tmp_path, capsys):
    out = tmp_path / "copy"
    assert run(["sweep", "--task", "copy", "--symbols", "2", "--cells", "gru", "--units", "8", "--lengths", "3",
                "--seeds", "3", "--data", "online", "--budget", "1600", "--eval-every", "20", "--test-samples", "100",
                "--lr", "0.02", "--stop-at-success", "--quiet", "--out", str(out)]) == 0
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert {"test_errors", "sequences_to_success", "baseline"} <= set(rows[0]) and "val_acc" in rows[0]
    assert {r["baseline"] for r in rows} == {f"{copy_baseline(3, symbols=2):.6g}"}
    for r in rows:  # a success has its time; a failure has none
        assert (r["sequences_to_success"] != "nan") == (r["success"] == "1")
    with open(out / "summary.csv") as f:
        summary = next(csv.DictReader(f))
    assert {"median_sequences", "median_low", "median_high"} <= set(summary)
    with open(out / "history.csv") as f:
        assert next(csv.reader(f))[:9] == ["cell", "flavor", "units", "length", "lr", "forget_bias", "seed", "epoch",
                                           "sequences"]
    capsys.readouterr()
    assert run(["summary", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "median seqs to success" in printed and "online data" in printed


@pytest.mark.integration
@pytest.mark.parametrize("argv", [["--data", "online"], ["--eval-every", "3"], ["--stop-at-success", "maybe"],
                                  ["--task", "copy", "--gradient", "forward"]])
def test_a_bad_online_or_per_step_option_is_one_line_and_writes_nothing(tmp_path, capsys, argv):
    out = tmp_path / "run"
    assert run(["sweep", "--lengths", "5", "--seeds", "2", "--quiet", "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert not out.exists()


def test_functools_partial_of_a_task_spec_keeps_its_declaration():
    spec = copy.bind(symbols=3)
    assert spec.output == copy.output and spec.baseline(5) == pytest.approx(copy_baseline(5, symbols=3))
    assert functools.partial(copy_baseline, symbols=3)(5) == spec.baseline(5)


def test_one_model_trained_alone_on_its_own_online_stream_equals_it_in_the_sweep():
    from latchjax.sweep.runner import train_one

    cfg = SweepConfig(**ONLINE | {"seeds": 2, "budget": 320, "data": "online-per-seed"})
    result = run_sweep(cfg)
    alone = train_one(cfg, "srnn", 5, seed=1)
    np.testing.assert_allclose(result.sel("val_loss", seed=1).ravel(), alone["val_loss"], rtol=1e-5)
