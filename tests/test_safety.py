"""Nothing lost, nothing garbage: ``--force`` replaces only latchjax's own runs, every value is checked before
anything is touched, and what cannot be used is refused with one line (exit 2) instead of trained or crashed on.

Every refusal is checked against a snapshot of the whole directory tree, files latchjax did not write included:
nothing created, changed or removed."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latchjax.cli import run
from latchjax.rundir.claim import OUTPUTS, REPLACED, owner, written_by
from latchjax.rundir.sweepdir import SweepDir, read_config
from latchjax.sweep.checks import chance_of_passing
from latchjax.sweep.config import SweepConfig
from latchjax.sweep.runner import run_sweep
from latchjax.sweep.settings import to_settings
from latchjax.sweep.trainer import DIVERGED_LOSS

TINY = ["--cells", "srnn,lstm", "--lengths", "5", "--seeds", "2", "--samples", "200", "--epochs", "1", "--quiet"]


def tiny(*flags: str) -> list[str]:
    """TINY with ``flags`` in place of its own (a flag may be given once)."""
    given = set(flags[::2])
    pairs = [TINY[i:i + 2] for i in range(0, len(TINY) - 1, 2) if TINY[i] not in given]
    return [*(a for pair in pairs for a in pair), "--quiet", *flags]


def tree(root: Path) -> dict[str, str]:
    """Every path under ``root`` with its content hash (directories: 'dir')."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for d in dirs:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = "dir"
        for f in files:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, root)] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished sweep of srnn and lstm (with explain's files), made once; tests copy it."""
    out = tmp_path_factory.mktemp("finished") / "run"
    assert run(["sweep", *TINY, "--out", str(out)]) == 0
    assert run(["explain", str(out), "--boots", "10"]) == 0
    return out


@pytest.fixture
def sweep_run(finished, tmp_path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(finished, copy)
    return copy


def refused(capsys, argv: list[str], root: Path, *words: str) -> str:
    """Run ``argv``; assert exit 2, one line naming ``words``, and ``root``'s tree unchanged."""
    before = tree(root)
    capsys.readouterr()
    assert run(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("latchjax: error:") and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    assert tree(root) == before
    return err


# --- data loss -------------------------------------------------------------------------------------------

@pytest.mark.integration
def test_force_never_replaces_a_directory_latchjax_did_not_write(tmp_path, capsys):
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "config.json").write_text('{"name": "my project"}')
    (project / "notes.txt").write_text("mine")
    (project / "src" / "main.py").write_text("print(1)")
    refused(capsys, ["sweep", *TINY, "--out", str(project), "--force"], tmp_path, "not a latchjax run")


@pytest.mark.integration
def test_force_never_removes_a_file_latchjax_did_not_write_from_its_own_run(sweep_run, capsys):
    (sweep_run / "my_notes.txt").write_text("mine")
    (sweep_run / "figures" / "my_figure.png").write_bytes(b"png")
    refused(capsys, ["sweep", *TINY, "--out", str(sweep_run), "--force"], sweep_run.parent,
            "files latchjax did not write", "my_notes.txt")


@pytest.mark.integration
def test_a_bad_value_with_force_leaves_a_finished_run_untouched(sweep_run, capsys):
    refused(capsys, ["sweep", *tiny("--seed", "18446744073709551616"), "--out", str(sweep_run), "--force"],
            sweep_run.parent, "--seed")


@pytest.mark.integration
def test_force_of_one_command_does_not_replace_another_commands_run(sweep_run, tmp_path, capsys):
    refused(capsys, ["bengio", "--lengths", "5", "--seeds", "2", "--epochs", "2", "--out", str(sweep_run),
                     "--force"], sweep_run.parent, "holds a latchjax sweep run")
    guess = tmp_path / "guess"
    assert run(["guess", "--task", "latch1", "--simulations", "1", "--max-trials", "50", "--out", str(guess),
                "--quiet"]) == 0
    refused(capsys, ["sweep", *TINY, "--out", str(guess), "--force"], tmp_path, "holds a latchjax guess run")


@pytest.mark.integration
def test_compare_does_not_write_over_a_runs_own_files(sweep_run, capsys):
    refused(capsys, ["compare", str(sweep_run), "srnn", "lstm", "--csv", str(sweep_run / "results.csv")],
            sweep_run.parent, "--csv", "results.csv")
    refused(capsys, ["compare", str(sweep_run), "srnn", "lstm", "--csv", str(sweep_run / "figures")],
            sweep_run.parent, "--csv", "is a directory")


@pytest.mark.integration
def test_a_run_inside_another_run_is_refused(sweep_run, capsys):
    refused(capsys, ["sweep", *TINY, "--out", str(sweep_run / "inner")], sweep_run.parent, "lies inside")


@pytest.mark.integration
def test_force_keeps_the_replaced_run_until_the_new_one_has_finished(sweep_run, capsys):
    """A replacement interrupted before it finishes (here: opened and closed without training) leaves the old
    run whole in DIR/.replaced/; finishing the new run (--resume) removes it, and only it."""
    old = tree(sweep_run)
    cfg = SweepConfig(cells=("srnn",), lengths=(5,), seeds=3, samples=200, epochs=1)
    config = {"preset": "custom", **to_settings(cfg), "plan": {"memory": 1 << 30, "chunk_models": None,
                                                                "devices": 1}}
    SweepDir.create(sweep_run, config, force=True).close()
    aside = sweep_run / REPLACED
    assert {k: v for k, v in tree(aside).items()} == {k: v for k, v in old.items() if k != ".lock"}
    assert read_config(sweep_run)["seeds"] == 3
    assert run(["sweep", "--resume", str(sweep_run), "--quiet"]) == 0
    assert not aside.exists()
    assert json.loads((sweep_run / "config.json").read_text())["seeds"] == 3
    assert all(written_by("sweep", path) for path in tree(sweep_run) if tree(sweep_run)[path] != "dir")


@pytest.mark.integration
def test_force_replaces_a_run_of_the_same_command(sweep_run):
    assert run(["sweep", *tiny("--seeds", "3"), "--out", str(sweep_run), "--force"]) == 0
    assert read_config(sweep_run)["seeds"] == 3 and not (sweep_run / REPLACED).exists()
    assert not (sweep_run / "explain.csv").exists()  # the old run's analyses went with it
    assert owner(sweep_run) == "sweep"


@pytest.mark.integration
def test_every_file_a_sweep_writes_is_declared(finished):
    undeclared = [p for p, h in tree(finished).items() if h != "dir" and not written_by("sweep", p)]
    assert not undeclared and set(OUTPUTS) == {"sweep", "landscape", "bengio", "guess"}


# --- silently wrong --------------------------------------------------------------------------------------

@pytest.mark.integration
@pytest.mark.parametrize("flags, words", [
    (["--seed", "4294967296"], ["--seed", "2**32"]),
    (["--seed", str(2**63 - 1)], ["--seed", "2**32"]),
    (["--forget-bias", "nan"], ["--forget-bias", "finite"]),
    (["--forget-bias", "nan,nan", "--flavor", "torch"], ["--forget-bias", "duplicates"]),
    (["--lr", "inf"], ["--lr", "finite"]),
    (["--noise", "inf"], ["--noise", "finite"]),
    (["--cells", "srnn:rec=nan"], ["--cells", "rec", "finite"]),
    (["--buckets", "0"], ["--buckets", ">= 1"]),
    (["--task", "bit_relay", "--middle", "-1"], ["--middle"]),
    (["--val-fraction", "0.004"], ["--val-fraction", "1 validation samples", "random"]),
    (["--max-memory", "inf"], ["--max-memory"]),
    (["--max-memory", "1e400"], ["--max-memory"]),
    (["--coordinator", "nohost", "--num-processes", "2", "--process-id", "0"], ["--coordinator", "HOST:PORT"]),
    (["--cells", "gru"], ["--cells", "given twice"]),  # TINY has --cells already: the second must not win silently
])
def test_a_value_that_cannot_be_used_is_refused_before_anything_is_written(tmp_path, capsys, flags, words):
    refused(capsys, ["sweep", *(TINY + flags if "given twice" in words else tiny(*flags)), "--out",
                     str(tmp_path / "out")], tmp_path, *words)


@pytest.mark.integration
@pytest.mark.parametrize("make_out, words", [
    (lambda tmp: "", ["--out", "current directory"]),
    (lambda tmp: str(tmp / "a_file" / "run"), ["--out", "which is a file"]),
    (lambda tmp: str(tmp / "a_file"), ["--out", "is a file"]),
    (lambda tmp: "/proc/latchjax-run", ["--out"]),
])
def test_an_output_path_latchjax_cannot_use_gets_one_line(tmp_path, capsys, make_out, words):
    (tmp_path / "a_file").write_text("x")
    refused(capsys, ["sweep", *TINY, "--out", make_out(tmp_path)], tmp_path, *words)


@pytest.mark.integration
def test_a_config_that_is_a_directory_or_binary_gets_one_line(tmp_path, capsys):
    (tmp_path / "binary.toml").write_bytes(bytes(range(256)))
    refused(capsys, ["sweep", "--config", str(tmp_path), "--out", str(tmp_path / "o")], tmp_path, "directory")
    refused(capsys, ["sweep", "--config", str(tmp_path / "binary.toml"), "--out", str(tmp_path / "o")], tmp_path,
            "not a text file")


@pytest.mark.integration
@pytest.mark.parametrize("damage, words", [
    ("garbage", ["config.json", "not JSON"]),
    ("no plan", ["config.json", "plan"]),
    ("bad value", ["config.json", "lr"]),
])
def test_resuming_a_damaged_config_gets_one_line(tmp_path, capsys, damage, words):
    out = tmp_path / "run"
    cfg = SweepConfig(cells=("srnn",), lengths=(5,), seeds=2, samples=200, epochs=1)
    config = {"preset": "custom", **to_settings(cfg), "plan": {"memory": 1 << 30, "chunk_models": None,
                                                                "devices": 1}}
    SweepDir.create(out, config, force=False).close()
    if damage == "garbage":
        (out / "config.json").write_text("{not json")
    elif damage == "no plan":
        (out / "config.json").write_text(json.dumps({k: v for k, v in config.items() if k != "plan"}))
    else:
        (out / "config.json").write_text(json.dumps(config | {"lr": [-1.0]}))
    refused(capsys, ["sweep", "--resume", str(out)], tmp_path, "--resume", *words)


@pytest.mark.integration
def test_compare_refuses_a_run_against_itself_and_runs_of_different_tasks(sweep_run, tmp_path, capsys):
    refused(capsys, ["compare", str(sweep_run), str(sweep_run)], tmp_path, "same run")
    other = tmp_path / "parity"
    assert run(["sweep", *tiny("--task", "parity"), "--out", str(other)]) == 0
    refused(capsys, ["compare", str(sweep_run), str(other)], tmp_path, "different tasks")


@pytest.mark.integration
@pytest.mark.parametrize("features, words", [("", ["--features", "empty"]),
                                             ("lambda0,lambda0", ["--features", "duplicates"])])
def test_explain_refuses_empty_and_duplicate_features(sweep_run, capsys, features, words):
    refused(capsys, ["explain", str(sweep_run), "--features", features, "--boots", "10"], sweep_run.parent, *words)


@pytest.mark.integration
def test_a_runaway_model_is_a_failure_whatever_its_accuracy():
    """lr 1000 sends losses far above any chance level without a NaN: those models are diverged, never successes."""
    cfg = SweepConfig(cells=("srnn", "lstm"), lengths=(5,), seeds=4, samples=200, epochs=2, lrs=(1e3,),
                      optimizer="sgd")
    result = run_sweep(cfg)
    runaway = np.nanmax(np.stack([result.metrics["train_loss"], result.metrics["val_loss"]]), axis=(0, -1))
    runaway = ~np.isfinite(runaway) | (runaway > DIVERGED_LOSS)
    assert runaway.any()  # the setting does run away, so the check below can fail
    np.testing.assert_array_equal(result.diverged, runaway | result.diverged)
    assert not (result.success(0.5) & result.diverged).any()


def test_the_validation_set_must_be_able_to_carry_the_threshold():
    # the rule: a random guesser passes with probability < 5%; 5 samples at 0.9 pass with 1/32, 4 with 1/16
    assert chance_of_passing(5, 0.9) == pytest.approx(1 / 32) and chance_of_passing(4, 0.9) == pytest.approx(1 / 16)
    SweepConfig(samples=25, batch_size=4)  # 5 validation samples: allowed
    with pytest.raises(ValueError, match="val_fraction: 4 validation samples"):
        SweepConfig(samples=20, batch_size=4)


def test_seeds_use_all_their_bits_or_are_refused():
    SweepConfig(seed=2**32 - 1)
    with pytest.raises(ValueError, match="seed: must be < 2"):
        SweepConfig(seed=2**32)


def test_nan_forget_bias_means_pytorchs_draw_only_for_the_torch_flavour():
    assert np.isnan(SweepConfig(flavor="torch").forget_biases[0])
    SweepConfig(flavor="torch", forget_biases=(float("nan"), 1.0))
    with pytest.raises(ValueError, match="forget_bias: must be finite"):
        SweepConfig(forget_biases=(float("nan"),))


def test_a_task_with_non_finite_inputs_is_refused_naming_the_task():
    def broken(key, n, length):
        x = jax.random.normal(key, (n, length, 1)).at[0, 0, 0].set(jnp.nan)
        return x, (x[:, -1, 0] > 0).astype(jnp.int32)

    with pytest.raises(ValueError, match="task: returned inputs that are not finite"):
        run_sweep(SweepConfig(task=broken, cells=("srnn",), lengths=(3,), seeds=2, samples=64, epochs=1))


@pytest.mark.integration
def test_a_numpy_task_works_without_being_traceable():
    def numpy_task(key, n, length):
        rng = np.random.default_rng(int(jax.random.randint(key, (), 0, 2**30)))
        x = rng.normal(size=(n, length, 1)).astype(np.float32)
        return x, (x.sum(axis=(1, 2)) > 0).astype(np.int32)

    cfg = SweepConfig(task=numpy_task, cells=("srnn",), lengths=(3,), seeds=2, samples=64, epochs=1)
    assert cfg.resolved.n_in == 1
    assert run_sweep(cfg).final("val_acc").shape == (1, 1, 1, 1, 2)


@pytest.mark.integration
def test_sigterm_keeps_the_chunks_and_says_how_to_resume(tmp_path):
    """SIGTERM (what SLURM sends) is handled like Ctrl-C: exit 143, the finished chunks kept, the resume hint."""
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "latchjax.cli", "sweep", "--cells", "srnn", "--lengths", "5", "--seeds", "16",
            "--samples", "2000", "--epochs", "30", "--chunk-models", "4", "--out", str(out), "--quiet"]
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    chunks = out / "chunks"
    for _ in range(600):  # wait (up to 60 s) for the first finished chunk, then terminate
        if chunks.is_dir() and any(chunks.glob("*.npz")):
            break
        try:
            proc.wait(timeout=0.1)
            break
        except subprocess.TimeoutExpired:
            pass
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 143, err
    assert "Resume with: latchjax sweep --resume" in err and "Traceback" not in err
    assert any(chunks.glob("*.npz"))
    assert run(["sweep", "--resume", str(out), "--quiet"]) == 0


def _four_classes(key, n, length):
    x = jax.random.normal(key, (n, length, 1))
    return x, jnp.clip((2 * x[:, 0, 0] + 2).astype(jnp.int32), 0, 3)


def _adding(key, n, length):
    x = jax.random.uniform(key, (n, length, 2))
    return x, x[:, :, 0].sum(axis=1)


def _plus_minus_one(key, n, length):
    x = jax.random.normal(key, (n, length, 1))
    return x, jnp.sign(x[:, 0, 0]).astype(jnp.int32)


@pytest.mark.parametrize("task, words", [(_four_classes, "labels [0 1 2 3]"), (_adding, "float targets"),
                                         (_plus_minus_one, "labels [-1")])
def test_a_task_the_trainer_cannot_honour_is_refused_not_trained_into_garbage(task, words):
    """A plain task function asks for a binary class at the last step: K classes, regressions and +-1 labels from one
    are refused (a task that asks more declares it: tests/test_output_kinds.py)."""
    with pytest.raises(ValueError, match=r"task: returned " + words.replace("[", r"\[")):
        run_sweep(SweepConfig(task=task, cells=("srnn",), lengths=(4,), seeds=2, samples=64, epochs=1))


@pytest.mark.integration
@pytest.mark.parametrize("argv, words", [
    (["landscape", "--preset", "latch", "--lengths", "5,5"], ["--lengths", "duplicates"]),
    (["bengio", "--lengths", "5,5"], ["--lengths", "duplicates"]),
    (["landscape", "--preset", "pascanu", "--grid", "1000000"], ["--grid", "GB"]),
    (["bengio", "--seeds", "1000000000"], ["--seeds", "GB"]),
    (["landscape", "--preset", "pascanu", "--x-range", "0:inf"], ["--x-range"]),
    (["guess", "--task", "latch1", "--seed", "-1"], ["--seed"]),
])
def test_the_studies_refuse_what_they_cannot_use_before_writing(tmp_path, capsys, argv, words):
    refused(capsys, [*argv, "--out", str(tmp_path / "out")], tmp_path, *words)


@pytest.mark.integration
def test_cells_refuses_a_width_no_machine_holds(capsys):
    assert run(["cells", "--units", "100000000000"]) == 2
    assert "--units" in capsys.readouterr().err
