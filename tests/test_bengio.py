"""Bengio et al. 1994's minimal latch, vmapped over seeds, lengths, initial weights and noise; its command."""

import csv
import math

import numpy as np
import pytest

from latchjax.cli import build_parser, run
from latchjax.cli.parser import command_parser
from latchjax.core.vocabulary import SettingsError, config_of, settings_of
from latchjax.studies.bengio import BengioConfig, convergence

SMALL = BengioConfig(lengths=(4, 60), seeds=16, epochs=100, per_class=10)


def test_without_noise_every_latch_converges():
    out = convergence(SMALL, noises=(0.0,))
    assert out["converged"].shape == (2, 1, 1, 16)
    assert out["converged"].all()


def clearly_more(a: int, b: int, n: int) -> bool:
    """a of n latches converged clearly more often than b of n: the two-proportion z statistic exceeds 2
    (one-sided p < 0.025 under the pooled binomial), so a difference of noise-level size does not pass."""
    p = (a + b) / (2 * n)
    return a > b and (p in (0, 1) or (a - b) / n > 2 * math.sqrt(2 * p * (1 - p) / n))


def test_convergence_falls_with_length_and_noise():
    """Fig. 2: convergence falls with length (at noise std 0.2) and with noise (at T = 20, where noise 0.2 leaves
    most latches converging and std 1 hardly any); each fall strict and beyond sampling noise, so the test
    fails where both sides are 0 or the latches do not train."""
    cfg = BengioConfig(lengths=(4, 20, 60), seeds=32, epochs=100, per_class=10)
    ok = convergence(cfg, w0s=(1.25,), noises=(0.0, 0.2, 1.0))["converged"][:, 0].sum(axis=-1)  # (length, noise)
    n = cfg.seeds
    by_length, by_noise = ok[:, 1], ok[1, :]
    assert by_length[0] > by_length[1] > by_length[2] and clearly_more(by_length[0], by_length[2], n)
    assert by_noise[0] > by_noise[1] > by_noise[2] and clearly_more(by_noise[1], by_noise[2], n)


def test_bad_config_names_the_setting():
    with pytest.raises(SettingsError, match="must be <= the shortest length") as err:
        BengioConfig(lengths=(2, 5), L=3)
    assert err.value.setting == "L"


def test_bengio_flags_default_to_the_config():
    """One default per setting: a flag not given leaves the field's default, and --help shows that default once."""
    settings = settings_of(BengioConfig)
    args = build_parser().parse_args(["bengio", "--out", "x"])
    assert all(getattr(args, name) is None for name in settings)
    assert config_of(BengioConfig, vars(args)) == BengioConfig()
    text = " ".join(command_parser("bengio").format_help().split())
    assert all(f"(default: {s.shown_default})" in text for s in settings.values())
    assert text.count("(default:") == len(settings) + 1  # and --format's: each default shown once
    assert settings["seeds"].default == 100  # what the README documents ("100 seeds per length")


@pytest.mark.integration  # the CLI (in-process): the integration tier, as every CLI test
@pytest.mark.parametrize("argv, line", [
    (["--seeds", "0"], "--seeds: must be an integer >= 1, got 0"),
    (["--lengths", "4,x"], "--lengths: expected ints, got '4,x'"),
    (["--lengths", "2", "--L", "3"], "--L: must be <= the shortest length (2), got 3"),
    (["--grid-length", "2"], "--grid-length: must be >= --L (3), got 2"),
    (["--noise-grid", "0,-0.5"], "--noise-grid: noise levels must be >= 0, got [0.0, -0.5]"),
    (["--noise", "-1"], "--noise: must be >= 0"),
    (["--lr", "0"], "--lr: must be > 0"),
    (["--w0-grid", "1,a"], "--w0-grid: expected floats"),
])
def test_bengio_bad_flag_is_one_line_naming_it(tmp_path, capsys, argv, line):
    out = tmp_path / "b"
    assert run(["bengio", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"latchjax: error: {line}") and err.count("\n") == 1
    assert not out.exists()


@pytest.mark.integration
def test_bengio_cli(tmp_path):
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
    assert np.isfinite(float(rows[0]["ci_low"]))
