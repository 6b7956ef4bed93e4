"""Every literature cell (:data:`~latchjax.core.cells.kinds.ZOO_KINDS`) through the command line: a sweep of all of
them on the latch and on bit relay trains and writes its tables; the flags that concern them refuse in one line."""

import csv
import math

import pytest

from latchjax.cli import run
from latchjax.core.cells import ZOO_KINDS

pytestmark = pytest.mark.integration  # the command line, end to end

NEW = tuple(ZOO_KINDS)
SHORT = ["--lengths", "3,5,8", "--seeds", "2", "--epochs", "1", "--samples", "64", "--quiet"]


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("task", ["latch", "bit_relay"])
def test_every_new_cell_sweeps_through_the_command_line(tmp_path, task):
    out = tmp_path / task
    assert run(["sweep", "--task", task, "--cells", ",".join(NEW), *SHORT, "--out", str(out)]) == 0
    results = rows(out / "results.csv")
    assert len(results) == len(NEW) * 3 * 2  # cells x lengths x seeds
    # each cell under its name, with its own flavour where it lacks the default keras2
    assert {r["cell"]: r["flavor"] for r in results} == {
        kind: "keras2" if "keras2" in ZOO_KINDS[kind].flavors else ZOO_KINDS[kind].flavors[0] for kind in NEW}
    assert all(math.isfinite(float(r["train_loss"])) for r in results)
    assert len(rows(out / "summary.csv")) == len(NEW) * 3
    assert len(rows(out / "history.csv")) == len(results)  # one epoch


@pytest.mark.parametrize("flags, message", [
    (["--cells", "srnn,cornn", "--flavor", "keras3"], "--flavor: cell cornn has no keras3 form"),
    (["--cells", "mingru,lstm", "--scan", "parallel"], "--scan: parallel is for cells linear in their state"),
])
def test_zoo_flags_refuse_in_one_line_exit_2_nothing_written(tmp_path, capsys, flags, message):
    out = tmp_path / "refused"
    assert run(["sweep", *flags, *SHORT, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert not out.exists()


@pytest.mark.parametrize("optimizer", ["keras_adam", "torch_adam", "sgd"])
def test_every_new_cell_trains_with_every_optimizer(tmp_path, optimizer):
    """Real parameters throughout (complex and orthogonal ones included), so every optimizer the trainer offers
    applies: each cell's loss is finite and moves, nothing diverges."""
    out = tmp_path / optimizer
    assert run(["sweep", "--task", "latch", "--cells", ",".join(NEW), "--lengths", "5", "--seeds", "2",
                "--epochs", "2", "--samples", "64", "--lr", "0.01", "--optimizer", optimizer, "--quiet",
                "--out", str(out)]) == 0
    history = rows(out / "history.csv")
    by_cell = {}
    for r in history:
        by_cell.setdefault(r["cell"], {})[(r["seed"], r["epoch"])] = float(r["train_loss"])
    assert set(by_cell) == set(NEW)
    for cell, losses in by_cell.items():
        assert all(math.isfinite(v) for v in losses.values()), cell
        assert any(losses[(s, "1")] != losses[(s, "2")] for s in ("0", "1")), cell
    assert all(r["diverged"] in ("False", "0", "false") for r in rows(out / "results.csv"))
