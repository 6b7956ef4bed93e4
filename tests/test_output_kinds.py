"""Tasks that ask more than one binary class: K classes and regressions read at the last step, with their own
success rules (latchjax.core.tasks.output). One promise per test."""

from __future__ import annotations

import csv
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latchjax.cli import run
from latchjax.core.data import make_dataset
from latchjax.core.model import head_logits, head_loss, run_cell
from latchjax.core.tasks import TASKS, latch
from latchjax.core.tasks.output import (
    AbsError,
    Accuracy,
    LossRatio,
    NoErrors,
    Output,
    TaskSpec,
    evaluate_rule,
)
from latchjax.sweep.config import SweepConfig
from latchjax.sweep.runner import run_sweep

SMALL = {"cells": ("gru",), "units": 16, "flavor": "keras3", "lengths": (10,), "lrs": (1e-2,)}


def test_a_four_class_task_learns_at_a_short_length():
    """H&S's temporal order (4 classes) at T = 10: most seeds end far above chance (1/4)."""
    cfg = SweepConfig(task="temporal_order", seeds=3, samples=1000, epochs=5, **SMALL)
    result = run_sweep(cfg)
    val_acc = result.final("val_acc").ravel()
    assert np.sum(val_acc > 0.5) >= 2, val_acc
    assert result.output_info() == {"kind": "class", "size": 4, "rule": None}


def test_the_adding_task_meets_the_hs_rule_for_some_seeds_as_its_own_outputs_say():
    """H&S 1997's adding at T = 10: some seeds meet AbsError(0.04) on every validation sequence; the trainer's
    success and error count agree with the trained models' outputs recomputed here."""
    cfg = SweepConfig(task="adding", seeds=6, samples=2000, epochs=15, **SMALL)
    result = run_sweep(cfg)
    success = result.success().ravel()
    assert success.any(), result.final("test_errors").ravel()
    data = make_dataset(cfg.resolved.task, cfg.lengths, cfg.samples, cfg.val_fraction, cfg.split, cfg.data_seed)
    x_val, y_val = data.x_val[0], data.y_val[0]
    params = result.params["gru"][0]
    cell = cfg.resolved.cells[0]
    for seed in range(cfg.seeds):
        model = jax.tree.map(lambda a, seed=seed: a[seed], params)
        out = np.asarray(head_logits(model, run_cell(cell, model["cell"], jnp.asarray(x_val))))
        errors = int(np.sum(np.max(np.abs(out - y_val), axis=-1) >= 0.04))
        assert errors == result.final("test_errors").ravel()[seed]
        assert success[seed] == (errors == 0)
    assert np.isnan(result.metrics["val_acc"]).all()


def test_the_k_class_loss_and_the_mse_equal_a_hand_computation():
    rng = np.random.default_rng(3)
    logits, labels = rng.normal(size=(7, 5)).astype(np.float32), rng.integers(0, 5, 7)
    loss, correct = head_loss("softmax", jnp.asarray(logits), jnp.asarray(labels))
    shifted = logits - logits.max(axis=1, keepdims=True)
    hand = np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(7), labels]
    np.testing.assert_allclose(np.asarray(loss), hand, rtol=1e-5)
    np.testing.assert_array_equal(np.asarray(correct), logits.argmax(axis=1) == labels)
    out, target = rng.normal(size=(7, 3)).astype(np.float32), rng.normal(size=(7, 3)).astype(np.float32)
    loss, correct = head_loss("mse", jnp.asarray(out), jnp.asarray(target))
    np.testing.assert_allclose(np.asarray(loss), ((out - target) ** 2).mean(axis=1), rtol=1e-6)
    assert np.isnan(np.asarray(correct)).all()


def _judge(rule, output, out, y, loss=0.0, length=10):
    return {k: float(v) for k, v in evaluate_rule(rule, output, jnp.asarray(out), jnp.asarray(y), jnp.float32(loss),
                                                   length).items()}


def test_abs_error_allows_k_errors():
    y = np.zeros((4, 2), np.float32)
    out = np.array([[0.01, 0.0], [0.0, -0.05], [0.039, 0.039], [0.5, 0.0]], np.float32)  # rows 1 and 3 are errors
    reg = Output("regress", 2)
    assert _judge(AbsError(0.04, allowed=2), reg, out, y) == {"success": 1.0, "test_errors": 2.0,
                                                               "test_max_abs_error": 0.5}
    assert _judge(AbsError(0.04, allowed=1), reg, out, y)["success"] == 0.0
    assert _judge(AbsError(0.6), reg, out, y)["success"] == 1.0


def test_accuracy_with_its_own_threshold():
    cls = Output("class", 3)
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 3.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], np.float32)
    labels = np.array([0, 2, 1, 2])  # 3 of 4 right
    assert _judge(Accuracy(0.75), cls, logits, labels) == {"success": 1.0}
    assert _judge(Accuracy(0.76), cls, logits, labels) == {"success": 0.0}


def test_no_errors_for_a_class_and_a_regression():
    cls = Output("class", 3)
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 3.0]], np.float32)
    assert _judge(NoErrors(), cls, logits, np.array([0, 2])) == {"success": 1.0, "test_errors": 0.0}
    assert _judge(NoErrors(), cls, logits, np.array([1, 2])) == {"success": 0.0, "test_errors": 1.0}
    reg = Output("regress", 1)
    y = np.zeros((3, 1), np.float32)
    assert _judge(NoErrors(), reg, np.array([[0.19], [-0.19], [0.0]], np.float32), y)["success"] == 1.0  # 0.0361
    assert _judge(NoErrors(), reg, np.array([[0.21], [0.0], [0.0]], np.float32), y) == {"success": 0.0,
                                                                                        "test_errors": 1.0}


def test_loss_ratio_against_a_number_and_a_function_of_the_length():
    reg, out = Output("regress", 1), np.zeros((2, 1), np.float32)
    assert _judge(LossRatio(0.5, 0.2), reg, out, out, loss=0.1) == {"success": 1.0, "loss_ratio": 0.5}
    assert _judge(LossRatio(0.5, 0.2), reg, out, out, loss=0.11)["success"] == 0.0
    copy_baseline = LossRatio(1.0, lambda t: 10 * np.log(8) / (t + 20))
    judged = _judge(copy_baseline, reg, out, out, loss=0.1, length=100)  # baseline 10 log 8 / 120 = 0.173
    assert judged["loss_ratio"] == pytest.approx(0.1 / (10 * np.log(8) / 120), rel=1e-6)
    assert judged["success"] == 1.0
    assert _judge(copy_baseline, reg, out, out, loss=0.1, length=400)["success"] == 0.0  # baseline 0.0495


def _spec(y_of, output, x_of=None, name="mismatched"):
    def fn(key, n, length):
        x = np.random.default_rng(0).normal(size=(n, length, 1)).astype(np.float32)
        return (x if x_of is None else x_of(x)), y_of(n)
    fn.__name__ = name
    return TaskSpec(fn, output, None if output.kind == "class" else AbsError(0.1))


CLASS4, REG1 = Output("class", 4), Output("regress", 1)


@pytest.mark.parametrize("task, words", [
    (_spec(lambda n: np.full(n, 0.37), CLASS4), "float targets"),
    (_spec(lambda n: np.arange(n) % 5, CLASS4), "labels [0 1 2 3 4]"),
    (_spec(lambda n: np.arange(n) % 4 - 1, CLASS4), "labels [-1"),
    (_spec(lambda n: np.full(n, 1.5), CLASS4), "float targets"),
    (_spec(lambda n: np.array(["a"] * n), CLASS4), "labels <U1"),
    (_spec(lambda n: np.zeros(n, np.float32), REG1), "y of shape (n, 1)"),
    (_spec(lambda n: np.full((n, 1), np.inf), REG1), "not finite"),
    (_spec(lambda n: np.zeros((n, 1)), REG1, x_of=lambda x: np.where(x > 1, np.nan, x)), "inputs that are not finite"),
    (_spec(lambda n: np.zeros(n, np.int32), CLASS4, x_of=lambda x: x[..., 0]), "x of shape (n, length, n_in)"),
    (_spec(lambda n: np.zeros(n, np.int32), CLASS4, x_of=lambda x: x.astype(np.complex64)), "dtype complex64"),
])
def test_data_that_do_not_match_what_the_task_declares_are_refused_naming_the_task(task, words):
    with pytest.raises(ValueError, match="mismatched") as err:
        SweepConfig(task=task, cells=("srnn",), lengths=(4,), seeds=2, samples=64, epochs=1)
    assert words in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("changes, words", [
    ({"task": "temporal_order", "head": "sigmoid"}, "sigmoid (Dense(1) + BCE) is for binary tasks"),
    ({"task": "adding", "head": "sigmoid"}, "declares regress 1"),
    ({"task": "adding", "threshold": 0.8}, "its own success rule"),
    ({"task": "adding", "head_init": "aligned"}, "prototypes"),
])
def test_settings_the_task_cannot_honour_are_refused(changes, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        SweepConfig(**{"cells": ("srnn",), "lengths": (10,), "samples": 200, **changes})


def test_a_mismatched_task_is_refused_through_the_cli_before_anything_is_written(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(TASKS, "mismatched", _spec(lambda n: np.arange(n) % 5, CLASS4))
    out = tmp_path / "run"
    assert run(["sweep", "--task", "mismatched", "--cells", "srnn", "--lengths", "4", "--seeds", "2",
                "--samples", "64", "--epochs", "1", "--quiet", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "mismatched" in err and "labels [0 1 2 3 4]" in err, err
    assert not out.exists()


def test_a_binary_task_spec_trains_exactly_as_the_plain_function():
    plain = SweepConfig(task=latch, cells=("lstm",), lengths=(5, 8), seeds=2, samples=64, epochs=2)
    spec = plain.replace(task=TaskSpec(functools.partial(latch, noise=0.1), Output("class", 2)))
    a, b = run_sweep(plain), run_sweep(spec)
    assert set(a.metrics) == set(b.metrics)
    for name in a.metrics:
        np.testing.assert_array_equal(a.metrics[name], b.metrics[name])
    assert "output" not in a.coords and "output" not in b.coords


def test_a_regression_run_writes_loss_and_rule_columns_but_no_accuracy(tmp_path, capsys):
    out = tmp_path / "adding"
    assert run(["sweep", "--task", "adding", "--cells", "gru", "--units", "4", "--lengths", "10", "--seeds", "2",
                "--samples", "200", "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    with open(out / "results.csv") as f:
        header = next(csv.reader(f))
    assert header[-7:] == ["val_loss", "train_loss", "test_errors", "test_max_abs_error", "diverged", "success",
                           "baseline"]
    # H&S adding's memoryless baseline: predict 0.5, MSE Var((X1 + X2) / 4) with X1 := 0 on 1 row in 10 (Var X1 = 0.3)
    with open(out / "results.csv") as f:
        assert {row["baseline"] for row in csv.DictReader(f)} == {f"{(0.3 + 1 / 3) / 16:.6g}"}
    with open(out / "summary.csv") as f:
        assert "mean_val_loss" in next(csv.reader(f))
    capsys.readouterr()
    assert run(["summary", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "|error| < 0.04 on every validation sequence" in printed and "val loss mean" in printed


@pytest.mark.parametrize("head, y", [("softmax", np.array([0, 3, 1, 2])), ("mse", np.linspace(0, 1, 8).reshape(4, 2))])
def test_forward_mode_gradients_equal_backpropagation_for_k_classes_and_regressions(head, y):
    from latchjax.core.cells import make_cell
    from latchjax.core.forward import forward_value_and_grad
    from latchjax.core.model import init_head, model_loss

    cell, size = make_cell("lstm", 2, "keras3"), 4 if head == "softmax" else 2
    k_cell, k_head, k_x = jax.random.split(jax.random.key(0), 3)
    params = {"cell": cell.init(k_cell, 1), "head": init_head(k_head, cell, head, size)}
    x, y, weight = jax.random.normal(k_x, (4, 6, 1)), jnp.asarray(y, jnp.int32 if head == "softmax" else jnp.float32), \
        jnp.ones(4)
    (loss, _), grads = forward_value_and_grad(cell, head, params, x, y, weight, start=1)
    (want, _), want_grads = jax.value_and_grad(lambda p: model_loss(cell, head, p, x, y, weight, 1), has_aux=True)(params)
    np.testing.assert_allclose(loss, want, rtol=1e-6)
    for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(want_grads)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
