"""Damaged runs get one line: a truncated, empty or incomplete ``results.npz`` or ``params.npz``, a ``config.json``
that is not what latchjax wrote, a read-only run, ``figures/`` (or ``diagnostics/``) that is a file. Every command
that reads a run (summary, plot, explain, diagnose, compare) exits 2 with one line naming the damaged file, no
traceback, and leaves the whole tree as it was (files latchjax did not write included): it checks what it reads
and where it writes before it computes, and writes only at the end."""

import hashlib
import io
import json
import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest

from latchjax.cli import run

pytestmark = pytest.mark.integration

SWEEP = ["--cells", "srnn,lstm", "--lengths", "5,9", "--seeds", "2", "--samples", "48", "--epochs", "1", "--quiet"]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """A finished sweep, made once; every test damages a copy."""
    out = tmp_path_factory.mktemp("pristine") / "run"
    assert run(["sweep", *SWEEP, "--out", str(out)]) == 0
    return out


@pytest.fixture
def runs(pristine, tmp_path) -> tuple[Path, Path]:
    """Two copies of the run (``other`` for ``compare DIR_A DIR_B``), beside a file latchjax did not write."""
    (tmp_path / "notes.txt").write_text("mine\n")
    copies = tmp_path / "run", tmp_path / "other"
    for copy in copies:
        shutil.copytree(pristine, copy)
        (copy / "my-notes.txt").write_text("not latchjax's\n")
    yield copies
    for root, dirs, files in os.walk(tmp_path):  # undo read_only, so that the tmp dir can be removed
        for name in [*dirs, *files]:
            path = Path(root) / name
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | stat.S_IWUSR)
    tmp_path.chmod(tmp_path.stat().st_mode | stat.S_IWUSR)


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under ``root``: directories, and files with size, mtime and content hash."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for d in dirs:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = ("dir",)
        for f in files:
            p = Path(dirpath) / f
            st = p.stat()
            out[os.path.relpath(p, root)] = (st.st_size, st.st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
    return out


# ---- damage: each takes the run directory and returns the path the error must name ----------------------------

def _npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def _write_npz(path: Path, arrays: dict) -> None:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    path.write_bytes(buf.getvalue())


def raw(name, change):
    """``DIR/name``'s bytes changed by ``change``."""
    def damage(run: Path, monkeypatch) -> Path:
        (run / name).write_bytes(change((run / name).read_bytes()))
        return run / name
    return damage


def arrays(name, change):
    """The arrays of the archive ``DIR/name`` changed by ``change`` (a dict to a dict)."""
    def damage(run: Path, monkeypatch) -> Path:
        _write_npz(run / name, change(_npz(run / name)))
        return run / name
    return damage


def coords_without(axis):
    def change(arrays):
        coords = json.loads(str(arrays["coords"]))
        del coords[axis]
        return arrays | {"coords": np.array(json.dumps(coords))}
    return change


def config(change):
    """``DIR/config.json`` as the text ``change``, or its settings changed by ``change`` (a dict to a dict)."""
    def damage(run: Path, monkeypatch) -> Path:
        path = run / "config.json"
        path.write_text(json.dumps(change(json.loads(path.read_text())), indent=2) if callable(change) else change)
        return path
    return damage


def in_the_way(name):
    """``DIR/name`` (a directory latchjax writes into) is a file."""
    def damage(run: Path, monkeypatch) -> Path:
        path = run / name
        if path.is_dir():
            shutil.rmtree(path)
        path.write_text("a file where latchjax writes a directory\n")
        return path
    return damage


def a_figure_is_a_directory(run: Path, monkeypatch) -> Path:
    path = run / "figures" / "mean_val_acc.png"
    path.unlink()
    path.mkdir()
    (path / "inside.txt").write_text("x\n")
    return path


def read_only(named):
    """The whole run read-only (``chmod -R a-w``); the error names ``DIR/named`` (the first place the command
    would write). Root writes whatever the modes say, so there latchjax is shown the modes as any user sees them."""
    def damage(run: Path, monkeypatch) -> Path:
        for root, dirs, files in os.walk(run):
            for name in [*dirs, *files]:
                path = Path(root) / name
                path.chmod(path.stat().st_mode & ~0o222)
        run.chmod(run.stat().st_mode & ~0o222)
        if os.geteuid() == 0:
            access = os.access

            def as_a_user(path, mode, *args, **kwargs):
                if mode & os.W_OK and os.path.exists(path) and not os.stat(path).st_mode & stat.S_IWUSR:
                    return False
                return access(path, mode, *args, **kwargs)
            monkeypatch.setattr(os, "access", as_a_user)
        return run / named if named else run
    return damage


def half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def empty(data: bytes) -> bytes:
    return b""


RESULTS = {
    "results.npz truncated": raw("results.npz", half),
    "results.npz empty": raw("results.npz", empty),
    "results.npz not an archive": raw("results.npz", lambda data: b"garbage" * 100),
    "results.npz without val_acc": arrays("results.npz", lambda a: {k: v for k, v in a.items() if k != "val_acc"}),
    "results.npz without diverged": arrays("results.npz", lambda a: {k: v for k, v in a.items() if k != "diverged"}),
    "results.npz without coords": arrays("results.npz", lambda a: {k: v for k, v in a.items() if k != "coords"}),
    "results.npz coords without seed": arrays("results.npz", coords_without("seed")),
    "results.npz coords not JSON": arrays("results.npz", lambda a: a | {"coords": np.array("{nope")}),
    "results.npz val_acc of the wrong shape": arrays("results.npz", lambda a: a | {"val_acc": a["val_acc"][:, :, :, :, :1]}),
    "results.npz diverged of the wrong shape": arrays("results.npz", lambda a: a | {"diverged": a["diverged"][:1]}),
}
CONFIG = {
    "config.json not JSON": config("{not json"),
    "config.json empty": config(""),
    "config.json not an object": config("[1, 2, 3]"),
    "config.json without threshold": config(lambda c: {k: v for k, v in c.items() if k != "threshold"}),
    "config.json without units": config(lambda c: {k: v for k, v in c.items() if k != "units"}),
    "config.json without cells": config(lambda c: {k: v for k, v in c.items() if k != "cells"}),
    "config.json threshold a string": config(lambda c: c | {"threshold": "0.9"}),
    "config.json cells not a list": config(lambda c: c | {"cells": 3}),
}
PARAMS = {
    "params.npz truncated": raw("params.npz", half),
    "params.npz empty": raw("params.npz", empty),
    "params.npz without an array": arrays("params.npz", lambda a: {k: v for k, v in a.items() if k != "lstm/9/cell/bias"}),
    "params.npz without a length": arrays("params.npz", lambda a: {k: v for k, v in a.items() if not k.startswith("srnn/9/")}),
    "params.npz without a cell": arrays("params.npz", lambda a: {k: v for k, v in a.items() if not k.startswith("lstm/")}),
    "params.npz with too few models": arrays("params.npz", lambda a: a | {"srnn/5/head/bias": a["srnn/5/head/bias"][:1]}),
    "params.npz an array of the wrong shape": arrays("params.npz", lambda a: a | {"lstm/5/cell/bias": a["lstm/5/cell/bias"][:, :3]}),
    "params.npz with a stray array": arrays("params.npz", lambda a: a | {"srnn/5/cell/extra": a["srnn/5/cell/bias"]}),
}
SETTINGS = {  # config.json read fine, but it does not rebuild the run explain and diagnose analyse
    "config.json cells not those of results.npz": config(lambda c: c | {"cells": ["srnn"]}),
    "config.json seeds not those of results.npz": config(lambda c: c | {"seeds": 3}),
    "config.json a bad value": config(lambda c: c | {"lr": [-1.0]}),
}


def cases(**groups):
    return [pytest.param(damage, id=name) for group in groups.values() for name, damage in group.items()]


def refused(capsys, root: Path, argv: list[str], named: Path) -> str:
    """Run ``argv``: exit 2, one line naming ``named``, no traceback, and ``root``'s tree as it was."""
    before = snapshot(root)
    assert run([str(a) for a in argv]) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert "Traceback" not in err + captured.out
    assert err.startswith("latchjax: error:") and err.count("\n") == 1, err
    assert str(named) in err, err
    assert snapshot(root) == before
    return err


@pytest.mark.parametrize("damage", cases(results=RESULTS, config=CONFIG))
def test_summary_of_a_damaged_run(runs, tmp_path, capsys, monkeypatch, damage):
    named = damage(runs[0], monkeypatch)
    refused(capsys, tmp_path, ["summary", runs[0]], named)


@pytest.mark.parametrize("damage", cases(results=RESULTS, config=CONFIG, writes={
    "figures is a file": in_the_way("figures"),
    "a figure is a directory": a_figure_is_a_directory,
    "read-only run": read_only("figures"),
}))
def test_plot_of_a_damaged_run(runs, tmp_path, capsys, monkeypatch, damage):
    named = damage(runs[0], monkeypatch)
    refused(capsys, tmp_path, ["plot", runs[0]], named)


@pytest.mark.parametrize("damage", cases(results=RESULTS, config=CONFIG, params=PARAMS, settings=SETTINGS, writes={
    "figures is a file": in_the_way("figures"),
    "explain.csv is a directory": lambda run, mp: (run / "explain.csv").mkdir() or run / "explain.csv",
    "read-only run": read_only(""),
}))
def test_explain_of_a_damaged_run(runs, tmp_path, capsys, monkeypatch, damage):
    named = damage(runs[0], monkeypatch)
    refused(capsys, tmp_path, ["explain", runs[0], "--boots", "10"], named)
    assert not (runs[0] / "explain.csv").is_file() and not (runs[0] / "explain_summary.csv").exists()


@pytest.mark.parametrize("damage", cases(results=RESULTS, config=CONFIG, params=PARAMS, settings=SETTINGS, writes={
    "diagnostics is a file": in_the_way("diagnostics"),
    "read-only run": read_only(""),
}))
def test_diagnose_of_a_damaged_run(runs, tmp_path, capsys, monkeypatch, damage):
    named = damage(runs[0], monkeypatch)
    refused(capsys, tmp_path, ["diagnose", runs[0], "--samples", "8"], named)


@pytest.mark.parametrize("which", ["DIR A B", "DIR_A DIR_B, A damaged", "DIR_A DIR_B, B damaged"])
@pytest.mark.parametrize("damage", cases(results=RESULTS, config=CONFIG))
def test_compare_of_a_damaged_run(runs, tmp_path, capsys, monkeypatch, damage, which):
    a, b = runs
    named = damage(b if which.endswith("B damaged") else a, monkeypatch)
    argv = ["compare", a, "srnn", "lstm"] if which == "DIR A B" else ["compare", a, b]
    refused(capsys, tmp_path, [*argv, "--csv", tmp_path / "table.csv"], named)


@pytest.mark.parametrize("target", ["a directory", "a directory with a file", "in a read-only directory"])
def test_compare_csv_that_cannot_be_written(runs, tmp_path, capsys, monkeypatch, target):
    """``--csv DIR`` (a directory) is refused before anything is read, and leaves no ``DIR.tmp``."""
    where = tmp_path / "out"
    where.mkdir()
    if target == "a directory with a file":
        (where / "kept.txt").write_text("kept\n")
    csv = where
    if target == "in a read-only directory":
        read_only("")(where, monkeypatch)
        csv = where / "table.csv"
    refused(capsys, tmp_path, ["compare", runs[0], "srnn", "lstm", "--csv", csv], where)
    assert not where.with_name("out.tmp").exists()


def test_a_healthy_copy_still_works(runs, capsys):
    """The copies the damage tests start from are read as they are (so each refusal is the damage's)."""
    assert run(["summary", str(runs[0])]) == 0
    assert run(["compare", str(runs[0]), str(runs[1])]) == 0
    assert run(["compare", str(runs[0]), "srnn", "lstm"]) == 0
    assert "srnn" in capsys.readouterr().out
