"""Engine options change speed, never results: gradients by forward or reverse mode, the loop's unroll,
length buckets, devices, and the persistent compilation cache."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from latchjax import SweepConfig, run_sweep
from latchjax.config import default_unroll

TINY_QUESTION = SweepConfig(cells=("srnn", "lstm"), lengths=(2, 5, 8), seeds=4, epochs=2, samples=200,
                            split="keras", length_buckets=1)


@pytest.fixture(scope="module")
def reference():
    return run_sweep(TINY_QUESTION.replace(gradient="reverse", unroll=1))


@pytest.mark.parametrize("changes", [{"gradient": "forward"}, {"gradient": "auto"}, {"unroll": 3},
                                     {"length_buckets": 3}])
def test_a_tiny_question_sweep_gives_the_same_success_table_under_every_engine_option(reference, changes):
    result = run_sweep(TINY_QUESTION.replace(**{"gradient": "reverse", "unroll": 1} | changes))
    for threshold in (0.5, 0.9):
        np.testing.assert_array_equal(result.success(threshold), reference.success(threshold))
    np.testing.assert_allclose(result.metrics["val_loss"], reference.metrics["val_loss"], rtol=1e-3, atol=1e-4)


def test_unroll_and_gradient_defaults_follow_the_backend():
    cfg = SweepConfig()
    assert cfg.unroll == default_unroll() == 1 and cfg.gradient == "auto"  # the CPU this suite runs on


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
    from latchjax.data import make_dataset
    from latchjax.runner import data_shapes, n_inputs
    from latchjax.tasks import make_task

    cfg = SweepConfig(task="bit_relay", lengths=(4, 7), samples=50, data=data)
    repeats = (0, 2, 2) if data == "per-seed" else None
    drawn = make_dataset(make_task(cfg.task, **cfg.task_kwargs), cfg.lengths, cfg.samples, cfg.val_fraction,
                         cfg.split, cfg.data_seed, repeats)
    shapes = data_shapes(cfg, cfg.lengths, n_inputs(cfg), repeats)
    for name, spec in shapes._asdict().items():
        array = drawn.lengths if name == "length" else getattr(drawn, name)
        assert (array.shape, array.dtype) == (spec.shape, spec.dtype), name


@pytest.mark.parametrize("kind,tolerance", [("srnn", 0.0), ("lstm", 0.0), ("gru", 1e-6)])
def test_recomputing_each_step_in_the_backward_pass_gives_the_gradients_of_storing_it(monkeypatch, kind, tolerance):
    import jax

    from latchjax import model
    from latchjax.cells import RNNCell

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
