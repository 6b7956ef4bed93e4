"""Sweeps split into chunks: planning against a memory budget, chunked == unchunked, the on-disk
chunk store (integrity checks), the run lock, and Ctrl-C + resume through the CLI."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import latchjax.cli.sweep
import latchjax.rundir.chunks
import latchjax.rundir.files
import latchjax.rundir.plots
import latchjax.rundir.sweepdir
from latchjax import SweepConfig, run_sweep
from latchjax.cli import run
from latchjax.core.cells import make_cell
from latchjax.core.data import make_dataset
from latchjax.core.tasks import make_task
from latchjax.rundir.chunks import ChunkStore
from latchjax.rundir.lock import LockError, RunLock
from latchjax.sweep.compiler import compile_lowered
from latchjax.sweep.plan import bucket_lengths, model_bytes, plan_memory, plan_sweep
from latchjax.sweep.runner import collect, train_chunks
from latchjax.sweep.trainer import METRICS, Data, Hparams, make_program

CFG = SweepConfig(cells=("srnn", "lstm"), lengths=(3, 6, 11), seeds=5, epochs=2, samples=96, batch_size=16,
                  lrs=(1e-2, 1e-3), length_buckets=2)


def same(a, b):
    for name in (*METRICS, "diverged"):
        np.testing.assert_array_equal(np.asarray(a.metrics[name]), np.asarray(b.metrics[name]), err_msg=name)


@pytest.fixture(scope="module")
def whole():
    return run_sweep(CFG)


def test_plan_covers_every_model_once_and_shares_programs():
    plan = plan_sweep(CFG, chunk_models=3)
    for ci in range(2):
        for bucket in range(2):
            chunks = [c for c in plan if c.cell_index == ci and c.bucket == bucket]
            covered = np.concatenate([np.arange(c.start, c.stop) for c in chunks])
            np.testing.assert_array_equal(covered, np.arange(10))  # 2 lrs x 5 seeds
            assert {c.size for c in chunks} == {3}  # the last chunk is padded: one program per bucket
    assert plan_sweep(CFG, chunk_models=3, devices=4)[0].size == 8  # 2 per device at least
    assert plan_sweep(CFG, chunk_models=1)[0].size == 2


def test_bucket_lengths_is_the_exact_optimum_of_brute_force():
    """Every split of the sorted lengths into at most k contiguous groups, tried: none pads less."""
    import itertools

    rng = np.random.default_rng(0)
    for _ in range(30):
        lengths = tuple(int(n) for n in rng.choice(np.arange(1, 60), size=rng.integers(1, 8), replace=False))
        k = int(rng.integers(1, 5))
        ordered = sorted(lengths)

        def work(groups):
            return sum(len(g) * max(g) for g in groups)

        best = min(work([ordered[i:j] for i, j in zip((0, *cuts), (*cuts, len(ordered)))])
                   for m in range(min(k, len(ordered)))
                   for cuts in itertools.combinations(range(1, len(ordered)), m))
        groups = bucket_lengths(lengths, k)
        assert len(groups) <= k and sorted(sum(groups, ())) == ordered and work(groups) == best


def test_plan_fits_the_memory_cap():
    one = plan_sweep(CFG, memory=1 << 40)
    assert len(one) == 4  # everything fits: one chunk per cell and bucket
    cap = plan_memory(CFG, one) // 3
    small = plan_sweep(CFG, memory=cap)
    assert len(small) > len(one) and plan_memory(CFG, small) <= cap


@pytest.mark.parametrize("kind,units", [("srnn", 1), ("lstm", 1), ("gru", 4), ("lstm", 8), ("srnn", 32)])
def test_memory_estimate_bounds_what_xla_allocates(kind, units):
    """model_bytes >= XLA's temp bytes per extra model, and not more than twice them."""
    cfg = SweepConfig(cells=(kind,), units=units, lengths=(60,), seeds=1, samples=200, epochs=1)
    cell = make_cell(kind, units)
    data = make_dataset(make_task("latch"), (60,), 200, 0.2, "shuffled", 0)
    program = make_program(cell, cfg)
    temp = []
    for m in (4, 12):
        keys = jax.vmap(lambda s: jax.random.fold_in(jax.random.key(0), s))(jnp.arange(m))
        args = (Hparams(keys, jnp.full(m, 1e-3), jnp.ones(m)),
                Data(jnp.asarray(data.lengths), data.x_train, data.y_train, data.x_val, data.y_val))
        state = jax.eval_shape(program.init, *args)  # an epoch: where training's memory is
        temp.append(compile_lowered(program.epoch.lower(state, *args, 0)).memory_analysis().temp_size_in_bytes)
    per_model = (temp[1] - temp[0]) / 8
    estimate = model_bytes(cell, cfg, 1, 60, 1)
    assert per_model <= estimate <= 2 * per_model


@pytest.mark.integration
def test_chunked_equals_unchunked(whole):
    """Bit for bit: a model's results do not depend on the chunk it was trained in."""
    same(run_sweep(CFG, chunk_models=3), whole)
    same(run_sweep(CFG, chunk_models=2), whole)


@pytest.mark.integration
def test_chunk_store_detects_damage_and_retrains(tmp_path, whole, capsys):
    plan = plan_sweep(CFG, chunk_models=4)
    chunks = ChunkStore(tmp_path / "chunks", "plan-a")
    assert train_chunks(CFG, plan, chunks) == len(plan)
    truncated, flipped = chunks.path(plan[0]), chunks.path(plan[1])
    truncated.write_bytes(truncated.read_bytes()[:200])
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0xFF
    flipped.write_bytes(bytes(data))
    assert chunks.load(plan[0]) is None and chunks.load(plan[1]) is None
    assert "damaged" in capsys.readouterr().err
    assert ChunkStore(tmp_path / "chunks", "plan-b").load(plan[2]) is None  # another sweep's chunk
    assert train_chunks(CFG, plan, chunks) == 3  # only those three are trained again
    same(collect(CFG, plan, chunks), whole)


@pytest.mark.integration
def test_lock_refuses_a_second_writer(tmp_path, capsys):
    out = tmp_path / "run"
    lock = RunLock(out).acquire()
    try:
        assert run(["sweep", "--cells", "srnn", "--lengths", "3", "--seeds", "2", "--epochs", "1", "--samples", "80",
                    "--quiet", "--out", str(out), "--force"]) == 2
        err = capsys.readouterr().err
        assert "is in use by latchjax pid" in err and err.count("\n") == 1
        with pytest.raises(LockError):
            RunLock(out).acquire()
    finally:
        lock.release()
    RunLock(out).acquire().release()  # free again


@pytest.mark.integration
def test_a_resume_during_any_moment_of_a_sweep_is_refused_or_a_no_op(tmp_path, monkeypatch, capsys):
    """Start `--resume DIR` at every file write of another sweep on DIR (config, each chunk, results, tables,
    meta) and before and after its figures: each is refused while the sweep holds the lock, and once it
    is complete; none trains anything."""
    out = tmp_path / "run"
    codes, nested_trainings, inside = [], [], []
    real_write, real_train, real_draw = latchjax.rundir.files.atomic_write, train_chunks, latchjax.rundir.plots.draw_all

    def try_resume():
        if not inside:
            inside.append(True)
            codes.append(run(["sweep", "--resume", str(out), "--quiet"]))
            inside.pop()

    def write(path, data):
        real_write(path, data)
        try_resume()

    def train(*args, **kwargs):
        if inside:
            nested_trainings.append(args)
        return real_train(*args, **kwargs)

    def draw(*args, **kwargs):
        try_resume()
        paths = real_draw(*args, **kwargs)
        try_resume()
        return paths

    # every module that writes a file of the run, where it looks the writer up
    for module in (latchjax.rundir.files, latchjax.rundir.sweepdir, latchjax.rundir.chunks):
        monkeypatch.setattr(module, "atomic_write", write)
    monkeypatch.setattr(latchjax.cli.sweep, "train_chunks", train)
    monkeypatch.setattr(latchjax.rundir.plots, "draw_all", draw)
    assert run(["sweep", *TINY, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert len(codes) >= 10 and set(codes) == {2} and not nested_trainings
    assert err.count("is in use by latchjax pid") == len(codes)
    assert run(["sweep", "--resume", str(out), "--quiet"]) == 2
    assert "is already complete" in capsys.readouterr().err
    assert (out / "figures").is_dir() and not (out / ".lock").exists()


TINY = ["--cells", "srnn,gru", "--lengths", "3,5", "--seeds", "3", "--epochs", "2", "--samples", "80",
        "--lr", "0.01,0.001", "--buckets", "1", "--chunk-models", "2", "--quiet"]


def tables(path):
    return {name: (path / name).read_text() for name in ("results.csv", "history.csv", "summary.csv")}


@pytest.mark.integration
def test_ctrl_c_then_resume_gives_the_uninterrupted_tables(tmp_path, monkeypatch, capsys):
    assert run(["sweep", *TINY, "--out", str(tmp_path / "straight")]) == 0
    real = train_chunks

    class InterruptAfter:
        def __init__(self, inner, n):
            self.inner, self.n = inner, n

        def load(self, chunk):
            return self.inner.load(chunk)

        def save(self, chunk, out):
            self.inner.save(chunk, out)
            self.n -= 1
            if self.n == 0:
                raise KeyboardInterrupt

        def __getattr__(self, name):
            return getattr(self.inner, name)

    monkeypatch.setattr(latchjax.cli.sweep, "train_chunks",
                        lambda cfg, plan, chunks, *a, **k: real(cfg, plan, InterruptAfter(chunks, 4), *a, **k))
    out = tmp_path / "stopped"
    assert run(["sweep", *TINY, "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert "4 of 6 chunks are saved" in err and f"latchjax sweep --resume {out}" in err
    assert not (out / "results.csv").exists() and not (out / ".lock").exists()
    monkeypatch.setattr(latchjax.cli.sweep, "train_chunks", real)
    assert run(["sweep", "--resume", str(out), "--quiet"]) == 0
    assert "4 of 6 chunks already done" not in capsys.readouterr().err  # --quiet
    assert tables(out) == tables(tmp_path / "straight")
    assert not (out / "chunks").exists()


@pytest.mark.integration
@pytest.mark.parametrize("argv, message", [
    (["--resume", "{tmp}/nothing"], "not an unfinished latchjax sweep"),
    (["--resume", "{tmp}/x", "--seeds", "3"], "drop --seeds"),
    (["--max-memory", "lots", "--out", "{tmp}/o"], "expected a size"),
    (["--chunk-models", "0", "--out", "{tmp}/o"], "--chunk-models: must be >= 1"),
    (["--coordinator", "127.0.0.1:1", "--out", "{tmp}/o"], "go together"),
])
def test_resume_and_chunk_flags_bad_input(tmp_path, capsys, argv, message):
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert run(["sweep", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
