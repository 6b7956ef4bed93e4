"""Loss landscapes: Pascanu's surface against a direct NumPy evaluation, cliffs, the latch surface, the CLI."""

import math

import jax
import numpy as np
import pytest

from latchjax.analysis.landscape import (
    GRID,
    LandscapeConfig,
    base_params,
    has_cliff,
    latch_surface,
    pascanu_surface,
)
from latchjax.cli import build_parser, run
from latchjax.cli.parser import command_parser
from latchjax.core.cells import RNNCell
from latchjax.core.model import head_loss, run_cell
from latchjax.core.tasks import latch
from latchjax.core.vocabulary import SettingsError, config_of, settings_of

W = np.linspace(0, 10, 201)
B = np.linspace(-10, 2, 201)


def pascanu_numpy(w, b, steps=50):
    sigmoid = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    x = 0.5
    for _ in range(steps):
        x = w * sigmoid(x) + b
    return (sigmoid(x) - 0.7) ** 2


def test_pascanu_surface_matches_direct_evaluation():
    w, b = np.array([0.0, 1.0, 4.5, 9.0]), np.array([-6.0, -1.0, 0.5])
    surface = pascanu_surface(w, b, steps=50)
    for i, wi in enumerate(w):
        for j, bj in enumerate(b):
            assert surface[i, j] == pytest.approx(pascanu_numpy(wi, bj), abs=1e-5)


def test_pascanu_surface_has_a_cliff_at_50_steps_and_none_at_2():
    assert has_cliff(pascanu_surface(W, B, steps=50))
    assert not has_cliff(pascanu_surface(W, B, steps=2))


def test_latch_surface_point_equals_direct_loss():
    x, y = np.array([-1.0, 0.5, 1.5]), np.array([-2.0, 1.0])
    s = latch_surface("srnn", ("w_rec", "w_in"), x, y, (4, 9), samples=32)
    assert s.loss.shape == s.grad_norm.shape == (2, 3, 2)
    cell, params = RNNCell("srnn"), base_params("srnn")
    params["cell"]["recurrent_kernel"] = params["cell"]["recurrent_kernel"] * 0 + 1.5
    params["cell"]["kernel"] = params["cell"]["kernel"] * 0 + 1.0
    xs, ys = latch(jax.random.fold_in(jax.random.key(0), 9), 32, 9)
    logits = run_cell(cell, params["cell"], xs) @ params["head"]["kernel"] + params["head"]["bias"]
    assert s.loss[1, 2, 1] == pytest.approx(float(head_loss("softmax", logits, ys)[0].mean()), rel=1e-5)
    with pytest.raises(SettingsError, match="unknown parameter 'b_f' for srnn"):
        latch_surface("srnn", ("w_rec", "b_f"), x, y, (4,))


@pytest.mark.parametrize("preset", list(GRID))
def test_landscape_flags_default_to_the_config(preset):
    """One default per setting: a flag not given leaves the field's default, and --help shows that default once."""
    settings = settings_of(LandscapeConfig)
    args = build_parser().parse_args(["landscape", "--preset", preset, "--out", "x"])
    assert all(getattr(args, name) is None for name in settings if name != "preset")
    assert config_of(LandscapeConfig, vars(args)) == LandscapeConfig(preset=preset)
    text = " ".join(command_parser("landscape").format_help().split())
    shown = [s for s in settings.values() if not s.required]
    assert all(f"(default: {s.shown_default})" in text for s in shown)
    assert text.count("(default:") == len(shown) + 1  # and --format's: each default shown once


@pytest.mark.integration
def test_landscape_cli_writes_surfaces(tmp_path):
    out = tmp_path / "p"
    assert run(["landscape", "--preset", "pascanu", "--grid", "21", "--out", str(out)]) == 0
    with np.load(out / "surface.npz") as data:
        assert data["loss"].shape == (21, 21) and data["w"][0] == 0 and data["b"][-1] == 2
    assert (out / "surface.png").is_file() and (out / "heatmap.png").is_file()
    out = tmp_path / "l"
    assert run(["landscape", "--preset", "latch", "--cell", "lstm", "--grid", "5", "--lengths", "3,6",
                "--out", str(out)]) == 0
    with np.load(out / "surface.npz") as data:
        assert data["loss"].shape == data["grad_norm"].shape == (2, 5, 5)
        assert list(data["length"]) == [3, 6] and list(data["names"]) == ["b_f", "w_in_c"]
    assert (out / "landscape.png").is_file()


@pytest.mark.integration
@pytest.mark.parametrize("args,line", [
    (["--preset", "pascanu", "--x-range", "3:1"], "--x-range: expected LO:HI with LO < HI, got '3:1'"),
    (["--preset", "pascanu", "--y-range", "a:b"], "--y-range: expected LO:HI with two numbers, got 'a:b'"),
    (["--preset", "latch", "--params", "w_rec,b_f"], "--params: unknown parameter 'b_f' for srnn"),
    (["--preset", "latch", "--params", "w_rec,w_rec"], "--params: give two different parameters"),
    (["--preset", "latch", "--params", "w_rec"], "--params: give exactly two parameters"),
    (["--preset", "latch", "--lengths", "5,x"], "--lengths: expected ints, got '5,x'"),
    (["--preset", "latch", "--lengths", "5,0"], "--lengths: every length must be an integer >= 1"),
    (["--preset", "mountain"], "--preset: unknown preset 'mountain'; allowed: pascanu, latch"),
    (["--preset", "latch", "--cell", "gru"], "--cell: unknown cell 'gru'; allowed: srnn, lstm"),
    (["--preset", "latch", "--grid", "0"], "--grid: must be an integer >= 3, got 0"),
    (["--preset", "pascanu", "--steps", "0"], "--steps: must be an integer >= 1, got 0"),
    (["--grid", "9"], "the following arguments are required: --preset"),
])
def test_landscape_bad_flag_is_one_line_naming_it(tmp_path, capsys, args, line):
    out = tmp_path / "o"
    assert run(["landscape", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"latchjax: error: {line}") and err.count("\n") == 1
    assert not out.exists()
