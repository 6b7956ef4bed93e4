"""The life of a sweep's results directory, from the lock to the last figure.

Layout (the contract other tools rely on)::

    DIR/config.json    the fully resolved settings
    DIR/meta.json      package versions, backend and devices, start/end time, compile/run seconds
    DIR/results.npz    every metric array with its axes (exact; what ``plot`` and ``summary`` read)
    DIR/results.csv    one row per model (final epoch)
    DIR/history.csv    one row per model per epoch
    DIR/summary.csv    one row per (cell, length, lr, forget_bias): success frequency, Wilson and Clopper-Pearson
                       95% CIs
    DIR/horizons.csv   one row per (cell, lr, forget_bias): memory horizons T50, T90 with 95% bootstrap CIs (runs of
                       at least three lengths)
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
from latchjax.rundir.claim import (
    MARKER,
    REPLACED,
    check_replaceable,
    mark,
    owner,
    prune_empty,
    remove_outputs,
)
from latchjax.rundir.files import atomic_write, damaged, read_json, save_params, save_result
from latchjax.rundir.load import check_config, load_result
from latchjax.rundir.lock import RunDirError, RunLock
from latchjax.rundir.tables import table_texts
from latchjax.rundir.upgrade import upgrade_config
from latchjax.sweep.results import SweepResult
from latchjax.sweep.settings import SETTINGS


def check_output_dir(path: Path, force: bool, command: str) -> list[str]:
    """For the commands that are not sweeps: refuse, before anything is written, an output directory ``command``
    may not write into (:func:`~latchjax.rundir.claim.check_replaceable`); returns the files of the run it
    replaces. Call :func:`open_output_dir` when the results are ready to be written."""
    return check_replaceable(path, command, force)


def open_output_dir(path: Path, command: str) -> Path:
    """Create ``path`` for ``command``'s files, removing those of the run of ``command`` it held (nothing else),
    and mark it as ``command``'s."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    remove_outputs(path, command)
    mark(path, command)
    return path


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
        """A new sweep in ``path``: checked (:func:`~latchjax.rundir.claim.check_replaceable`) before anything is
        written, then again under the lock. A sweep it replaces (``force``) is moved into ``DIR/.replaced/`` and
        removed only when the new one has finished (:meth:`finish`), so an interrupted replacement loses nothing."""
        path = Path(path)
        hint = f" (or --resume {path} to finish it)"
        check_replaceable(path, "sweep", force, hint)

        def prepare() -> None:
            if check_replaceable(path, "sweep", force, hint):
                _set_aside(path)
            mark(path, "sweep")
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
            if owner(path) not in (None, "sweep"):
                raise RunDirError(f"--resume: {path} holds a latchjax {owner(path)} run, not a sweep")
            try:
                written = json.loads((path / "config.json").read_text())
            except (OSError, UnicodeDecodeError, ValueError) as err:
                raise RunDirError(f"--resume: {path / 'config.json'} is damaged: not JSON ({err})") from None
            plan = written.get("plan") if isinstance(written, dict) else None
            if not isinstance(plan, dict) or not {"memory", "chunk_models", "devices"} <= set(plan):
                raise RunDirError(f"--resume: {path / 'config.json'} is damaged: no plan (memory, chunk_models, "
                                  "devices) to resume")

        return cls._locked(path, None, check)

    @classmethod
    def _locked(cls, path: Path, config: dict | None, under_lock: Any) -> SweepDir:
        """Take DIR's lock, run ``under_lock()``, then open the run with ``config`` (``None``: read
        ``config.json``); if anything fails, release the lock and re-raise."""
        try:
            lock = RunLock(path).acquire()
        except OSError as err:  # the directory cannot be made or locked: /proc, a read-only file system, ...
            raise RunDirError(f"--out: cannot write {path}: {err.strerror or err}") from None
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
        if result.snapshots:
            save_params(result, self.path / "snapshots.npz", "snapshots")
        for name, text in table_texts(result, threshold).items():
            atomic_write(self.path / name, text)
        atomic_write(self.path / "meta.json", json.dumps(meta, indent=2) + "\n")
        shutil.rmtree(self.path / "chunks", ignore_errors=True)
        if (self.path / REPLACED).is_dir():  # the run this one replaced: no longer needed
            remove_outputs(self.path / REPLACED, "sweep")
            (self.path / REPLACED / MARKER).unlink(missing_ok=True)
            prune_empty(self.path / REPLACED, self.path)
        if draw is not None:
            draw(self.path / "figures")


def read_run(path: Path) -> tuple[SweepResult, dict]:
    """A finished run's results and config, checked (:func:`read_config`,
    :func:`~latchjax.rundir.load.load_result`); one clear line (:class:`RunDirError`) naming the file for anything
    else: not a run, an unfinished one, a damaged ``config.json`` or ``results.npz``."""
    path = Path(path)
    if (path / "config.json").is_file() and not (path / "results.npz").exists() and (path / "chunks").is_dir():
        raise RunDirError(f"{path}: the sweep is not finished; finish it with: latchjax sweep --resume {path}")
    if not path.is_dir():
        raise RunDirError(f"{path}: not a latchjax results directory ("
                          + ("a file, not a directory)" if path.exists() else "no such directory)"))
    missing = [name for name in ("results.npz", "config.json") if not (path / name).exists()]
    if missing:
        raise RunDirError(f"{path}: not a latchjax results directory (no {' / '.join(missing)})")
    config = read_config(path)
    return load_result(path / "results.npz", config), config


def _set_aside(path: Path) -> None:
    """Before a new sweep starts in ``path``: move the finished run there into ``DIR/.replaced/``. An unfinished
    one, or one beside a run already set aside there, is removed instead (only its own files)."""
    aside = path / REPLACED
    if (path / "meta.json").is_file() and not aside.exists():
        aside.mkdir()
        for entry in path.iterdir():
            if entry.name not in (REPLACED, ".lock"):
                entry.rename(aside / entry.name)
    else:
        remove_outputs(path, "sweep", keep=(REPLACED,))


def read_written(path: Path) -> dict:
    """``DIR/config.json`` as it was written; one line (:class:`RunDirError`) naming it if it is not a JSON
    object (:func:`~latchjax.rundir.files.read_json`)."""
    return read_json(Path(path) / "config.json")


def read_config(path: Path) -> dict:
    """``DIR/config.json``, upgraded to today's settings if an older version wrote it, and checked to hold the
    settings the commands that read a run use (:func:`~latchjax.rundir.load.check_config`)."""
    config_path = Path(path) / "config.json"
    written = read_written(path)
    if not isinstance(written.get("task", ""), str):
        raise damaged(config_path, f"'task' is {json.dumps(written['task'])[:60]}, not a name")
    return check_config(upgrade_config(written), config_path)
