"""The benchmark suite (docs/SUITE.md): its presets, the script that rebuilds the document's tables from runs, and
the notebook that re-plots a suite run, each run end to end on tiny runs."""

import contextlib
import csv
import importlib.util
import io
import json
import os
import re
import sys
from pathlib import Path

import matplotlib
import pytest

from latchjax.cli import run
from latchjax.core.tasks.digits import NOT_SMNIST
from latchjax.sweep.settings import preset_dir, presets

pytestmark = pytest.mark.integration  # tiny sweeps, the script and the notebook end to end

ROOT = Path(__file__).resolve().parent.parent
SUITE = sorted(name for name in presets() if name.startswith("suite/"))
TINY_ONLINE = ["--seeds", "2", "--budget", "64", "--eval-every", "1", "--test-samples", "40", "--quiet"]


def _make_suite():
    spec = importlib.util.spec_from_file_location("make_suite", ROOT / "experiments" / "suite" / "make_suite.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """Two tiny suite runs: H&S adding at three lengths (a timed run with horizons) and the digits by row."""
    runs = tmp_path_factory.mktemp("suite")
    assert run(["sweep", "--preset", "suite/hs97-adding", "--cells", "lstm97", "--lengths", "10,12,14",
                *TINY_ONLINE, "--out", str(runs / "adding")]) == 0
    assert run(["sweep", "--preset", "suite/digits-row", "--cells", "gru", "--seeds", "2", "--epochs", "1",
                "--samples", "100", "--quiet", "--out", str(runs / "digits")]) == 0
    return runs


def test_the_suite_presets_cover_the_issue_s_tasks_and_say_what_they_reduce():
    tasks = {presets()[name]["task"] for name in SUITE}
    assert {"adding", "temporal_order", "two_sequence_3a", "copy", "digits_row", "memory_capacity"} <= tasks
    cells = {cell for name in SUITE for cell in presets()[name]["cells"]}
    assert {"srnn", "lstm", "gru", "lstm97", "cifg", "janet"} <= cells
    for name in SUITE:
        text = (preset_dir() / f"{name}.toml").read_text()
        assert "Reduced for the 2-core CPU" in text and "seeds" in text, name
        if presets()[name]["task"] in ("adding", "temporal_order", "two_sequence_3a"):  # H&S's protocol
            preset = presets()[name]
            assert preset["data"] == "online" and preset["stop_at_success"] and preset["test_samples"] == 2560


def _generated(doc: Path) -> str:
    return re.search(r"<!-- suite:begin -->\n(.*)<!-- suite:end -->", doc.read_text(), re.S).group(1)


def test_make_suite_rebuilds_the_tables_between_the_markers_from_the_runs_alone(tiny_runs, tmp_path):
    doc = tmp_path / "SUITE.md"
    doc.write_text("# kept above\n<!-- suite:begin -->\nan old hand-pasted table\n<!-- suite:end -->\nkept below\n")
    make_suite = _make_suite()
    with contextlib.redirect_stdout(io.StringIO()):
        assert make_suite.main([str(tiny_runs), "--doc", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("# kept above\n") and text.endswith("kept below\n") and "hand-pasted" not in text
    block = _generated(doc)
    # every latchjax row is summary.csv's, at the paper's length (adding: the run's longest, 14; digits: 8)
    for name, length in (("adding", 14), ("digits", 8)):
        with open(tiny_runs / name / "summary.csv") as f:
            for row in csv.DictReader(f):
                if int(row["length"]) == length:
                    k_n = f"{row['successes']}/{row['n']}"
                    wilson = f"[{float(row['ci_low']):.2f}, {float(row['ci_high']):.2f}]"
                    cp = f"[{float(row['cp_low']):.2f}, {float(row['cp_high']):.2f}]"
                    assert f"| {row['cell']} | keras3 | {length} | {k_n} | {wilson} | {cp} |" in block
    assert "74,000" in block and "[src: Tables 7, 10" in block  # the paper's number, with its source
    assert NOT_SMNIST in block  # digits says it is not sequential MNIST
    with open(tiny_runs / "adding" / "horizons.csv") as f:
        assert [row["cell"] for row in csv.DictReader(f)] == ["lstm97"]
    assert re.search(r"\| lstm97 \| keras3 \| [^|]+ \|", block.split("Memory horizons")[1])
    meta = json.loads((tiny_runs / "adding" / "meta.json").read_text())
    assert f"| `adding` | {1 * 3 * 2} | {meta['compile_s']:.0f} | {meta['run_s']:.0f} |" in block
    before = doc.read_text()
    with contextlib.redirect_stdout(io.StringIO()):
        make_suite.main([str(tiny_runs), "--doc", str(doc)])
    assert doc.read_text() == before  # the same runs give the same document


def test_a_digits_run_s_printed_summary_and_figure_titles_say_it_is_not_sequential_mnist(tiny_runs):
    from latchjax.rundir.plots import run_title
    from latchjax.rundir.sweepdir import read_run
    from latchjax.rundir.tables import summary_text

    result, config = read_run(tiny_runs / "digits")
    assert summary_text(result, config).splitlines()[1] == NOT_SMNIST
    assert run_title(config).endswith(NOT_SMNIST)
    result, config = read_run(tiny_runs / "adding")
    assert NOT_SMNIST not in summary_text(result, config) and NOT_SMNIST not in run_title(config)


def test_the_suite_document_has_its_markers_and_a_generated_block():
    doc = ROOT / "docs" / "SUITE.md"
    assert "generated by experiments/suite/make_suite.py" in _generated(doc)


def test_replot_suite_notebook_runs_on_a_suite_run(tiny_runs, monkeypatch):
    monkeypatch.setenv("LATCHJAX_RUN", str(tiny_runs / "adding"))
    matplotlib.use("Agg")
    notebook = json.loads((ROOT / "experiments" / "suite" / "replot_suite.ipynb").read_text())
    scope: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                exec("".join(cell["source"]), scope)
    assert os.fspath(scope["run"].path) == str(tiny_runs / "adding") and scope["timed"]
    assert list(scope["horizons"].cell) == ["lstm97"]
    import matplotlib.pyplot as plt

    plt.close("all")
