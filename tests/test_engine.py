"""Engine options change speed, never results: gradients by forward or reverse mode, the loop's unroll,
length buckets, devices, and the persistent compilation cache."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

import latchjax.sweep.trainer
from latchjax import SweepConfig, run_sweep
from latchjax.core.cells import make_cell
from latchjax.core.forward import FORWARD_MAX_PARAMS
from latchjax.sweep.config import default_length_buckets, default_unroll
from latchjax.sweep.trainer import METRICS, forward_mode

TINY_QUESTION = SweepConfig(cells=("srnn", "lstm"), lengths=(2, 5, 8), seeds=4, epochs=2, samples=200,
                            split="keras", length_buckets=1)


@pytest.fixture(scope="module")
def reference():
    return run_sweep(TINY_QUESTION.replace(gradient="reverse", unroll=1))


@pytest.mark.integration
@pytest.mark.parametrize("changes", [{"gradient": "forward"}, {"unroll": 3}, {"length_buckets": 3}])
def test_a_tiny_question_sweep_gives_the_same_success_table_under_every_engine_option(reference, changes):
    result = run_sweep(TINY_QUESTION.replace(**{"gradient": "reverse", "unroll": 1} | changes))
    for threshold in (0.5, 0.9):
        np.testing.assert_array_equal(result.success(threshold), reference.success(threshold))
    np.testing.assert_allclose(result.metrics["val_loss"], reference.metrics["val_loss"], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("backend,forward", [("cpu", False), ("gpu", True)])
def test_the_trainer_asks_auto_of_the_backend_it_runs_on(monkeypatch, backend, forward):
    """auto: reverse mode for an LSTM(1) on CPU, forward mode on a GPU (the table of
    tests/test_forward.py::test_forward_is_cheaper_for_tiny_cells_only); reverse and forward are what they say."""
    monkeypatch.setattr(jax, "default_backend", lambda: backend)
    cell = make_cell("lstm")
    assert forward_mode(cell, TINY_QUESTION.replace(gradient="auto"), 1) is forward
    assert forward_mode(cell, TINY_QUESTION.replace(gradient="reverse"), 1) is False
    assert forward_mode(cell, TINY_QUESTION.replace(gradient="forward"), 1) is True


@pytest.mark.integration
def test_gradient_auto_trains_each_cell_with_the_mode_it_picks(reference, monkeypatch):
    """With this backend's bound set to 3 parameters, auto picks forward mode for SimpleRNN(1) (3) and reverse mode
    for LSTM(1) (12): the trainer differentiates each cell so, and its results are, bit for bit, those of the mode
    picked for it."""
    monkeypatch.setitem(FORWARD_MAX_PARAMS, jax.default_backend(), 3)
    picks = {name: forward_mode(make_cell(name), TINY_QUESTION, 1) for name in TINY_QUESTION.cells}
    assert picks == {"srnn": True, "lstm": False}
    traced, real = [], latchjax.sweep.trainer.forward_value_and_grad
    monkeypatch.setattr(latchjax.sweep.trainer, "forward_value_and_grad",
                        lambda cell, *args: traced.append(cell.name) or real(cell, *args))
    auto = run_sweep(TINY_QUESTION.replace(gradient="auto", unroll=1))
    assert set(traced) == {"srnn"}  # forward mode is traced for SimpleRNN's program only
    forward = run_sweep(TINY_QUESTION.replace(gradient="forward", unroll=1, cells=("srnn",)))
    for name in METRICS:
        np.testing.assert_array_equal(auto.sel(name, cell="srnn"), forward.sel(name, cell="srnn"), err_msg=name)
        np.testing.assert_array_equal(auto.sel(name, cell="lstm"), reference.sel(name, cell="lstm"), err_msg=name)


@pytest.mark.parametrize("backend,unroll,buckets", [("cpu", 1, 3), ("gpu", 8, 1), ("tpu", 8, 1)])
def test_unroll_and_gradient_defaults_follow_the_backend(monkeypatch, backend, unroll, buckets):
    """benchmarks/RESULTS.md: on CPU unrolling the time loop measured slower and 3 length buckets pad least; on
    accelerators every loop iteration costs a launch (unroll 8) and one program is fastest (1 bucket)."""
    monkeypatch.setattr(jax, "default_backend", lambda: backend)
    assert (default_unroll(), default_length_buckets()) == (unroll, buckets)
    cfg = SweepConfig()
    assert (cfg.unroll, cfg.length_buckets, cfg.gradient) == (unroll, buckets, "auto")
    given = SweepConfig(unroll=2, length_buckets=5)  # a value given is kept, whatever the backend
    assert (given.unroll, given.length_buckets) == (2, 5)


TINY_CLI = ["sweep", "--cells", "srnn", "--lengths", "3,6", "--seeds", "2", "--epochs", "1", "--samples", "80",
            "--quiet", "--force"]


def _sweep(out, cache_home, *flags):
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home))
    code = "import sys; from latchjax.cli import main; sys.exit(main())"
    done = subprocess.run([sys.executable, "-c", code, *TINY_CLI, "--out", str(out), *flags], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with np.load(out / "results.npz") as data:
        return {k: data[k] for k in data.files if k not in ("coords", "timing")}, json.loads((out / "meta.json").read_text())


@pytest.mark.integration
def test_the_compilation_cache_does_not_change_results(tmp_path):
    """A first run fills the cache, a second loads its programs from it (no compiling): both give the numbers
    of a run with --no-cache, bit for bit."""
    cache = tmp_path / "cache"
    fresh, _ = _sweep(tmp_path / "fresh", cache, "--no-cache")
    assert not (cache / "latchjax" / "xla").exists()
    first, meta_first = _sweep(tmp_path / "first", cache)
    assert any((cache / "latchjax" / "xla").iterdir())
    second, meta_second = _sweep(tmp_path / "second", cache)
    assert meta_second["compile_s"] < meta_first["compile_s"]
    for run in (first, second):
        for name, array in fresh.items():
            np.testing.assert_array_equal(run[name], array, err_msg=name)


@pytest.mark.parametrize("data", ["shared", "per-seed"])
def test_programs_compile_from_the_shapes_of_the_data_being_drawn(data):
    from latchjax.core.data import make_dataset
    from latchjax.core.tasks import make_task
    from latchjax.sweep.runner import data_shapes

    cfg = SweepConfig(task="bit_relay", lengths=(4, 7), samples=50, data=data)
    repeats = (0, 2, 2) if data == "per-seed" else None
    drawn = make_dataset(make_task(cfg.task, **cfg.task_kwargs), cfg.lengths, cfg.samples, cfg.val_fraction,
                         cfg.split, cfg.data_seed, repeats)
    shapes = data_shapes(cfg, cfg.lengths, cfg.resolved.n_in, repeats)
    for name, spec in shapes._asdict().items():
        array = drawn.lengths if name == "length" else getattr(drawn, name, None)
        if spec is None:  # no per-row starts, masks or stream for a fixed-length task read at the end offline
            assert array is None, name
            continue
        assert (array.shape, array.dtype) == (spec.shape, spec.dtype), name


@pytest.mark.parametrize("kind,tolerance", [("srnn", 0.0), ("lstm", 0.0), ("gru", 1e-6)])
def test_recomputing_each_step_in_the_backward_pass_gives_the_gradients_of_storing_it(monkeypatch, kind, tolerance):
    from latchjax.core import model
    from latchjax.core.cells import RNNCell

    cell = RNNCell(kind, units=1, flavor="keras2")
    params = jax.vmap(lambda k: {"cell": cell.init(k, 1, 1.0), "head": model.init_head(k, cell, "softmax")})(
        jax.random.split(jax.random.key(0), 6))
    x = jax.random.normal(jax.random.key(1), (6, 16, 30, 1))
    y = (jax.random.uniform(jax.random.key(2), (6, 16)) > 0.5).astype(np.int32)

    def gradients():
        def one(p, x, y):
            return jax.grad(lambda p: model.model_loss(cell, "softmax", p, x, y, np.ones(16), 4)[0])(p)
        return jax.jit(jax.vmap(one))(params, x, y)

    recomputed = gradients()
    monkeypatch.setattr(model, "RECOMPUTE_POLICY", jax.checkpoint_policies.everything_saveable)
    stored = gradients()
    for a, b in zip(jax.tree.leaves(recomputed), jax.tree.leaves(stored)):
        np.testing.assert_allclose(a, b, rtol=0, atol=tolerance)
