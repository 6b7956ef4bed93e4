"""The life of a sweep's results directory, from the lock to the last figure.

Layout (the contract other tools rely on)::

    DIR/config.json    the fully resolved settings
    DIR/meta.json      package versions, backend and devices, start/end time, compile/run seconds
    DIR/results.npz    every metric array with its axes (exact; what ``plot`` and ``summary`` read)
    DIR/results.csv    one row per model (final epoch)
    DIR/history.csv    one row per model per epoch
    DIR/summary.csv    one row per (cell, length, lr, forget_bias): success frequency, Wilson 95% CI
    DIR/figures/       see :mod:`latchjax.rundir.plots`
    DIR/chunks/        while a sweep runs: one ``.npz`` per finished chunk (removed when the sweep ends)
    DIR/.lock          while a sweep runs, until its last figure: held (``flock``) by the process writing DIR

:class:`SweepDir` owns that life cycle (lock first, checks under the lock, chunks, the final files).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from latchjax.rundir.chunks import ChunkStore
from latchjax.rundir.files import atomic_write, save_params, save_result
from latchjax.rundir.load import load_result
from latchjax.rundir.lock import RunDirError, RunLock
from latchjax.rundir.tables import table_texts
from latchjax.rundir.upgrade import upgrade_config
from latchjax.sweep.config import SETTINGS
from latchjax.sweep.results import SweepResult


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

    ``config`` is the run's ``config.json``: written once by :meth:`create`, read once by :meth:`resume`.
    """

    def __init__(self, path: Path, written: dict, lock: RunLock | None = None) -> None:
        self.path = Path(path)
        self.config = upgrade_config(written)
        # the plan's id, from config.json as written, so a run started by an older version resumes its own chunks
        self.plan_id = hashlib.sha256(json.dumps({k: written[k] for k in (*SETTINGS, "plan") if k in written},
                                                 sort_keys=True).encode()).hexdigest()[:16]
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

        return cls._locked(path, config, prepare)

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

        return cls._locked(path, None, check)

    @classmethod
    def _locked(cls, path: Path, config: dict | None, under_lock: Any) -> SweepDir:
        """Take DIR's lock, run ``under_lock()``, then open the run with ``config`` (``None``: read
        ``config.json``); if anything fails, release the lock and re-raise."""
        lock = RunLock(path).acquire()
        try:
            under_lock()
            run = cls(path, read_written(path) if config is None else config, lock)
        except BaseException:
            lock.release()
            raise
        return run

    @classmethod
    def attach(cls, path: Path, config: dict | None = None) -> SweepDir:
        """The run directory without its lock (processes after the first): ``config`` as this process resolved
        it, else read from ``config.json``."""
        return cls(path, read_written(path) if config is None else config)

    def __enter__(self) -> SweepDir:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self.lock is not None:
            self.lock.release()

    def chunk_store(self) -> ChunkStore:
        """The store of finished chunks, bound to this run's plan (:attr:`plan_id`)."""
        return ChunkStore(self.path / "chunks", self.plan_id)

    def finish(self, result: SweepResult, meta: dict, threshold: float, draw: Any = None) -> None:
        """Write results, parameters, tables, ``meta.json`` (the mark of a complete run), remove the chunks,
        then ``draw(figures_dir)``; the lock is still held throughout."""
        save_result(result, self.path / "results.npz")
        save_params(result, self.path / "params.npz")
        for name, text in table_texts(result, threshold).items():
            atomic_write(self.path / name, text)
        atomic_write(self.path / "meta.json", json.dumps(meta, indent=2) + "\n")
        shutil.rmtree(self.path / "chunks", ignore_errors=True)
        if draw is not None:
            draw(self.path / "figures")


def read_run(path: Path) -> tuple[SweepResult, dict]:
    """A finished run's results and config; one clear line (:class:`RunDirError`) for anything else."""
    if (path / "config.json").is_file() and not (path / "results.npz").is_file() and (path / "chunks").is_dir():
        raise RunDirError(f"{path}: the sweep is not finished; finish it with: latchjax sweep --resume {path}")
    if not (path / "results.npz").is_file() or not (path / "config.json").is_file():
        raise RunDirError(f"{path}: not a latchjax results directory (no results.npz / config.json)")
    return load_result(path / "results.npz"), read_config(path)


def read_written(path: Path) -> dict:
    """``DIR/config.json`` as it was written."""
    return json.loads((Path(path) / "config.json").read_text())


def read_config(path: Path) -> dict:
    """``DIR/config.json``, upgraded to today's settings if an older version wrote it."""
    return upgrade_config(read_written(path))
