"""Bengio et al. 1994's minimal latch, vmapped over seeds, lengths, initial weights and noise."""

import csv

import numpy as np
import pytest

from latchjax.bengio import BengioConfig, convergence
from latchjax.cli import run

SMALL = BengioConfig(lengths=(4, 60), seeds=16, epochs=100, per_class=10)


def test_without_noise_every_latch_converges():
    out = convergence(SMALL, noises=(0.0,))
    assert out["converged"].shape == (2, 1, 1, 16)
    assert out["converged"].all()


def test_convergence_falls_with_length_and_noise():
    out = convergence(SMALL, w0s=(1.25,), noises=(0.2, 1.0))["converged"].mean(axis=-1)  # (length, w0, noise)
    assert out[0, 0, 0] > out[1, 0, 0]  # longer sequences converge less often
    assert out[1, 0, 0] >= out[1, 0, 1]  # and so does more noise


def test_bad_config():
    with pytest.raises(ValueError, match="L: must be in"):
        BengioConfig(lengths=(2, 5), L=3)


def test_bengio_cli(tmp_path, capsys):
    out = tmp_path / "b"
    assert run(["bengio", "--lengths", "4,8", "--seeds", "4", "--epochs", "20", "--per-class", "5",
                "--grid-length", "6", "--w0-grid", "1,2", "--noise-grid", "0,0.5", "--out", str(out)]) == 0
    with open(out / "convergence.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["length"] for r in rows] == ["4", "8"] and all(r["n"] == "4" for r in rows)
    with open(out / "grid.csv") as f:
        grid = list(csv.DictReader(f))
    assert len(grid) == 4 and {r["noise"] for r in grid} == {"0.0", "0.5"}
    assert all(float(r["freq"]) == 1.0 for r in grid if r["noise"] == "0.0")
    assert (out / "convergence_vs_length.png").is_file() and (out / "convergence_vs_w0_noise.png").is_file()
    capsys.readouterr()
    assert run(["bengio", "--lengths", "4,x", "--out", str(tmp_path / "c")]) == 2
    assert run(["bengio", "--lengths", "2", "--L", "3", "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "--lengths: expected comma-separated ints" in err and "L: must be in" in err
    assert not (tmp_path / "c").exists()
    assert np.isfinite(float(rows[0]["ci_low"]))
