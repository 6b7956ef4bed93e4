"""The results directory: what a sweep writes and what notebooks and ``latchjax plot`` read.

Layout (the contract other tools rely on)::

    DIR/config.json    the fully resolved settings
    DIR/meta.json      package versions, backend and devices, start/end time, compile/run seconds
    DIR/results.npz    every metric array with its axes (exact; what ``plot`` and ``summary`` read)
    DIR/results.csv    one row per model (final epoch)
    DIR/history.csv    one row per model per epoch
    DIR/summary.csv    one row per (cell, length, lr, forget_bias): success frequency, Wilson 95% CI
    DIR/figures/       see :mod:`latchjax.plots`
    DIR/chunks/        while a sweep runs: one ``.npz`` per finished chunk (removed when the sweep ends)
    DIR/.lock          while a sweep runs, until its last figure: held (``flock``) by the process writing DIR

:class:`SweepDir` owns that life cycle (lock first, checks under the lock, chunks, the final files).

Files are written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import itertools
import json
import os
import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latchjax.results import DIMS, SweepResult

MODEL_COLUMNS = ("cell", "flavor", "units", "length", "lr", "forget_bias", "seed")
FINAL_COLUMNS = ("val_acc", "val_loss", "train_acc", "train_loss", "diverged", "success")
SUMMARY_COLUMNS = ("n", "successes", "success_freq", "ci_low", "ci_high", "mean_val_acc", "std_val_acc")


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write to ``path.tmp`` then rename: the file is either absent or whole."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def csv_text(header: tuple[str, ...], rows) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _fmt(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return "nan" if np.isnan(value) else f"{float(value):.6g}"
    return value


def save_result(result: SweepResult, path: Path) -> None:
    """The metric arrays and their coordinates, losslessly, in one ``.npz``."""
    buf = io.BytesIO()
    np.savez_compressed(buf, coords=json.dumps(result.coords), timing=json.dumps(result.timing), **result.metrics)
    atomic_write(path, buf.getvalue())


def _flatten(tree: Any, prefix: str, out: dict) -> None:
    if isinstance(tree, dict):
        for key, value in tree.items():
            _flatten(value, f"{prefix}/{key}", out)
    else:
        out[prefix] = np.asarray(tree)


def save_params(result: SweepResult, path: Path) -> None:
    """Trained parameters as ``cell/length/...`` arrays; the leading axis runs over (lr, forget_bias, seed)
    flattened (forget_bias has one value for cells without a forget-gate bias)."""
    arrays: dict[str, np.ndarray] = {}
    for cell, per_length in result.params.items():
        for length, tree in zip(result.coords["length"], per_length):
            _flatten(tree, f"{cell}/{length}", arrays)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write(path, buf.getvalue())


def _unflatten(arrays: dict[str, np.ndarray]) -> dict:
    """The nested dicts :func:`_flatten` made ``a/b/c`` names of."""
    tree: dict = {}
    for name, value in arrays.items():
        *keys, last = name.split("/")
        node = tree
        for key in keys:
            node = node.setdefault(key, {})
        node[last] = value
    return tree


def load_params(path: Path) -> dict[str, dict[int, dict]]:
    """``params[cell][length]``: the pytree :func:`save_params` wrote."""
    with np.load(path) as data:
        tree = _unflatten({name: data[name] for name in data.files})
    return {cell: {int(length): t for length, t in by_length.items()} for cell, by_length in tree.items()}


class ChunkStore:
    """Finished chunks of a sweep, one ``DIR/chunks/<name>.npz`` each, written atomically.

    Each file carries a SHA-256 digest of its arrays and the ``plan_id`` of the sweep it belongs
    to; a file that is truncated, corrupted or from another plan is reported and ignored, so its
    chunk is trained again.
    """

    def __init__(self, directory: Path, plan_id: str) -> None:
        self.dir = Path(directory)
        self.plan_id = plan_id
        self.dir.mkdir(parents=True, exist_ok=True)

    def path(self, chunk) -> Path:
        return self.dir / f"{chunk.name}.npz"

    @staticmethod
    def _digest(arrays: dict[str, np.ndarray]) -> str:
        h = hashlib.sha256()
        for name in sorted(arrays):
            a = np.ascontiguousarray(arrays[name])
            h.update(name.encode() + str(a.dtype).encode() + str(a.shape).encode() + a.tobytes())
        return h.hexdigest()

    def save(self, chunk, out: dict) -> None:
        arrays: dict[str, np.ndarray] = {}
        _flatten(out, "out", arrays)
        meta = json.dumps({"chunk": chunk.name, "plan_id": self.plan_id, "digest": self._digest(arrays)})
        buf = io.BytesIO()
        np.savez(buf, meta=meta, **arrays)
        atomic_write(self.path(chunk), buf.getvalue())

    def load(self, chunk) -> dict | None:
        path = self.path(chunk)
        if not path.is_file():
            return None
        try:
            with np.load(path) as data:
                meta = json.loads(str(data["meta"]))
                arrays = {k: data[k] for k in data.files if k != "meta"}
            ok = meta.get("chunk") == chunk.name and meta.get("plan_id") == self.plan_id and \
                meta.get("digest") == self._digest(arrays)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            ok = False
        if not ok:
            print(f"latchjax: {path} is damaged or from another sweep; its chunk will be trained again",
                  file=sys.stderr)
            path.unlink(missing_ok=True)
            return None
        return _unflatten(arrays)["out"]

    def finished(self, plan) -> int:
        return sum(self.path(c).is_file() for c in plan)


class RunDirError(ValueError):
    """A results directory that cannot be used as asked (in use, complete, not latchjax's): one line."""


class LockError(RunDirError):
    pass


class RunLock:
    """An exclusive ``flock`` on ``DIR/.lock``, held while a process writes DIR. The kernel drops it
    when the process ends, however it ends (kill -9 included), so a stale lock cannot block a resume."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / ".lock"
        self.file = None

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            f = open(self.path, "a+")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.seek(0)
                holder = f.read().strip() or "another process"
                f.close()
                raise LockError(f"{self.path.parent} is in use by {holder}; wait for it to finish "
                                f"(or stop it) before running or resuming this sweep") from None
            try:  # the holder we waited out may have removed the file we locked: lock the one on disk
                same = os.stat(self.path).st_ino == os.fstat(f.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            f.close()
        f.seek(0)
        f.truncate()
        f.write(f"latchjax pid {os.getpid()} on {os.uname().nodename}\n")
        f.flush()
        self.file = f
        return self

    def release(self) -> None:
        if self.file is not None:
            self.path.unlink(missing_ok=True)
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()
            self.file = None


def check_output_dir(path: Path, force: bool) -> None:
    """Refuse to write into a non-empty ``path`` unless ``force``; create it (commands that are not sweeps)."""
    if path.exists() and not path.is_dir():
        raise RunDirError(f"--out: {path} is a file, not a directory")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise RunDirError(f"--out: {path} exists and is not empty; pass --force to overwrite it")
    path.mkdir(parents=True, exist_ok=True)


class SweepDir:
    """The life of a sweep's results directory, from the lock to the last figure.

    :meth:`create` (a new sweep) and :meth:`resume` take ``DIR/.lock`` *first* and check the directory
    under it; the lock is held until :meth:`close`, after the last file (figures included) is written,
    so a second ``--resume`` is always either refused (in use, or complete) or finds nothing to do.
    Use it as a context manager: the lock is released however the block ends (Ctrl-C included).
    Processes other than the first of a multi-process sweep :meth:`attach` without the lock.
    """

    def __init__(self, path: Path, lock: RunLock | None = None) -> None:
        self.path = Path(path)
        self.lock = lock

    @classmethod
    def create(cls, path: Path, config: dict, force: bool) -> SweepDir:
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise RunDirError(f"--out: {path} is a file, not a directory")
        existing = [p for p in path.iterdir() if p.name != ".lock"] if path.is_dir() else []
        if existing and not force:
            raise RunDirError(f"--out: {path} exists and is not empty; pass --force to overwrite it "
                              f"(or --resume {path} to finish it)")

        def prepare() -> None:
            existing = [p for p in path.iterdir() if p.name != ".lock"]
            if existing and not (path / "config.json").exists():
                raise RunDirError(f"--out: {path} is not a latchjax results directory; refusing to overwrite it")
            for entry in existing:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            atomic_write(path / "config.json", json.dumps(config, indent=2) + "\n")
            (path / "chunks").mkdir()

        return cls._locked(path, prepare)

    @classmethod
    def resume(cls, path: Path) -> SweepDir:
        path = Path(path)
        if not path.is_dir():
            raise RunDirError(f"--resume: {path} is not an unfinished latchjax sweep (no such directory)")

        def check() -> None:
            if (path / "meta.json").is_file():  # written last, when the tables are complete
                raise RunDirError(f"--resume: {path} is already complete")
            if not (path / "config.json").is_file() or not (path / "chunks").is_dir():
                raise RunDirError(f"--resume: {path} is not an unfinished latchjax sweep (no config.json and chunks/)")

        return cls._locked(path, check)

    @classmethod
    def _locked(cls, path: Path, under_lock: Any) -> SweepDir:
        """Take DIR's lock, then run ``under_lock()``; if it fails, release the lock and re-raise."""
        run = cls(path, RunLock(path).acquire())
        try:
            under_lock()
        except BaseException:
            run.close()
            raise
        return run

    @classmethod
    def attach(cls, path: Path) -> SweepDir:
        return cls(path)

    def __enter__(self) -> SweepDir:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self.lock is not None:
            self.lock.release()

    @property
    def config(self) -> dict:
        return json.loads((self.path / "config.json").read_text())

    def chunk_store(self, keys: tuple[str, ...]) -> ChunkStore:
        """The store of finished chunks, bound to this run's plan: the digest of ``config.json``'s ``keys``."""
        config = self.config
        plan_id = hashlib.sha256(json.dumps({k: config[k] for k in keys if k in config},
                                            sort_keys=True).encode()).hexdigest()[:16]
        return ChunkStore(self.path / "chunks", plan_id)

    def finish(self, result: SweepResult, meta: dict, threshold: float, draw: Any = None) -> None:
        """Write results, parameters, tables, ``meta.json`` (the mark of a complete run), remove the chunks,
        then ``draw(figures_dir)``; the lock is still held throughout."""
        save_result(result, self.path / "results.npz")
        save_params(result, self.path / "params.npz")
        write_tables(result, self.config, self.path, threshold)
        atomic_write(self.path / "meta.json", json.dumps(meta, indent=2) + "\n")
        shutil.rmtree(self.path / "chunks", ignore_errors=True)
        if draw is not None:
            draw(self.path / "figures")


def load_result(path: Path) -> SweepResult:
    """The :class:`SweepResult` saved in ``results.npz``. Results saved before ``coords["cell_info"]``
    was recorded get it from their cell names, with the units and flavor of ``config.json`` beside them."""
    path = Path(path)
    with np.load(path) as data:
        coords = json.loads(str(data["coords"]))
        timing = json.loads(str(data["timing"]))
        metrics = {k: data[k] for k in data.files if k not in ("coords", "timing")}
    result = SweepResult(coords, metrics, {}, timing)
    if "cell_info" not in coords:
        config = path.parent / "config.json"
        settings = json.loads(config.read_text()) if config.is_file() else {}
        coords["cell_info"] = result.cell_info(settings.get("units", 1), settings.get("flavor", "keras2"))
    return result


def write_tables(result: SweepResult, settings: dict, out: Path, threshold: float) -> None:
    """``results.csv``, ``history.csv`` and ``summary.csv`` from a result."""
    c = result.coords
    success = result.success(threshold)
    final = {name: result.final(name) for name in ("val_acc", "val_loss", "train_acc", "train_loss")}
    model_rows, history_rows = [], []
    grid = itertools.product(*(range(len(c[d])) for d in DIMS[:-1]))
    cells = result.cell_info(settings["units"], settings["flavor"])
    for idx in grid:
        cell = cells[idx[0]]
        key = [c["cell"][idx[0]], cell["flavor"], cell["units"], c["length"][idx[1]], c["lr"][idx[2]],
               c["forget_bias"][idx[3]], c["seed"][idx[4]]]
        values = [final[n][idx] for n in final] + [result.diverged[idx], success[idx]]
        model_rows.append([_fmt(v) for v in key + values])
        for e, epoch in enumerate(c["epoch"]):
            history_rows.append([_fmt(v) for v in key + [epoch] + [result.metrics[n][idx + (e,)] for n in final]])
    atomic_write(out / "results.csv", csv_text(MODEL_COLUMNS + FINAL_COLUMNS, model_rows))
    atomic_write(out / "history.csv", csv_text(MODEL_COLUMNS + ("epoch", *final), history_rows))
    atomic_write(out / "summary.csv", csv_text(("cell", "length", "lr", "forget_bias") + SUMMARY_COLUMNS,
                                           summary_rows(result, threshold)))


def summary_rows(result: SweepResult, threshold: float) -> list[list]:
    """One row per (cell, length, lr, forget_bias) with success statistics over seeds."""
    c = result.coords
    freq = result.success_frequency(threshold)
    val = result.final("val_acc")
    mean, std = np.nanmean(val, axis=-1), np.nanstd(val, axis=-1)
    rows = []
    for idx in itertools.product(*(range(len(c[d])) for d in DIMS[:4])):
        key = [c["cell"][idx[0]], c["length"][idx[1]], c["lr"][idx[2]], c["forget_bias"][idx[3]]]
        stats = [freq[k][idx] for k in ("n", "successes", "success_freq", "ci_low", "ci_high")] + [mean[idx], std[idx]]
        rows.append([_fmt(v) for v in key + stats])
    return rows


@dataclass
class Run:
    """A saved run, as :func:`load` returns it: tables as pandas DataFrames, plus config and meta."""

    results: Any
    history: Any
    summary: Any
    config: dict
    meta: dict
    path: Path


def load(path: str | os.PathLike) -> Run:
    """Read a results directory into pandas DataFrames (needs ``pip install 'latchjax[notebook]'``)."""
    try:
        import pandas as pd
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("latchjax.load needs pandas: pip install 'latchjax[notebook]'") from err
    path = Path(path)
    tables = {name: pd.read_csv(path / f"{name}.csv") for name in ("results", "history", "summary")}
    for column in ("diverged", "success"):
        tables["results"][column] = tables["results"][column].astype(bool)
    return Run(tables["results"], tables["history"], tables["summary"],
               json.loads((path / "config.json").read_text()), json.loads((path / "meta.json").read_text()), path)


def load_dataset(path: str | os.PathLike):
    """A run's results as an ``xarray.Dataset`` (needs ``pip install 'latchjax[notebook]'``): every metric
    over ``(cell, length, lr, forget_bias, seed, epoch)``, ``diverged`` and ``success`` (with the run's
    threshold), the cells' kind, flavor, units and has_forget_bias as coordinates along ``cell``, and the
    run's scalar settings as attributes. ``path``: the results directory (or its ``results.npz``).

    Example: ``load_dataset(DIR).success.sel(cell="lstm").mean("seed")``.
    """
    path = Path(path)
    npz = path if path.suffix == ".npz" else path / "results.npz"
    if not npz.is_file():
        raise FileNotFoundError(f"{npz}: no results.npz (not a finished latchjax results directory)")
    config_path = npz.parent / "config.json"
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    ds = load_result(npz).to_xarray(config.get("threshold", 0.9))
    ds.attrs.update({k: v for k, v in config.items() if isinstance(v, (str, int, float)) and k != "threshold"})
    ds.attrs["path"] = str(npz.parent)
    return ds


DATA_CAPTIONS = {"shared": "data shared (one dataset per length for all seeds)",
                 "per-seed": "data per seed (each seed its own dataset)"}


def data_caption(config: dict) -> str:
    """How the seeds of a point relate: the data mode, and the head init where it is not the framework's."""
    head = config.get("head_init", "random")
    return DATA_CAPTIONS[config.get("data", "shared")] + ("" if head == "random" else f", head init {head}")


def read_run(path: Path) -> tuple[SweepResult, dict]:
    """A finished run's results and config; one clear line (:class:`RunDirError`) for anything else."""
    if (path / "config.json").is_file() and not (path / "results.npz").is_file() and (path / "chunks").is_dir():
        raise RunDirError(f"{path}: the sweep is not finished; finish it with: latchjax sweep --resume {path}")
    if not (path / "results.npz").is_file() or not (path / "config.json").is_file():
        raise RunDirError(f"{path}: not a latchjax results directory (no results.npz / config.json)")
    return load_result(path / "results.npz"), json.loads((path / "config.json").read_text())


def summary_text(path: Path) -> str:
    """The success table of a finished run, as ``latchjax summary`` prints it."""
    result, config = read_run(path)
    rows = summary_rows(result, config["threshold"])
    varies = [len(result.coords["lr"]) > 1, len(result.coords["forget_bias"]) > 1]
    header = ["cell", "length"] + [n for n, v in zip(("lr", "b_f"), varies) if v] + \
             ["success", "freq", "95% CI", "val acc mean±std"]
    lines = [header]
    for cell, length, lr, fb, n, k, freq, lo, hi, mean, std in rows:
        lines.append([cell, str(length)] + [str(x) for x, v in zip((lr, fb), varies) if v] +
                     [f"{k}/{n}", f"{float(freq):.2f}", f"[{float(lo):.2f}, {float(hi):.2f}]",
                      f"{float(mean):.3f}±{float(std):.3f}"])
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    title = f"{config['preset']}: success = final val acc >= {config['threshold']:g}; {data_caption(config)}"
    return "\n".join([title] + ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in lines])
