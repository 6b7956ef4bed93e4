"""FINDINGS v3's tables are made from runs by experiments/findings/v3/dynamics_tables.py: on two tiny runs of its
presets it prints every table with a row per cell, learning rate and length, and draws its figure."""

import importlib.util
from pathlib import Path

import pytest

from latchjax.cli import run

pytestmark = pytest.mark.integration  # presets, explain and a script, end to end

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "findings" / "v3" / "dynamics_tables.py"
TINY = ["--cells", "srnn,lstm,gru", "--lengths", "5", "--seeds", "4", "--epochs", "2", "--samples", "160", "--quiet"]


def test_the_dynamics_tables_are_made_from_the_runs_alone(tmp_path, capsys):
    runs = tmp_path / "runs"
    for preset, name in (("findings/v3/dynamics", "dynamics"), ("findings/v3/random-labels", "random-labels")):
        assert run(["sweep", "--preset", preset, *TINY, "--out", str(runs / name)]) == 0
        assert run(["explain", str(runs / name), "--dynamics"]) == 0
    capsys.readouterr()
    spec = importlib.util.spec_from_file_location("dynamics_tables", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([str(runs), str(tmp_path / "figures")]) == 0
    text = capsys.readouterr().out
    first, second, third = text.split("#### ")[1:]
    assert sum(line.startswith("| ") for line in first.splitlines()) == 1 + 3 * 2  # header, cells x lrs
    assert "| lstm | 0.1 | 5 |" in first and "no gate" in first and "2-cycle" in first
    assert "epoch 0 | epoch 1 | epoch 2" in second
    assert third.count("| shuffled |") == 3 and third.count("| true |") == 3
    assert (tmp_path / "figures" / "findings_v3_lambda_dynamics.png").stat().st_size > 10_000
    doc = tmp_path / "doc.md"
    doc.write_text("# kept\n<!-- v3-dynamics:begin -->\nold\n<!-- v3-dynamics:end -->\nkept too\n")
    assert module.main([str(runs), "--doc", str(doc)]) == 0
    written = doc.read_text()
    assert written.startswith("# kept\n") and written.endswith("kept too\n") and "old" not in written
    assert "#### Where training ends" in written
