"""The command line: end-to-end on a tiny sweep, the results directory contract, bad input."""

import csv
import json
import subprocess
import sys

import jax
import numpy as np
import pytest

import latchjax
from latchjax import SweepConfig
from latchjax.cli import run
from latchjax.rundir.load import load_result
from latchjax.sweep.plan import data_bytes
from latchjax.sweep.settings import from_settings, presets, resolve

pytestmark = pytest.mark.integration  # the command line, end to end

TINY = ["--cells", "srnn,gru", "--lengths", "3,7", "--seeds", "3", "--epochs", "2", "--samples", "120",
        "--lr", "0.01,0.001", "--quiet"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "tiny"
    assert run(["sweep", "--preset", "question-fixed", *TINY, "--out", str(out)]) == 0
    return out


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_sweep_writes_the_results_directory(run_dir):
    for name in ("config.json", "meta.json", "results.npz", "results.csv", "history.csv", "summary.csv"):
        assert (run_dir / name).is_file(), name
    for name in ("success_frequency", "mean_val_acc", "val_acc_distribution"):
        assert (run_dir / "figures" / f"{name}.png").stat().st_size > 10_000
    assert not (run_dir / "chunks").exists() and not (run_dir / ".lock").exists()
    results = rows(run_dir / "results.csv")
    assert len(results) == 2 * 2 * 2 * 3  # cells x lengths x lrs x seeds
    assert {"cell", "flavor", "units", "length", "seed", "lr", "val_acc", "val_loss", "train_acc", "train_loss",
            "diverged", "success"} <= set(results[0])
    assert len(rows(run_dir / "history.csv")) == len(results) * 2
    summary = rows(run_dir / "summary.csv")
    assert len(summary) == 2 * 2 * 2
    assert {"n", "successes", "success_freq", "ci_low", "ci_high", "mean_val_acc", "std_val_acc"} <= set(summary[0])
    # success is final val acc >= threshold
    for r in results:
        assert r["success"] == str(int(float(r["val_acc"]) >= 0.9 and r["diverged"] == "0"))
    config = json.loads((run_dir / "config.json").read_text())
    assert config["preset"] == "question-fixed" and config["split"] == "shuffled"  # from the preset
    assert config["cells"] == ["srnn", "gru"] and config["lr"] == [0.01, 0.001]  # flags override it
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["backend"] == jax.default_backend() and meta["versions"]["jax"] and meta["compile_s"] > 0
    assert set(meta["timing"]) == {"srnn", "gru"} and meta["start"] <= meta["end"]


def test_plot_redraws_from_files_alone(run_dir, monkeypatch, capsys):
    import latchjax.sweep.runner

    monkeypatch.setattr(latchjax.sweep.runner, "run_sweep", lambda *a, **k: pytest.fail("plot must not train"))
    for f in (run_dir / "figures").iterdir():
        f.unlink()
    assert run(["plot", str(run_dir), "--format", "svg"]) == 0
    assert sorted(p.name for p in (run_dir / "figures").iterdir()) == [
        "mean_val_acc.svg", "success_frequency.svg", "val_acc_distribution.svg"]
    assert run(["summary", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "success = final val acc >= 0.9" in out and "gru" in out and "95% CI" in out


def test_load_round_trips(run_dir):
    saved = latchjax.load(run_dir)
    exact = load_result(run_dir / "results.npz")
    r = saved.results.set_index(["cell", "length", "lr", "seed"]).sort_index()
    for cell in ("srnn", "gru"):
        for lr in (0.01, 0.001):
            np.testing.assert_allclose(r.loc[(cell, 7, lr), "val_acc"].to_numpy(),
                                       exact.sel("val_acc", cell=cell, length=7, lr=lr)[0, :, -1], atol=1e-6)
    assert saved.results["success"].dtype == bool
    assert len(saved.history) == 2 * len(saved.results)
    assert saved.config["seeds"] == 3 and saved.meta["backend"] == jax.default_backend()


def test_a_run_records_its_cells_and_loads_as_an_xarray_dataset(run_dir):
    exact = load_result(run_dir / "results.npz")
    assert [i["kind"] for i in exact.coords["cell_info"]] == ["srnn", "gru"]
    xr = pytest.importorskip("xarray")
    ds = latchjax.load_dataset(run_dir)
    assert isinstance(ds, xr.Dataset) and ds.attrs["threshold"] == 0.9
    freq = ds.success.sel(cell="gru").mean("seed")
    np.testing.assert_allclose(freq.values, exact.success_frequency(0.9)["success_freq"][1])


def test_every_preset_parses_and_validates():
    found = presets()
    assert {"question", "question-fixed", "answer-fix", "answer-bit-relay", "update-latch",
            "update-bit-relay"} <= set(found)
    for name, preset in found.items():
        assert preset["description"] and preset["reproduces"], name
        from_settings(resolve(preset, {}))
    q = from_settings(resolve(found["question"], {}))
    assert (q.split, q.flavor, q.seeds, q.epochs, q.batch_size, q.samples) == ("keras", "keras2", 30, 5, 16, 10_000)
    assert q.cells == ("srnn", "lstm") and q.lengths[0] == 2 and q.lengths[-1] == 200 and len(q.lengths) == 25
    assert from_settings(resolve(found["update-bit-relay"], {})).units == 8


def dataset_message(samples: int, length: int) -> str:
    """The refusal of a dataset larger than a device's budget, its size from the memory model (x and y, float32)."""
    cfg = SweepConfig(samples=samples, lengths=(length,))
    size = data_bytes(cfg, 1, length, cfg.resolved.n_in)
    return f"--samples: the dataset of lengths {length}-{length} needs {size / 2**30:.3g} GB"


@pytest.mark.parametrize("args,message", [
    (["sweep", "--preset", "nope"], "--preset: unknown preset 'nope'"),
    (["sweep", "--colour", "red"], "unrecognized arguments: --colour red"),
    (["sweep", "--seeds", "0"], "--seeds: must be an integer >= 1"),
    (["sweep", "--seeds", "many"], "--seeds: expected int"),
    (["sweep", "--lr", "0.1,abc"], "--lr: expected floats"),
    (["sweep", "--cells", "srnn,transformer"], "--cells: unknown cell 'transformer'"),
    (["sweep", "--val-fraction", "1.5"], "--val-fraction: must be in (0, 1)"),
    (["sweep", "--threshold", "2"], "--threshold: must be in (0, 1]"),
    (["sweep", "--batch-size", "99999"], "--batch-size: 99999 is larger than the training set"),
    (["sweep", "--task", "bit_relay", "--lengths", "1,5"], "--lengths: bit_relay needs length >= 2, got 1"),
    (["plot", "/nonexistent/run"], "not a latchjax results directory"),
    (["sweep", "--flavor", "pytorch"], "--flavor: unknown flavor 'pytorch'; allowed: keras2, keras3, torch"),
    (["sweep", "--cells", "brc", "--flavor", "torch"], "brc is defined by its authors' Keras code"),
    (["sweep", "--cells", "janet:bz=1"], "janet has no such option; it applies to gru, brc, nbrc"),
    (["sweep", "--optimizer", "adamw"], "--optimizer: unknown optimizer 'adamw'"),
    (["cells", "--units", "0"], "--units: must be an integer in [1, "),
    (["sweep", "--lr", "1e-3,1e-3"], "--lr: duplicates in [0.001, 0.001]"),
    (["sweep", "--forget-bias", "1,1"], "--forget-bias: duplicates in [1.0, 1.0]"),
    (["sweep", "--samples", "100000000", "--lengths", "200"], dataset_message(100_000_000, 200)),
    (["sweep", "--seeds", "1000000000"], "--seeds: the results of this sweep need about"),
    (["sweep", "--cells", "srnn", "--lengths", "2", "--seeds", "400000", "--chunk-models", "2"],
     "--chunk-models: the plan would have more than 100,000 chunks"),
    (["sweep", "--task", "latch", "--middle", "3"], "--middle: task latch has no such option"),
    (["sweep", "--task", "parity", "--noise", "0.2"], "--noise: task parity has no such option"),
    (["sweep", "--task", "two_sequence", "--informative", "9", "--lengths", "5"],
     "--informative: must be in [1, 5] for length 5, got 9"),
])
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert run([*args, "--out", str(out)] if args[0] == "sweep" else args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("latchjax: error:") and message in err
    assert not out.exists()


@pytest.mark.parametrize("flags,message", [
    (["--lr", "1e-3,1e-3"], "--lr: duplicates in [0.001, 0.001]"),
    (["--forget-bias", "1,1"], "--forget-bias: duplicates in [1.0, 1.0]"),
    (["--batch-size", "0"], "--batch-size: must be an integer >= 1, got 0"),
    (["--val-fraction", "2"], "--val-fraction: must be in (0, 1), got 2.0"),
    (["--cells", "rnn"], "--cells: unknown cell 'rnn'; allowed: srnn, lstm"),
    (["--buckets", "0"], "--buckets: must be an integer >= 1, got 0"),
])
def test_cli_errors_name_the_flag(tmp_path, capsys, flags, message):
    """The flag the user typed (--lr, --forget-bias), not the field it sets (lrs, forget_biases)."""
    assert message.split(":")[0] == flags[0]
    out = tmp_path / "out"
    assert run(["sweep", *flags, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"latchjax: error: {message}") and err.count("\n") == 1
    assert not out.exists()


def test_help_shows_each_default_once(capsys):
    with pytest.raises(SystemExit):
        run(["sweep", "--help"])
    text = capsys.readouterr().out
    assert "(default: None)" not in text and "default unless the preset sets it: 0.2 for two_sequence" not in text
    assert "0.4472 for two_sequence" in " ".join(text.split())


def test_bad_config_files(tmp_path, capsys):
    cases = {
        "malformed.toml": ("seeds = [1, 2", "malformed TOML"),
        "wrongtype.toml": ('seeds = "thirty"', "seeds must be int, got 'thirty'"),
        "unknown.toml": ("colour = 'red'", "unknown setting(s) colour"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        assert run(["sweep", "--config", str(tmp_path / name), "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "o").exists()


def test_existing_output_needs_force(run_dir, capsys):
    assert run(["sweep", *TINY, "--out", str(run_dir)]) == 2
    assert "exists and is not empty; pass --force" in capsys.readouterr().err
    assert (run_dir / "results.csv").is_file()  # untouched


def test_console_script_errors_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "latchjax.cli", "sweep", "--preset", "nope"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.strip().count("\n") == 0
    assert not (tmp_path / "runs").exists()


def test_cells_lists_every_cell_and_flavour(capsys):
    assert run(["cells", "--units", "2"]) == 0
    out = capsys.readouterr().out
    for name in ("srnn", "lstm", "gru", "cifg", "janet", "lstm97", "brc", "nbrc", "keras2", "keras3", "torch",
                 "Greff et al. 2017", "Vecoven, Ernst & Drion 2021", "van der Westhuizen & Lasenby 2018"):
        assert name in out, name
    lstm = next(line.split() for line in out.splitlines() if line.startswith("lstm "))
    # 4 blocks of 2 units: keras 4*2*(1 + 2) + 8 = 32; torch has a second bias vector: 40
    assert lstm[-3:] == ["32", "32", "40"]


def test_torch_flavour_sweep_records_pytorchs_random_forget_bias(tmp_path):
    out = tmp_path / "torch"
    assert run(["sweep", "--preset", "question-fixed", "--cells", "lstm,janet", "--lengths", "4", "--seeds", "2",
                "--epochs", "1", "--samples", "64", "--flavor", "torch", "--quiet", "--out", str(out)]) == 0
    results = rows(out / "results.csv")
    assert {r["flavor"] for r in results} == {"torch"} and {r["forget_bias"] for r in results} == {"nan"}
